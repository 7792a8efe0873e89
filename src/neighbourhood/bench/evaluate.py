"""``neighbourhood bench evaluate``: a full protocol (every design, outcome and subgroup) on
each published ICS, on DuckDB; the outcome extraction also on Spark in local mode, with
the ratio; and the matched comparison of 20,000 enrolled people on its own.

The published ICS must have been made with ``synth --rollout`` (or hold the teams'
operational feed): without enrolments there is nothing to evaluate.

The outcome extraction is the aggregation every area design starts from: events of each
outcome activity by neighbourhood and month, from the planning tables, written to
Parquet once (not timed) and read by each engine; the two engines' answers are
compared row by row.
"""

from __future__ import annotations

import dataclasses
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
from rich.console import Console
from rich.table import Table

from neighbourhood.errors import UserError
from neighbourhood.evaluate import designs as d
from neighbourhood.evaluate.outcomes import PLANNING_ACTIVITIES
from neighbourhood.evaluate.protocol import SCHEMA, Protocol
from neighbourhood.evaluate.run import evaluate
from neighbourhood.evaluate.study import Study, from_published

TARGET_PROTOCOL_SECONDS = 600.0  # a full protocol on 2,000,000 people
TARGET_MATCHED_SECONDS = 5.0  # the matched comparison of 20,000 enrolled people
MATCHED_PEOPLE = 20_000
EXTRACTION = """
    SELECT p.neighbourhood, a.activity, date_trunc('month', a.start_date) AS month,
           count(*) AS events
    FROM activity a JOIN people p USING (pseudo_id)
    GROUP BY p.neighbourhood, a.activity, date_trunc('month', a.start_date)
"""


def full_protocol() -> Protocol:
    return Protocol.model_validate({"schema": SCHEMA, "name": "Benchmark: the full protocol"})


def run(reuse: list[Path], spark: bool) -> dict[str, Any]:
    if not reuse:
        raise UserError("give a published ICS made with synth --rollout (--from DATA)")
    sizes = [_one(data) for data in reuse]
    out: dict[str, Any] = {
        "sizes": sizes,
        "targets": {
            "protocol_seconds": TARGET_PROTOCOL_SECONDS,
            "matched_seconds": TARGET_MATCHED_SECONDS,
        },
    }
    if spark:
        out["extraction"] = extraction(reuse[-1])
    return out


def _published_file(data: Path) -> Path:
    from neighbourhood.phm.publish import published_versions

    info = published_versions(data).current()
    if info is None:
        raise UserError(f"{data}: no published refresh (run 'neighbourhood publish' there)")
    return data / "published" / str(info["file"])


def _one(data: Path) -> dict[str, Any]:
    con = duckdb.connect(str(_published_file(data)), read_only=True)
    began = time.perf_counter()
    try:
        study = from_published(con, str(data))
    finally:
        con.close()
    read = time.perf_counter() - began
    if not len(study.enrolled):
        raise UserError(f"{data}: no enrolments to evaluate (make it with synth --rollout)")
    began = time.perf_counter()
    result = evaluate(study, full_protocol())
    seconds = time.perf_counter() - began
    return {
        "data": str(data),
        "people": len(study),
        "enrolled": len(study.enrolled),
        "read_seconds": round(read, 2),
        "protocol_seconds": round(seconds, 2),
        "outcomes": len(result["outcomes"]),
        "matched": matched(study),
        "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def matched(study: Study, people: int = MATCHED_PEOPLE) -> dict[str, Any]:
    """The matched comparison alone (sample, propensity score, matching, the outcome model
    for emergency admissions) for ``people`` of the enrolled, drawn at random."""
    rng = np.random.default_rng(1)
    keep = np.sort(rng.choice(len(study.enrolled), min(people, len(study.enrolled)), replace=False))
    subset = dataclasses.replace(
        study,
        enrolled=study.enrolled[keep],
        enrolled_on=study.enrolled_on[keep],
        enrolled_team=study.enrolled_team[keep],
    )
    protocol = full_protocol()
    go_live = study.go_live()  # from every enrolment, as the full run has it
    began = time.perf_counter()
    m = d.match(d.sample(subset, protocol, go_live), protocol)
    estimate, counts = d.matched_effect(subset, m, d.outcome("emergency_admissions"))
    seconds = time.perf_counter() - began
    return {
        "enrolled": len(keep),
        "matched": counts["treated"],
        "comparators": counts["comparators"],
        "seconds": round(seconds, 2),
        "rate_ratio": estimate.as_dict()["ratio"],
    }


def extraction(data: Path) -> dict[str, Any]:
    """The outcome extraction on DuckDB and on Spark, from the same Parquet files."""
    from neighbourhood.spark import spark_session

    with tempfile.TemporaryDirectory(prefix="bench-evaluate-") as scratch:
        folder = Path(scratch)
        con = duckdb.connect(str(_published_file(data)), read_only=True)
        activities = ", ".join(f"'{a}'" for a in PLANNING_ACTIVITIES)
        try:
            con.execute(
                "COPY (SELECT pseudo_id, neighbourhood FROM planning_people) "
                f"TO '{folder / 'people.parquet'}' (FORMAT parquet)"
            )
            con.execute(
                "COPY (SELECT pseudo_id, activity, start_date FROM planning_activity "
                f"WHERE activity IN ({activities})) TO '{folder / 'activity.parquet'}' "
                "(FORMAT parquet)"
            )
        finally:
            con.close()
        began = time.perf_counter()
        local = duckdb.connect()
        local.execute(f"CREATE VIEW people AS SELECT * FROM '{folder / 'people.parquet'}'")
        local.execute(f"CREATE VIEW activity AS SELECT * FROM '{folder / 'activity.parquet'}'")
        on_duckdb = local.execute(EXTRACTION).fetchall()
        local.close()
        duckdb_seconds = time.perf_counter() - began
        with spark_session(scratch=folder) as session:
            began = time.perf_counter()
            session.read.parquet(str(folder / "people.parquet")).createOrReplaceTempView("people")
            session.read.parquet(str(folder / "activity.parquet")).createOrReplaceTempView(
                "activity"
            )
            on_spark = [tuple(r) for r in session.sql(EXTRACTION).collect()]
            spark_seconds = time.perf_counter() - began

    def key(rows: list[Any]) -> list[tuple[str, str, str, int]]:
        return sorted((str(a), str(b), str(c)[:10], int(n)) for a, b, c, n in rows)

    return {
        "data": str(data),
        "rows": len(on_duckdb),
        "duckdb_seconds": round(duckdb_seconds, 2),
        "spark_seconds": round(spark_seconds, 2),
        "spark_over_duckdb": round(spark_seconds / duckdb_seconds, 1) if duckdb_seconds else None,
        "same_answer": key(on_duckdb) == key(on_spark),
    }


def show(payload: dict[str, Any], console: Console) -> None:
    table = Table(title="Evaluation: a full protocol on DuckDB (every design, outcome, group)")
    for column in (
        "People",
        "Enrolled",
        "Read (s)",
        "Full protocol (s)",
        "Matched, 20,000 enrolled (s)",
        "Peak memory (MB)",
    ):
        table.add_column(column, justify="right")
    for s in payload["sizes"]:
        table.add_row(
            f"{s['people']:,}",
            f"{s['enrolled']:,}",
            f"{s['read_seconds']:.1f}",
            f"{s['protocol_seconds']:.1f}",
            f"{s['matched']['seconds']:.2f} ({s['matched']['enrolled']:,} enrolled)",
            f"{s['peak_memory_mb']:,}",
        )
    console.print(table)
    targets = payload["targets"]
    console.print(
        f"Targets: a full protocol at 2,000,000 people under {targets['protocol_seconds']:.0f} s; "
        f"the matched comparison of 20,000 enrolled under {targets['matched_seconds']:.0f} s."
    )
    if "extraction" in payload:
        e = payload["extraction"]
        console.print(
            f"Outcome extraction ({e['rows']:,} neighbourhood-month rows): DuckDB "
            f"{e['duckdb_seconds']:.2f} s, Spark {e['spark_seconds']:.2f} s "
            f"(Spark/DuckDB {e['spark_over_duckdb']}); same answer: {e['same_answer']}"
        )
