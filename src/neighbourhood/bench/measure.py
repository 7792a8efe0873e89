"""Running our own commands in their own processes, for the benchmarks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console

from neighbourhood.errors import UserError
from neighbourhood.warehouse.store import WAREHOUSE_FILE

SPARK_AT_SMALL_SIZES = (
    "Spark's ratio to DuckDB is a target at ICS size; at a neighbourhood it is shown, not "
    "judged: there Spark's fixed costs (starting Java, copying to Parquet, compiling its "
    "first queries) outweigh the work."
)


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
            raise UserError(_failure(args, err.read().decode("utf-8", "replace")))
        figures: dict[str, Any] = json.loads(out.read())
    return figures, seconds, usage.ru_maxrss / 1024


def _failure(args: list[str], stderr: str) -> str:
    """What a failed run said: its last lines here, and all of it kept in a file, since a
    Java or Python trace ends far from where it began."""
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", prefix=f"neighbourhood-{args[0]}-", suffix=".log", delete=False
    ) as kept:
        kept.write(stderr)
    tail = stderr.strip()[-300:]
    return f"'neighbourhood {' '.join(args)}' failed: {tail}\n(its whole error output is in {kept.name})"


def manifest_people(data: Path, needs: tuple[Path, ...], missing: str) -> int:
    """How many people synth made for ``data`` (given with ``--from``), once the paths a
    benchmark ``needs`` are there; ``missing`` says what to do when they are not."""
    manifest = data / "extracts" / "manifest.json"
    if not manifest.exists() or not all(path.exists() for path in needs):
        raise UserError(f"--from {data}: {missing}")
    return int(json.loads(manifest.read_text(encoding="utf-8"))["people"])


def ingested_people(data: Path) -> int:
    """``manifest_people`` for a ``--from`` that needs a warehouse ingest has filled."""
    return manifest_people(
        data,
        (data / WAREHOUSE_FILE,),
        "not a data directory synth wrote and ingest filled "
        "(it needs extracts/manifest.json and warehouse.duckdb)",
    )


def run_json(args: list[str]) -> dict[str, Any]:
    """Run ``neighbourhood ARGS --json`` in its own process and return its figures."""
    return run_measured(args)[0]


def engine_sizes(sizes: str, spark_sizes: str) -> tuple[list[int], set[int]]:
    """``--sizes`` and the subset of them ``--spark-sizes`` also runs on Spark."""
    people_sizes = parse_sizes(sizes)
    on_spark = set(parse_sizes(spark_sizes)) if spark_sizes.strip() else set()
    unknown = on_spark - set(people_sizes)
    if unknown:
        raise UserError(f"--spark-sizes {sorted(unknown)} are not among --sizes {sizes}")
    return people_sizes, on_spark


Column = tuple[str, Callable[[dict[str, Any]], str]]
ENGINE_COLUMNS: tuple[Column, ...] = (
    ("people", lambda r: f"{r['people']:,}"),
    ("engine", lambda r: str(r["engine"])),
)
VERDICT_COLUMNS: tuple[Column, ...] = (
    ("peak MB", lambda r: f"{r['peak_memory_mb']:,}"),
    ("× DuckDB", lambda r: "" if r["times_duckdb"] is None else f"{r['times_duckdb']:.1f}"),
    ("met", lambda r: "yes" if r["met"] else "NO"),
)


def print_engine_results(
    console: Console,
    title: str,
    figures: tuple[Column, ...],
    results: list[dict[str, Any]],
    targets: str,
) -> None:
    """One row per size and engine: who, the benchmark's own figures, memory and verdict."""
    from rich.table import Table

    columns = (*ENGINE_COLUMNS, *figures, *VERDICT_COLUMNS)
    table = Table(title=title)
    for name, _ in columns:
        table.add_column(name, justify="right")
    for r in results:
        if "failed" in r:
            table.add_row(f"{r['people']:,}", r["engine"], "failed: " + r["failed"][-120:])
            continue
        table.add_row(*(shown(r) for _, shown in columns))
    console.print(table)
    console.print(targets)


def figure(value: float | None) -> str:
    """A measured share to four places, or a dash where there is none."""
    return "–" if value is None else f"{value:.4f}"
