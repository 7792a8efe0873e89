"""One method, two engines: linkage on DuckDB and on Spark in local mode agree."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pytest

from neighbourhood.ingest.run import ingest
from neighbourhood.linkage.config import LinkageConfig
from neighbourhood.linkage.engines import open_engine
from neighbourhood.linkage.model import DECISIONS, Linked, link
from neighbourhood.linkage.records import standardised
from neighbourhood.warehouse import open_warehouse
from tests.conftest import synthesise


def partition(linked: Linked) -> set[frozenset[str]]:
    clusters: dict[str, set[str]] = {}
    for uid, cid in zip(
        linked.clusters.column("unique_id").to_pylist(),
        linked.clusters.column("cluster_id").to_pylist(),
        strict=True,
    ):
        clusters.setdefault(str(cid), set()).add(uid)
    return {frozenset(c) for c in clusters.values()}


def probabilities(table: pa.Table) -> dict[tuple[str, str], float]:
    return {
        (left, right): p
        for left, right, p in zip(
            table.column("unique_id_l").to_pylist(),
            table.column("unique_id_r").to_pylist(),
            table.column("match_probability").to_pylist(),
            strict=True,
        )
    }


@pytest.mark.slow
def test_duckdb_and_spark_give_the_same_people(tmp_path: Path) -> None:
    synthesise(tmp_path, 600, seed=3, neighbourhood_size=300)
    ingest(tmp_path, workers=1, today=dt.date(2026, 11, 24))
    wh = open_warehouse(tmp_path, read_only=True)
    try:
        records = standardised(wh)
    finally:
        wh.close()
    # Every pair is used to estimate u, so training is deterministic on both engines; the
    # engines add up EM's sums in different orders, so probabilities agree to about 1e-5.
    config = replace(LinkageConfig(), u_sample_pairs=1e7)
    decisions = DECISIONS.empty_table()
    with open_engine("duckdb") as engine:
        on_duckdb = link(records, config, decisions, engine)
    with open_engine("spark", scratch=tmp_path) as engine:
        on_spark = link(records, config, decisions, engine)
        # predict runs without pushing filters down (ADR 12); every other query needs it
        assert engine.spark.conf.get("spark.sql.optimizer.excludedRules", None) is None
        # a neighbourhood keeps the session's few partitions; more records, more of them
        few = int(engine.spark.conf.get("spark.sql.shuffle.partitions"))
        assert few == max(4, (os.cpu_count() or 1) * 4)
        engine.load("many", pa.table({"n": pa.array(range(1_000_001), pa.int64())}))
        assert engine.spark.conf.get("spark.sql.shuffle.partitions") == "41"
        assert engine.db_api.num_partitions_on_repartition == 21

    people = partition(on_duckdb)
    assert 550 <= len(people) <= 650  # 600 people, linked
    assert partition(on_spark) == people
    duck_edges, spark_edges = probabilities(on_duckdb.edges), probabilities(on_spark.edges)
    assert spark_edges.keys() == duck_edges.keys()
    assert all(abs(spark_edges[k] - p) < 1e-4 for k, p in duck_edges.items())
    assert on_spark.edges.column("rule").to_pylist() == on_duckdb.edges.column("rule").to_pylist()
    duck_review, spark_review = probabilities(on_duckdb.review), probabilities(on_spark.review)
    assert spark_review.keys() == duck_review.keys()
    assert all(abs(spark_review[k] - p) < 1e-4 for k, p in duck_review.items())
    assert not list(tmp_path.glob("neighbourhood-spark-*")), "Spark's scratch files were left"
