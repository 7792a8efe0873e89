"""'neighbourhood bench fhir' end to end, briefly: real PostgreSQL, real gunicorn, a
partner's token, four phases, and every acknowledged write found afterwards."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.commands import neighbourhood


@pytest.mark.slow
def test_bench_fhir_reads_searches_and_writes_and_loses_nothing(published_dir: Path) -> None:
    done = neighbourhood(
        "bench",
        "fhir",
        "--sizes",
        "1200",
        "--from",
        str(published_dir),
        "--seconds",
        "4",
        "--readers",
        "2",
        "--workers",
        "2",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    (result,) = json.loads(done.stdout)["results"]
    assert "failed" not in result, result
    assert {k: result["seeded"][k] for k in ("plans", "tasks")} == {"plans": 60, "tasks": 300}
    phases = result["phases"]
    assert set(phases) == {"FHIR read", "page read", "FHIR search", "FHIR write"}
    for name, figures in phases.items():
        assert figures["requests"] > 5, name
        assert figures["errors"] == 0, name
        assert 0 < figures["p50_ms"] <= figures["p95_ms"], name
    assert result["acknowledged_updates"] > 0 and result["acknowledged_creates"] > 0
    assert result["lost_updates"] == 0 and result["duplicated_creates"] == 0
