"""One method, two engines: the refresh on DuckDB and on Spark in local mode agree."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from neighbourhood.ingest.run import ingest
from neighbourhood.linkage.run import run_link
from neighbourhood.phm.refresh import current_info, open_current, refresh
from tests.support.synthetic import synthesise


def outputs(data: Path) -> dict[str, list[tuple[object, ...]]]:
    with open_current(data) as con:
        return {
            table: con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
            for table in ("person_measures", "case_finding", "risk_validation")
        }


@pytest.mark.slow
def test_duckdb_and_spark_refresh_the_same_outputs(tmp_path: Path) -> None:
    synthesise(tmp_path, 1_500, seed=5, neighbourhood_size=750)
    ingest(tmp_path, workers=1, today=dt.date(2026, 11, 24))
    run_link(tmp_path)
    on_duckdb = refresh(tmp_path, seed=3)
    first = outputs(tmp_path)
    first_info = current_info(tmp_path)
    on_spark = refresh(tmp_path, seed=3, engine="spark", scratch=tmp_path)
    second = outputs(tmp_path)
    second_info = current_info(tmp_path)
    assert first_info and second_info
    assert (first_info["engine"], second_info["engine"]) == ("duckdb", "spark")
    assert second_info["risk_model"] == first_info["risk_model"]
    assert on_spark.cohorts == on_duckdb.cohorts and on_spark.segments == on_duckdb.segments
    # one person a linked record: synth's defects leave the odd record unlinked (ADR 15)
    assert abs(len(first["person_measures"]) - 1_500) <= 15 and len(first["case_finding"]) > 50
    for table, rows in first.items():
        assert second[table] == rows, table
    assert not list(tmp_path.glob("neighbourhood-refresh-*"))  # Spark's scratch is gone
