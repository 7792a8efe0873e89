"""Running ``neighbourhood`` as a user would, in its own process, free of the test run's
Django settings and of any NEIGHBOURHOOD_* variable the developer has set."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TEST_ONLY = ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("NEIGHBOURHOOD_") and k not in TEST_ONLY
    }
    return env | extra


def run(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """The command line in its own process, with the test run's environment and a wide
    terminal, under a timeout a hang would overrun."""
    return subprocess.run(
        [sys.executable, "-m", "neighbourhood.cli.app", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        timeout=timeout,
        check=False,
    )


def neighbourhood(
    *args: str, timeout: float = 300, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "neighbourhood.cli.app", *args],
        capture_output=True,
        text=True,
        env=clean_env(**extra_env),
        check=False,
        timeout=timeout,
    )


@dataclass
class Demo:
    data: Path
    figures: dict[str, Any]


def run_demo(data: Path, people: int) -> Demo:
    """``neighbourhood demo --json --no-serve`` into ``data``: its directory and figures."""
    done = run("demo", "--people", str(people), "--data", str(data), "--json", "--no-serve")
    assert done.returncode == 0, done.stderr
    return Demo(data, json.loads(done.stdout))
