"""``neighbourhood bench synth``: synth at neighbourhood and ICS size, people per second
and peak memory, beside Synthea's published rate. Each size runs in a fresh process, so
its peak memory is its own."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from rich.table import Table

from neighbourhood.bench.measure import run_json

NEIGHBOURHOOD = 50_000
ICS = 2_000_000
# Targets of issue 3, on a 2-core machine.
TARGET_SECONDS = {NEIGHBOURHOOD: 20.0, ICS: 600.0}
TARGET_MEMORY_MB = 4_096
SYNTHEA_PATIENTS_PER_SECOND = 441  # reported, 8 vCPU


def run(*, sizes: list[int], workers: int, scratch: Path | None) -> dict[str, Any]:
    """Time ``synth`` at each size."""
    results = []
    with tempfile.TemporaryDirectory(dir=scratch) as tmp:
        for n in sizes:
            figures = _time_synth(n, workers, Path(tmp) / f"ics-{n}")
            results.append(_verdict(n, figures))
    return {"benchmark": "synth", "results": results}


def table(payload: dict[str, Any]) -> Table:
    shown = Table(title="neighbourhood bench synth")
    for column in ("people", "seconds", "people/s", "× Synthea", "peak MB", "target", "met"):
        shown.add_column(column, justify="right")
    for r in payload["results"]:
        shown.add_row(
            f"{r['people']:,}",
            f"{r['seconds']:.1f}",
            f"{r['people_per_second']:,}",
            f"{r['versus_synthea']:.1f}",
            f"{r['peak_memory_mb']:,}",
            f"< {r['target_seconds']:.0f} s, < {TARGET_MEMORY_MB:,} MB",
            "yes" if r["met"] else "NO",
        )
    return shown


def _time_synth(people: int, workers: int, where: Path) -> dict[str, Any]:
    args = ["synth", "--people", str(people), "--seed", "1", "--data", str(where)]
    return run_json(args + (["--workers", str(workers)] if workers else []))


def _verdict(people: int, figures: dict[str, Any]) -> dict[str, Any]:
    target = TARGET_SECONDS.get(people, people / 3_000)
    rate = figures["people_per_second"]
    return {
        "people": people,
        "seconds": figures["seconds"],
        "people_per_second": rate,
        "versus_synthea": round(rate / SYNTHEA_PATIENTS_PER_SECOND, 2),
        "peak_memory_mb": figures["peak_memory_mb"],
        "target_seconds": target,
        "met": figures["seconds"] < target and figures["peak_memory_mb"] < TARGET_MEMORY_MB,
    }
