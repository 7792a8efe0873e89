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
import json
import os
import re
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from neighbourhood.errors import UserError
from neighbourhood.phm.codelists import codelists
from neighbourhood.phm.measures import COHORTS, SEGMENTS, as_of_date, measures
from neighbourhood.phm.risk import fit_and_score
from neighbourhood.warehouse import open_warehouse

REFRESH_DIR = "refresh"
POINTER = "current.json"
KEEP = 3  # versions kept on disk: the current one and two before it
STAGES = ("measured", "written", "renamed", "switched")
# Fault injection for tests of atomicity: the process kills itself at this stage.
KILL_AT_VARIABLE = "NEIGHBOURHOOD_REFRESH_KILL_AT"


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

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__) | {"seconds": round(self.seconds, 2)}


def refresh(data_dir: Path, as_of: dt.date | None = None, seed: int = 1) -> RefreshReport:
    began = time.perf_counter()
    folder = data_dir / REFRESH_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for debris in folder.glob("*.building*"):
        debris.unlink()  # a refresh that was killed: never current, safe to remove
    wh = open_warehouse(data_dir, read_only=True)
    try:
        if wh.table("persons").count().execute() == 0:
            raise UserError("no linked people in the warehouse: run 'neighbourhood link' first")
        as_of = as_of or as_of_date(wh)
        people = measures(wh, as_of).order_by("person_id").to_pyarrow()
        risk = fit_and_score(wh, as_of, people, seed)
        inputs = _inputs(wh)
    finally:
        wh.close()
    for name in ("risk", "risk_band", "risk_factors"):
        people = people.append_column(name, risk.scores.column(name))
    model = risk.metrics
    _stage("measured")
    version = _next_version(folder)
    final = folder / f"v{version:04d}.duckdb"
    building = final.with_name(final.name + ".building")
    info = {
        "version": version,
        "as_of": as_of.isoformat(),
        "seed": seed,
        "inputs": inputs,
        "codelists": {name: c.provenance() for name, c in codelists().items()},
        "risk_model": model,
        "people": people.num_rows,
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    _write(building, people, info)
    _stage("written")
    building.replace(final)
    _fsync_dir(folder)
    _stage("renamed")
    _switch(folder, info | {"file": final.name})
    _stage("switched")
    _prune(folder, version)
    return _report(version, as_of, people, model, time.perf_counter() - began)


def _stage(name: str) -> None:
    if os.environ.get(KILL_AT_VARIABLE) == name:
        os.kill(os.getpid(), signal.SIGKILL)


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


def _next_version(folder: Path) -> int:
    found = [
        int(m.group(1)) for p in folder.iterdir() if (m := re.match(r"v(\d+)\.duckdb", p.name))
    ]
    current = current_info(folder.parent)
    return max([*found, current["version"] if current else 0]) + 1


def _write(path: Path, people: pa.Table, info: dict[str, Any]) -> None:
    with duckdb.connect(str(path)) as con:
        con.register("incoming", people)
        con.execute("CREATE TABLE person_measures AS SELECT * FROM incoming")
        con.execute(f"""
            CREATE TABLE case_finding AS
            SELECT neighbourhood, neighbourhood_name,
                   row_number() OVER (PARTITION BY neighbourhood ORDER BY cohort_count DESC,
                       risk DESC, person_id) AS rank,
                   person_id, segment, frailty, ltc_count, {", ".join(_cohort_columns())},
                   risk, risk_band, risk_factors, emergency_admissions_12m,
                   ed_attendances_12m, cost_12m, reasons
            FROM person_measures WHERE complex_needs
        """)
        con.execute("CREATE TABLE refresh_info (info JSON)")
        con.execute("INSERT INTO refresh_info VALUES (?)", [json.dumps(info)])
        con.execute("CHECKPOINT")
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _cohort_columns() -> list[str]:
    return [f"cohort_{name}" for name in COHORTS]


def _switch(folder: Path, info: dict[str, Any]) -> None:
    pointer = folder / POINTER
    incoming = folder / (POINTER + ".building")
    incoming.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    with incoming.open("rb") as handle:
        os.fsync(handle.fileno())
    incoming.replace(pointer)  # the one step that makes the new outputs current
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _prune(folder: Path, current: int) -> None:
    for path in folder.glob("v*.duckdb"):
        match = re.match(r"v(\d+)\.duckdb$", path.name)
        if match and int(match.group(1)) <= current - KEEP:
            path.unlink(missing_ok=True)  # readers with it open keep reading it


def current_info(data_dir: Path) -> dict[str, Any] | None:
    pointer = data_dir / REFRESH_DIR / POINTER
    if not pointer.exists():
        return None
    info: dict[str, Any] = json.loads(pointer.read_text(encoding="utf-8"))
    return info


def open_current(data_dir: Path) -> duckdb.DuckDBPyConnection:
    """The current refresh's outputs, read-only: what every reader should use."""
    info = current_info(data_dir)
    if info is None:
        raise UserError(f"no refresh in {data_dir} yet: run 'neighbourhood refresh' first")
    return duckdb.connect(str(data_dir / REFRESH_DIR / info["file"]), read_only=True)


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
    )
