"""'neighbourhood bench web' end to end, briefly: real PostgreSQL, real gunicorn, real locust."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_bench_web_measures_every_endpoint_and_loses_no_update(published_dir: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "neighbourhood.cli.app",
            "bench",
            "web",
            "--sizes",
            "1200",
            "--from",
            str(published_dir),
            "--users",
            "4",
            "--seconds",
            "6",
            "--workers",
            "2",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    (result,) = json.loads(done.stdout)["results"]
    assert "failed" not in result, result
    assert set(result["endpoints"]) >= {"case-finding list", "person profile", "enrol"}
    assert result["requests"] > 20
    assert result["errors"] == 0, result["failures"]
    assert result["lost_updates"] == 0
    assert result["enrolments_acknowledged"] + result["notes_acknowledged"] > 0
    assert result["p95_ms"] >= result["p50_ms"] > 0
