"""Running our own commands in their own processes, for the benchmarks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

from neighbourhood.errors import UserError


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError as error:
        raise UserError(
            f"--sizes should be numbers separated by commas, e.g. 50000,2000000 (got '{text}')"
        ) from error
    if not sizes or min(sizes) < 1:
        raise UserError(f"--sizes should be positive numbers (got '{text}')")
    return sizes


def run_measured(args: list[str]) -> tuple[dict[str, Any], float, float]:
    """Run one command in its own process: its JSON, wall seconds and peak memory (MB,
    the largest of the process and the children it waited for, e.g. Spark's JVM)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        began = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "neighbourhood.cli.app", *args, "--json"],
            stdout=out,
            stderr=err,
        )
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - began
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            tail = err.read().decode("utf-8", "replace").strip()[-300:]
            raise UserError(f"'neighbourhood {args[0]}' failed: {tail}")
        figures: dict[str, Any] = json.loads(out.read())
    return figures, seconds, usage.ru_maxrss / 1024


def run_json(args: list[str]) -> dict[str, Any]:
    """Run ``neighbourhood ARGS --json`` in its own process and return its figures."""
    return run_measured(args)[0]
