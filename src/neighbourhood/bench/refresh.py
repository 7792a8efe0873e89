"""``neighbourhood bench refresh``: the refresh at neighbourhood and ICS size, DuckDB
beside Spark, each in its own process with its own peak memory.

Each size is synthesised, ingested and linked first (not timed), or taken from a data
directory already linked (``--from``, read through links, never changed).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console

from neighbourhood.bench.measure import (
    SPARK_AT_SMALL_SIZES,
    Column,
    ingested_people,
    print_engine_results,
    run_measured,
)
from neighbourhood.errors import UserError

NEIGHBOURHOOD = 50_000
ICS = 2_000_000
TARGET_ICS_SECONDS = 180.0  # model training included
TARGET_SCORING_SECONDS = 60.0
TARGET_MEMORY_MB = 8 * 1024
TARGET_SPARK_RATIO = 5.0


def run(
    *, sizes: list[int], on_spark: list[int], reuse: list[Path], scratch: Path | None
) -> dict[str, Any]:
    """Time ``refresh`` (measures, risk model training and scoring) at each size, on
    DuckDB and, for the sizes in ``on_spark``, on Spark in local mode."""
    people_sizes = sizes
    prepared = {ingested_people(d): d for d in reuse}
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(dir=scratch) as tmp:
        for people in people_sizes:
            data = Path(tmp) / f"ics-{people}"
            try:
                _prepare(people, data, prepared.get(people))
            except UserError as error:
                results.append({"people": people, "engine": "-", "failed": str(error)})
                continue
            engines = ["duckdb", "spark"] if people in on_spark else ["duckdb"]
            duckdb_seconds = None
            for engine in engines:
                row = _time(people, data, engine, duckdb_seconds)
                if engine == "duckdb" and "seconds" in row:
                    duckdb_seconds = row["seconds"]
                results.append(row)
    return {"benchmark": "refresh", "results": results}


def show(payload: dict[str, Any], console: Console) -> None:
    _print(payload["results"], console)


def _prepare(people: int, data: Path, reuse: Path | None) -> None:
    if reuse is not None:
        data.mkdir(parents=True)
        for name in ("warehouse.duckdb", "extracts", "sources.toml"):
            (data / name).symlink_to((reuse / name).resolve())
        return
    run_measured(["synth", "--people", str(people), "--seed", "1", "--data", str(data)])
    run_measured(["ingest", "--data", str(data)])
    run_measured(["link", "--data", str(data)])


def _time(people: int, data: Path, engine: str, duckdb_seconds: float | None) -> dict[str, Any]:
    try:
        figures, seconds, peak = run_measured(["refresh", "--data", str(data), "--engine", engine])
    except UserError as error:
        return {"people": people, "engine": engine, "failed": str(error), "met": False}
    timings = figures.get("timings", {})
    ratio = None if duckdb_seconds is None else seconds / duckdb_seconds
    met = peak < TARGET_MEMORY_MB
    if people >= ICS and engine == "duckdb":
        met = met and seconds < TARGET_ICS_SECONDS
        met = met and timings.get("scoring_seconds", 0) < TARGET_SCORING_SECONDS
    if ratio is not None and people >= ICS:  # a target at ICS size (see the footnote)
        met = met and ratio <= TARGET_SPARK_RATIO
    return {
        "people": people,
        "engine": engine,
        "persons": figures["people"],
        "seconds": round(seconds, 1),
        "people_per_second": round(figures["people"] / seconds),
        **timings,
        "risk_auroc": figures.get("risk_auroc"),
        "peak_memory_mb": round(peak),
        "times_duckdb": None if ratio is None else round(ratio, 2),
        "met": met,
    }


def _print(results: list[dict[str, Any]], console: Console) -> None:
    figures: tuple[Column, ...] = (
        ("seconds", lambda r: f"{r['seconds']:.1f}"),
        ("measures s", lambda r: f"{r.get('measures_seconds', 0):.1f}"),
        ("training s", lambda r: f"{r.get('training_seconds', 0):.1f}"),
        ("scoring s", lambda r: f"{r.get('scoring_seconds', 0):.1f}"),
        ("AUROC", lambda r: str(r["risk_auroc"])),
    )
    print_engine_results(
        console,
        "neighbourhood bench refresh",
        figures,
        results,
        f"Targets, for the {ICS:,}-person ICS: DuckDB in < {TARGET_ICS_SECONDS:.0f} s with "
        f"training (scoring < {TARGET_SCORING_SECONDS:.0f} s), peak < {TARGET_MEMORY_MB:,} MB, "
        f"Spark within {TARGET_SPARK_RATIO:.0f}× DuckDB. {SPARK_AT_SMALL_SIZES}",
    )
