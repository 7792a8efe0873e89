"""``neighbourhood refresh``: the population health outputs, rebuilt and switched atomically.

Invariant 4. A refresh writes its outputs to a new file beside the current ones
(``DATA/refresh/vNNNN.duckdb.building``), renames it when complete, and only then
switches ``current.json`` to it with one atomic rename. Readers follow
``current.json``, so they see the old outputs or the new, never a mix. A refresh
killed at any point leaves the previous outputs current; its debris (a
``.building`` file) is cleared by the next run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from neighbourhood.errors import UserError
from neighbourhood.phm import versions
from neighbourhood.phm.codelists import codelists
from neighbourhood.phm.engines import open_source, to_arrow
from neighbourhood.phm.measures import as_of_date, measures
from neighbourhood.phm.risk import fit_and_score
from neighbourhood.phm.versions import Versions
from neighbourhood.phm.vocabulary import COHORTS, SEGMENTS
from neighbourhood.private import owner_only_files

REFRESH_DIR = "refresh"
STAGES = ("measured", *versions.STAGES)
KILL_AT_VARIABLE = versions.KILL_AT_VARIABLE


def refresh_versions(data_dir: Path) -> Versions:
    return Versions(data_dir / REFRESH_DIR, "refresh")


@dataclass
class RefreshReport:
    version: int
    as_of: str
    people: int
    complex_needs: int
    cohorts: dict[str, int]
    segments: dict[str, int]
    risk_auroc: float | None
    baseline_auroc: float | None
    seconds: float
    engine: str = "duckdb"
    timings: dict[str, float] = field(default_factory=dict)
    cost_forecast: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__) | {"seconds": round(self.seconds, 2)}


@owner_only_files
def refresh(
    data_dir: Path,
    as_of: dt.date | None = None,
    seed: int = 1,
    engine: str = "duckdb",
    scratch: Path | None = None,
) -> RefreshReport:
    """Measure everyone on ``engine`` (DuckDB, or Spark in local mode) and switch the
    outputs in; the same input and seed give the same outputs on either engine."""
    began = time.perf_counter()
    outputs = refresh_versions(data_dir)
    with open_source(data_dir, engine, scratch) as wh:
        if wh.table("persons").count().execute() == 0:
            raise UserError("no linked people in the warehouse: run 'neighbourhood link' first")
        as_of = as_of or as_of_date(wh)
        started = time.perf_counter()
        people = _canonical(to_arrow(wh, measures(wh, as_of).order_by("person_id")))
        measured = time.perf_counter() - started
        risk = fit_and_score(wh, as_of, people, seed)
        inputs = _inputs(wh)
    for name in ("risk", "risk_band", "risk_factors", "forecast_cost_12m"):
        people = people.append_column(name, risk.scores.column(name))
    model = risk.metrics
    versions.stage("measured")
    version = outputs.start()
    info = {
        "version": version,
        "as_of": as_of.isoformat(),
        "seed": seed,
        "engine": engine,
        "inputs": inputs,
        "codelists": {name: c.provenance() for name, c in codelists().items()},
        "risk_model": model,
        "people": people.num_rows,
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    outputs.write(version, info, lambda con: _fill(con, people, risk.validation))
    report = _report(version, as_of, people, model, time.perf_counter() - began)
    report.engine = engine
    report.timings = {"measures_seconds": round(measured, 2), **risk.timings}
    return report


def _inputs(wh: Any) -> dict[str, Any]:
    runs = wh.table("link_runs")
    files = wh.table("ingest_files")
    return {
        "link_run": int(runs.run_id.max().execute() or 0),
        "files_ingested": int(files.count().execute()),
        # One digest of every file's SHA-256: the same inputs give the same digest.
        "files_digest": hashlib.sha256(
            "\n".join(sorted(files.sha256.execute().tolist())).encode()
        ).hexdigest(),
    }


def _canonical(people: pa.Table) -> pa.Table:
    """The same column types whichever engine measured (Spark counts in 32 bits, say)."""
    fields = []
    for column in people.schema:
        kind = column.type
        if pa.types.is_integer(kind):
            kind = pa.int64()
        elif pa.types.is_floating(kind):
            kind = pa.float64()
        elif pa.types.is_large_string(kind):
            kind = pa.string()
        fields.append(pa.field(column.name, kind))
    return people.cast(pa.schema(fields))


def _fill(con: duckdb.DuckDBPyConnection, people: pa.Table, validation: pa.Table) -> None:
    con.register("incoming", people)
    con.execute("CREATE TABLE person_measures AS SELECT * FROM incoming")
    con.register("validated", validation)
    con.execute("CREATE TABLE risk_validation AS SELECT * FROM validated")
    con.execute(f"""
        CREATE TABLE case_finding AS
        SELECT neighbourhood, neighbourhood_name,
               row_number() OVER (PARTITION BY neighbourhood ORDER BY cohort_count DESC,
                   risk DESC, person_id) AS rank,
               person_id, age, age_band, sex, imd_decile, imd_quintile,
               reasonable_adjustment, segment, frailty, ltc_count,
               {", ".join(_cohort_columns())},
               risk, risk_band, risk_factors, emergency_admissions_12m,
               ed_attendances_12m, cost_12m, forecast_cost_12m, reasons
        FROM person_measures WHERE complex_needs
    """)


def _cohort_columns() -> list[str]:
    return [f"cohort_{name}" for name in COHORTS]


def current_info(data_dir: Path) -> dict[str, Any] | None:
    return refresh_versions(data_dir).current()


def open_current(data_dir: Path) -> duckdb.DuckDBPyConnection:
    """The current refresh's outputs, read-only: what every reader should use."""
    return refresh_versions(data_dir).open_current("run 'neighbourhood refresh' first")


def _report(
    version: int, as_of: dt.date, people: pa.Table, model: dict[str, Any], seconds: float
) -> RefreshReport:
    counted = pc.value_counts(people.column("segment")).to_pylist()
    segments = {s: 0 for s in SEGMENTS} | {c["values"]: c["counts"] for c in counted}

    def flagged(name: str) -> int:
        return int(pc.sum(people.column(name).cast(pa.int64())).as_py() or 0)

    return RefreshReport(
        version=version,
        as_of=as_of.isoformat(),
        people=people.num_rows,
        complex_needs=flagged("complex_needs"),
        cohorts={name: flagged(f"cohort_{name}") for name in COHORTS},
        segments=segments,
        risk_auroc=model["auroc"],
        baseline_auroc=model["baseline_auroc"],
        seconds=seconds,
        cost_forecast=model.get("cost_forecast", {}),
    )
