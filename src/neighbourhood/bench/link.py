"""``neighbourhood bench link``: linkage at neighbourhood and ICS size, DuckDB beside Spark.

Linkage works on person-level records only, so the benchmark loads only those
(Patients and people files; Bundles keep their Patient entries): the extracts are
trimmed in the scratch directory before ingest, and ingest is not timed.
"""

from __future__ import annotations

import gzip
import os
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import orjson
from rich.console import Console

from neighbourhood.bench.measure import (
    SPARK_AT_SMALL_SIZES,
    Column,
    figure,
    ingested_people,
    print_engine_results,
    run_measured,
)
from neighbourhood.errors import UserError
from neighbourhood.warehouse.store import WAREHOUSE_FILE

NEIGHBOURHOOD = 50_000
ICS = 2_000_000
TARGET_ICS_SECONDS = 600.0
TARGET_MEMORY_MB = 12 * 1024
TARGET_COMPARISONS_PER_RECORD = 25.0
TARGET_SPARK_RATIO = 5.0
# Splink's published run: 7 million records deduplicated in 975 s on 8 vCPU.
SPLINK_PUBLISHED_RECORDS_PER_SECOND = 7_000_000 / 975


def run(
    *, sizes: list[int], on_spark: list[int], reuse: list[Path], scratch: Path | None
) -> dict[str, Any]:
    """Time ``link`` at each size: records/s, comparisons, time, memory.

    Each run is its own process, so its peak memory is its own; Spark runs after
    DuckDB on the same warehouse, so both link the same records.
    """
    people_sizes = sizes
    prepared = {_people_of(d): d for d in reuse}
    results = []
    with tempfile.TemporaryDirectory(dir=scratch) as tmp:
        for people in people_sizes:
            data = Path(tmp) / f"ics-{people}"
            _prepare(people, data, prepared.get(people))
            results.extend(_bench_size(people, data, people in on_spark))
    return {"benchmark": "link", "results": results}


def show(payload: dict[str, Any], console: Console) -> None:
    _print(payload["results"], console)


def _people_of(data: Path) -> int:
    people = ingested_people(data)
    with duckdb.connect(str(data / WAREHOUSE_FILE), read_only=True) as con:
        tables = {row[0] for row in con.execute("SHOW TABLES").fetchall()}
        linked = "link_runs" in tables and con.execute("FROM link_runs LIMIT 1").fetchone()
    if linked:
        raise UserError(
            f"--from {data}: it has been linked already, so a run would time re-linking; "
            "give a directory ingest filled and link has not touched"
        )
    return people


def _prepare(people: int, data: Path, reuse: Path | None) -> None:
    """Records to link: a copy of a given warehouse, or synth's people, ingested."""
    if reuse is not None:
        data.mkdir(parents=True)
        shutil.copyfile(reuse / WAREHOUSE_FILE, data / WAREHOUSE_FILE)
        for name in ("extracts", "sources.toml", "truth"):
            if (reuse / name).exists():
                (data / name).symlink_to((reuse / name).resolve())
        return
    run_measured(["synth", "--people", str(people), "--seed", "1", "--data", str(data)])
    _people_only(data)
    run_measured(["ingest", "--data", str(data)])


def _bench_size(people: int, data: Path, spark: bool) -> list[dict[str, Any]]:
    rows = []
    try:
        duck, seconds, peak = run_measured(["link", "--data", str(data)])
    except UserError as error:  # a failure at one size is a figure too; the others stand
        return [{"people": people, "engine": "duckdb", "failed": str(error), "met": False}]
    rows.append(_row(people, "duckdb", duck["link"], seconds, peak, None) | _accuracy(data))
    if spark:
        figures, spark_seconds, spark_peak = run_measured(
            ["link", "--data", str(data), "--engine", "spark"]
        )
        rows.append(
            _row(people, "spark", figures["link"], spark_seconds, spark_peak, seconds)
            | _accuracy(data)
        )
    return rows


def _accuracy(data: Path) -> dict[str, Any]:
    """F1 and blocking recall of the run just timed, so speed is never bought with accuracy
    (measured after the clock stops, against synth's truth)."""
    from neighbourhood.linkage.evaluate import evaluate

    if not (data / "truth").exists():
        return {"f1": None, "blocking_recall": None, "lowest_group_f1": None}
    overall = (result := evaluate(data, data / "truth"))["overall"]
    return {
        "f1": overall["f1"],
        "blocking_recall": overall["blocking_recall"],
        "lowest_group_f1": result["lowest_group_f1"],
    }


def _row(
    people: int,
    engine: str,
    link: dict[str, Any],
    seconds: float,
    peak_mb: float,
    duckdb_seconds: float | None,
) -> dict[str, Any]:
    per_record = link["comparisons"] / max(link["records"], 1)
    ratio = None if duckdb_seconds is None else seconds / duckdb_seconds
    met = peak_mb < TARGET_MEMORY_MB and per_record < TARGET_COMPARISONS_PER_RECORD
    if people >= ICS and engine == "duckdb":
        met = met and seconds < TARGET_ICS_SECONDS
    if ratio is not None and people >= ICS:  # a target at ICS size (see the footnote)
        met = met and ratio <= TARGET_SPARK_RATIO
    return {
        "people": people,
        "engine": engine,
        "records": link["records"],
        "persons": link["persons"],
        "comparisons": link["comparisons"],
        "comparisons_per_record": round(per_record, 2),
        "seconds": round(seconds, 1),
        "records_per_second": round(link["records"] / seconds),
        "peak_memory_mb": round(peak_mb),
        "times_duckdb": None if ratio is None else round(ratio, 2),
        "met": met,
        "steps": link.get("steps", {}),  # seconds, step by step: where an engine is slow
    }


def _print(results: list[dict[str, Any]], console: Console) -> None:
    figures: tuple[Column, ...] = (
        ("records", lambda r: f"{r['records']:,}"),
        ("comparisons", lambda r: f"{r['comparisons']:,}"),
        ("per record", lambda r: f"{r['comparisons_per_record']:.1f}"),
        ("seconds", lambda r: f"{r['seconds']:.1f}"),
        ("records/s", lambda r: f"{r['records_per_second']:,}"),
        ("F1", lambda r: figure(r.get("f1"))),
        ("lowest group F1", lambda r: figure(r.get("lowest_group_f1"))),
        ("blocking recall", lambda r: figure(r.get("blocking_recall"))),
    )
    print_engine_results(
        console,
        "neighbourhood bench link",
        figures,
        results,
        f"Targets, for the {ICS:,}-person ICS: DuckDB in < {TARGET_ICS_SECONDS:.0f} s; "
        f"peak < {TARGET_MEMORY_MB:,} MB; < {TARGET_COMPARISONS_PER_RECORD:.0f} comparisons a "
        f"record; Spark within {TARGET_SPARK_RATIO:.0f}× DuckDB. For scale, Splink's "
        f"published run: {SPLINK_PUBLISHED_RECORDS_PER_SECOND:,.0f} records/s on 8 vCPU. "
        f"{SPARK_AT_SMALL_SIZES}",
    )


def _people_only(data: Path) -> None:
    """Keep the person-level records: event files go, Bundles keep their Patients."""
    from neighbourhood import registry

    bundles: list[Path] = []
    for source in registry.load(data):
        where = source.location(data)
        if source.csv is not None:
            if source.csv.has_events:
                _keep_header(where / source.csv.events_file)
        elif source.format == "fhir-ndjson":
            for path in where.iterdir():
                if not path.name.startswith("Patient."):
                    path.unlink()
        elif source.format == "fhir-bundle":
            bundles.extend(sorted(where.iterdir()))
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        list(pool.map(_patients_only, bundles))


def _keep_header(path: Path) -> None:
    with path.open("rb") as stream:
        header = stream.readline()
    path.write_bytes(header)


def _patients_only(path: Path) -> None:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as stream:
        bundle = orjson.loads(stream.read())
    bundle["entry"] = [
        e for e in bundle.get("entry") or [] if e["resource"]["resourceType"] == "Patient"
    ]
    with opener(path, "wb") as stream:
        stream.write(orjson.dumps(bundle))
