"""``neighbourhood bench``: measured speed, printed side by side in one run."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from neighbourhood.cli.output import console, print_json
from neighbourhood.errors import UserError

app = typer.Typer(help="Benchmarks: figures and ratios measured in one run.", no_args_is_help=True)

NEIGHBOURHOOD = 50_000
ICS = 2_000_000
# Targets of issue 3, on a 2-core machine.
TARGET_SECONDS = {NEIGHBOURHOOD: 20.0, ICS: 600.0}
TARGET_MEMORY_MB = 4_096
SYNTHEA_PATIENTS_PER_SECOND = 441  # reported, 8 vCPU


def _parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError as error:
        raise UserError(
            f"--sizes should be numbers separated by commas, e.g. 50000,2000000 (got '{text}')"
        ) from error
    if not sizes or min(sizes) < 1:
        raise UserError(f"--sizes should be positive numbers (got '{text}')")
    return sizes


@app.command("synth")
def bench_synth(
    sizes: Annotated[
        str, typer.Option("--sizes", help="Populations to time, comma-separated.")
    ] = f"{NEIGHBOURHOOD},{ICS}",
    workers: Annotated[
        int, typer.Option("--workers", help="Worker processes (default: one per core).", min=0)
    ] = 0,
    scratch: Annotated[
        Path | None,
        typer.Option(
            "--scratch",
            help="Where to write (default: a temporary directory, removed after).",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the figures as one JSON object.")
    ] = False,
) -> None:
    """Time `synth` at neighbourhood and ICS size: people per second and peak memory.

    Each size runs in a fresh process, so its peak memory is its own.
    """
    results = []
    with tempfile.TemporaryDirectory(dir=scratch) as tmp:
        for n in _parse_sizes(sizes):
            figures = _time_synth(n, workers, Path(tmp) / f"ics-{n}")
            results.append(_verdict(n, figures))
    payload = {"benchmark": "synth", "results": results}
    if as_json:
        print_json(payload)
        return
    from rich.table import Table

    table = Table(title="neighbourhood bench synth")
    for column in ("people", "seconds", "people/s", "× Synthea", "peak MB", "target", "met"):
        table.add_column(column, justify="right")
    for r in results:
        table.add_row(
            f"{r['people']:,}",
            f"{r['seconds']:.1f}",
            f"{r['people_per_second']:,}",
            f"{r['versus_synthea']:.1f}",
            f"{r['peak_memory_mb']:,}",
            f"< {r['target_seconds']:.0f} s, < {TARGET_MEMORY_MB:,} MB",
            "yes" if r["met"] else "NO",
        )
    console.print(table)


def _time_synth(people: int, workers: int, where: Path) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "neighbourhood.cli.app",
        "synth",
        "--people",
        str(people),
        "--seed",
        "1",
        "--out",
        str(where / "extracts"),
        "--truth",
        str(where / "truth"),
        "--json",
    ]
    if workers:
        command += ["--workers", str(workers)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise UserError(f"synth of {people:,} people failed: {done.stderr.strip()[-300:]}")
    figures: dict[str, Any] = json.loads(done.stdout)
    return figures


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
