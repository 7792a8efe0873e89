"""One method, two engines: linkage on DuckDB and on Spark in local mode agree."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import splink.comparison_library as cl
from splink import Linker, SettingsCreator, block_on
from splink.internals.blocking import BlockingRule

from neighbourhood.ingest.run import ingest
from neighbourhood.linkage.config import LinkageConfig
from neighbourhood.linkage.engines import (
    one_join_blocking_sqls,
    open_engine,
    with_term_frequencies,
)
from neighbourhood.linkage.model import DECISIONS, Linked, link, scoring_settings, settings
from neighbourhood.linkage.records import standardised
from neighbourhood.warehouse import open_warehouse
from tests.support.synthetic import synthesise


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
    # The model is trained in DuckDB whichever engine scores (ADR 18): the same sample, the
    # same probabilities, only the engines' arithmetic in scoring may differ.
    config = LinkageConfig()
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
    assert all(abs(spark_edges[k] - p) < 1e-9 for k, p in duck_edges.items())
    assert on_spark.edges.column("rule").to_pylist() == on_duckdb.edges.column("rule").to_pylist()
    duck_review, spark_review = probabilities(on_duckdb.review), probabilities(on_spark.review)
    assert spark_review.keys() == duck_review.keys()
    assert all(abs(spark_review[k] - p) < 1e-9 for k, p in duck_review.items())
    assert {"train u", "train m", "predict"} <= on_spark.steps.keys()
    assert not list(tmp_path.glob("neighbourhood-spark-*")), "Spark's scratch files were left"
    assert not list(tmp_path.glob("neighbourhood-link-*")), (
        "the in-process engine's files were left"
    )


def test_what_duckdb_learnt_is_scored_in_sparks_own_sql() -> None:
    creator = settings(LinkageConfig(), 0.001)
    model = creator.get_settings("duckdb").as_dict()
    model["probability_two_random_records_match"] = 0.0025
    # Splink leaves out a comparison on a field no record fills (feeds without dates of birth)
    model["comparisons"] = [c for c in model["comparisons"] if c["output_column_name"] != "dob"]
    given = model["comparisons"][1]["comparison_levels"]
    given[1] |= {"m_probability": 0.8, "u_probability": 0.001}  # exact
    given[2] |= {"m_probability": 0.05, "u_probability": 0.0002}  # a familiar form

    scoring = scoring_settings(creator, model, "spark")

    assert scoring["probability_two_random_records_match"] == 0.0025
    assert [c["output_column_name"] for c in scoring["comparisons"]] == [
        "nhs_number", "given", "family", "sex", "postcode", "house_number", "street", "locality"
    ]  # fmt: skip
    levels = scoring["comparisons"][1]["comparison_levels"]
    assert (levels[1]["m_probability"], levels[1]["u_probability"]) == (0.8, 0.001)
    assert (levels[2]["m_probability"], levels[2]["u_probability"]) == (0.05, 0.0002)
    assert (
        levels[2]["sql_condition"] == "SIZE(ARRAY_INTERSECT(`given_forms_l`, `given_forms_r`)) >= 1"
    )
    assert "m_probability" not in levels[3]  # not learnt, not invented

    given.insert(1, given.pop(2))  # a model whose levels are out of order is refused
    with pytest.raises(ValueError, match="out of place"):
        scoring_settings(creator, model, "spark")


def test_term_frequencies_are_worked_out_as_splinks_own_sql_does() -> None:
    records = pa.table(
        {
            "unique_id": pa.array([0, 1, 2, 3, 4], pa.int64()),
            "given": ["ANA", "ANA", None, "BO", "ANA"],
            "street": [None, None, None, None, "HIGH STREET"],
        }
    )

    framed = with_term_frequencies(records, ["given", "street"])

    # three ANA and one BO among the four names given; the missing name has none
    assert framed.column("tf_given").to_pylist() == [0.75, 0.75, None, 0.25, 0.75]
    assert framed.column("tf_street").to_pylist() == [None, None, None, None, 1.0]
    assert framed.select(["unique_id", "given", "street"]).equals(records)
    with open_engine("duckdb") as engine:
        engine.load("records", records)
        linker = Linker(
            engine.db_api.register("records"),
            SettingsCreator(
                link_type="dedupe_only",
                comparisons=[
                    cl.ExactMatch("given").configure(term_frequency_adjustments=True),
                    cl.ExactMatch("street").configure(term_frequency_adjustments=True),
                ],
            ),
        )
        for column in ("given", "street"):
            splinks = linker.table_management.compute_tf_table(column).as_pandas_dataframe()
            ours = dict(
                zip(
                    records.column(column).to_pylist(),
                    framed.column(f"tf_{column}").to_pylist(),
                    strict=True,
                )
            )
            assert {v: ours[v] for v in splinks[column]} == dict(
                zip(splinks[column], splinks[f"tf_{column}"], strict=True)
            )


@pytest.mark.slow
def test_spark_blocks_in_one_join_the_pairs_splink_blocks_rule_by_rule(tmp_path: Path) -> None:
    records = pa.table(
        {
            "unique_id": pa.array(range(7), pa.int64()),
            "dob": [dt.date(1950, 1, 2), dt.date(1950, 1, 2), dt.date(1950, 1, 2), None,
                    dt.date(1961, 5, 6), dt.date(1961, 5, 6), None],
            "family": ["LEE", "LEE", "LI", "LEE", None, "OKAFOR", "OKAFOR"],
            "postcode": ["E1 6AN", None, "E1 6AN", "E1 6AN", "N1 9GU", "N1 9GU", "N1 9GU"],
        }
    )  # fmt: skip
    rules = [block_on("dob", "family"), block_on("postcode"), block_on("dob")]
    with open_engine("spark", scratch=tmp_path) as engine:
        engine.load("records", records)
        linker = Linker(
            engine.db_api.register("records"),
            SettingsCreator(
                link_type="dedupe_only",
                comparisons=[cl.ExactMatch("family")],
                blocking_rules_to_generate_predictions=rules,
            ),
        )
        settings_rules = linker._settings_obj._blocking_rules_to_generate_predictions
        assert one_join_blocking_sqls(settings_rules) is not None  # blocked in one join
        ours = engine._blocked(linker).as_pandas_dataframe()
        splinks = linker.inference.compute_blocked_pairs_for_predict().as_pandas_dataframe()

    def pairs(frame: Any) -> set[tuple[str, int, int]]:
        return set(
            zip(frame.match_key.astype(str), frame.join_key_l, frame.join_key_r, strict=True)
        )

    assert pairs(ours) == pairs(splinks) == {
        ("0", 0, 1),  # same date of birth and family name: the first rule's
        ("1", 0, 2), ("1", 0, 3), ("1", 2, 3),  # the same postcode, not both of the first
        ("1", 4, 5), ("1", 4, 6), ("1", 5, 6),
        ("2", 1, 2),  # the same date of birth alone; a missing one blocks with none
    }  # fmt: skip
    assert len(ours) == 8  # each pair once


def test_only_rules_of_equal_columns_are_blocked_in_one_join() -> None:
    def rules(*made: Any) -> list[Any]:
        return [
            BlockingRule(rule, "spark")
            if isinstance(rule, str)
            else rule.get_blocking_rule("spark")
            for rule in made
        ]

    sqls = one_join_blocking_sqls(rules(block_on("dob", "family"), block_on("postcode")))
    assert sqls is not None
    assert (
        "stack(2, 0, CASE WHEN `dob` IS NULL OR `family` IS NULL THEN NULL ELSE " in sqls[0]["sql"]
    )
    assert [s["output_table_name"] for s in sqls] == [
        "__splink__blocks",
        "__splink__blocked_id_pairs",
    ]
    # a rule across two columns, or with a condition besides equality, is left to Splink
    assert one_join_blocking_sqls(rules(block_on("dob"), "l.given = r.family")) is None
    assert one_join_blocking_sqls(rules("l.dob = r.dob AND l.sex <> 'U'")) is None
    assert one_join_blocking_sqls([]) is None
