"""Where linkage runs: DuckDB in this process (the default) or Spark in local mode.

Both take the same SQL (a subset the two dialects share) and the same Splink
settings, so one method runs on either (invariant 8).
"""

from __future__ import annotations

import logging
import math
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from splink import DuckDBAPI, Linker
from splink.internals.comparison_vector_values import (
    compute_comparison_vector_values_from_id_pairs_sqls,
)
from splink.internals.pipeline import CTEPipeline
from splink.internals.predict import predict_from_comparison_vectors_sqls_using_settings
from splink.internals.splink_dataframe import SplinkDataFrame

ENGINES = ("duckdb", "spark")
MEMORY_LIMIT = "6GB"
NOT_PUSHED_DOWN = "org.apache.spark.sql.catalyst.optimizer.PushDownPredicates"


class Engine(Protocol):
    name: str
    db_api: Any  # a Splink DatabaseAPI

    def local(self, records: pa.Table) -> AbstractContextManager[DuckDBEngine]:
        """DuckDB in this process with ``records`` loaded: where the work that fits in memory
        runs whichever engine scores the pairs (the model's training on samples, and the
        edges and clusters of the pairs it linked)."""

    def predict(self, records: pa.Table, scoring: dict[str, Any], threshold: float) -> pa.Table:
        """Every blocked pair of ``records`` scored with the ``scoring`` settings; those at
        or above ``threshold``, as (unique_id_l, unique_id_r, match_probability)."""


class DuckDBEngine:
    name = "duckdb"

    def __init__(self, spill: Path) -> None:
        # DuckDB spills what does not fit in memory to disk: into a directory of ours that
        # is removed afterwards (its default is .tmp in whatever directory we run from).
        # Memory is capped below the machine's so the process (Arrow tables besides) stays
        # well inside the 12 GB target at ICS size; the rest spills.
        self.con = duckdb.connect(
            config={
                "temp_directory": str(spill),
                "memory_limit": MEMORY_LIMIT,
                "preserve_insertion_order": False,  # every result we read is ordered
            }
        )
        self.db_api = DuckDBAPI(connection=self.con)

    def load(self, name: str, table: pa.Table) -> None:
        self.con.register("_incoming", table)
        self.con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _incoming")
        self.con.unregister("_incoming")

    def create(self, name: str, query: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TABLE {name} AS {query}")

    def arrow(self, query: str) -> pa.Table:
        return self.con.execute(query).to_arrow_table()

    @contextmanager
    def local(self, records: pa.Table) -> Iterator[DuckDBEngine]:
        self.load("records", records)
        yield self

    def predict(self, records: pa.Table, scoring: dict[str, Any], threshold: float) -> pa.Table:
        # the records are the ones ``local`` loaded: this engine is its own local engine
        linker = Linker(self.db_api.register("records"), scoring, log_level=logging.ERROR)
        predicted = linker.inference.predict(threshold_match_probability=threshold)
        return self.arrow(f"SELECT {PREDICTED} FROM {predicted.physical_name}")


# Records a shuffle partition holds at most. A session starts with a few partitions a
# core, right for a neighbourhood; at ICS size (4.5 million records, 67 million pairs)
# those few partitions spilled to disk over and over, so the count grows with the data.
RECORDS_PER_PARTITION = 25_000


class SparkEngine:
    name = "spark"

    def __init__(self, spark: Any, scratch: Path | None = None) -> None:
        from splink.backends.spark import SparkAPI

        self.spark = spark
        self.scratch = scratch
        self.db_api = SparkAPI(  # type: ignore[no-untyped-call]
            spark_session=spark, break_lineage_method="parquet"
        )

    def load(self, name: str, table: pa.Table) -> None:
        wanted = math.ceil(table.num_rows / RECORDS_PER_PARTITION)
        if wanted > int(self.spark.conf.get("spark.sql.shuffle.partitions")):
            self.spark.conf.set("spark.sql.shuffle.partitions", str(wanted))
            self.db_api.num_partitions_on_repartition = math.ceil(wanted / 2)
        frame = self.spark.createDataFrame(table)
        frame.localCheckpoint().createOrReplaceTempView(name)

    def arrow(self, query: str) -> pa.Table:
        result: pa.Table = self.spark.sql(query).toArrow()
        return result

    @contextmanager
    def local(self, records: pa.Table) -> Iterator[DuckDBEngine]:
        # The model learns from samples of pairs that fit in this process, as the records
        # already do; on Spark each EM iteration and each chunk of u was a job with its
        # fixed cost, which dominated at ICS size (ADR 18). Trained in DuckDB, the model is the same
        # whichever engine scores the pairs (ADR 18). The pairs it links, a few for each
        # person, are clustered here too: on Spark every step of Splink's connected
        # components was a job (ADR 19).
        with _duckdb_engine(self.scratch) as duck:
            duck.load("records", records)
            yield duck

    def predict(self, records: pa.Table, scoring: dict[str, Any], threshold: float) -> pa.Table:
        """Splink's predict, in three statements: the blocked pairs, each pair's comparison
        levels, then its match weight and probability (ADR 18, ADR 19).

        The term frequencies are worked out on the records in this process and travel with
        them, so Spark's only joins are the blocking join and the pairs' lookups of their
        two records, which every task makes in a copy of the records it holds (a
        broadcast), not by shuffling every pair twice."""
        self.load("records", with_term_frequencies(records, _term_frequency_columns(scoring)))
        self.spark.table("records").hint("broadcast").createOrReplaceTempView("records_at_hand")
        linker = Linker(self.db_api.register("records"), scoring, log_level=logging.ERROR)
        settings = linker._settings_obj
        with self._unpushed():
            blocked = self._blocked(linker)
            pipeline = CTEPipeline([blocked])
            pipeline.enqueue_list_of_sqls(
                compute_comparison_vector_values_from_id_pairs_sqls(
                    settings._columns_to_select_for_blocking,
                    settings._columns_to_select_for_comparison_vector_values,
                    input_tablename_l="records_at_hand",
                    input_tablename_r="records_at_hand",
                    source_dataset_input_column=settings.column_info_settings.source_dataset_input_column,
                    unique_id_input_column=settings.column_info_settings.unique_id_input_column,
                    link_type=settings._link_type,
                    sql_dialect_str=linker._sql_dialect_str,
                )
            )
            vectors = self.db_api.sql_pipeline_to_splink_dataframe(pipeline)
            blocked.drop_table_from_database_and_remove_from_cache()
            pipeline = CTEPipeline([vectors])
            pipeline.enqueue_list_of_sqls(
                predict_from_comparison_vectors_sqls_using_settings(settings, threshold, None)
            )
            scored = self.db_api.sql_pipeline_to_splink_dataframe(pipeline)
            predicted = self.arrow(f"SELECT {PREDICTED} FROM {scored.physical_name}")
            vectors.drop_table_from_database_and_remove_from_cache()
            scored.drop_table_from_database_and_remove_from_cache()
        return predicted

    def _blocked(self, linker: Linker) -> SplinkDataFrame:
        """The pairs the blocking rules generate, each once, as Splink's blocked pairs.

        Splink joins the records once for each rule, excluding the pairs every earlier rule
        found: fifteen joins, each shuffling every record (ADR 19). Here each record gives
        one row for each rule, its block (a 64-bit hash of the rule's columns; none where
        one is missing), and one join finds every pair in a block; a pair found by several
        rules keeps the first, as Splink's ``match_key``. A rule that is not equality of
        the same columns on both sides is left to Splink."""
        rules = linker._settings_obj._blocking_rules_to_generate_predictions
        sqls = one_join_blocking_sqls(rules)
        if sqls is None:
            return linker.inference.compute_blocked_pairs_for_predict()
        pipeline = CTEPipeline()
        pipeline.enqueue_list_of_sqls(sqls)
        blocked: SplinkDataFrame = self.db_api.sql_pipeline_to_splink_dataframe(pipeline)
        return blocked

    @contextmanager
    def _unpushed(self) -> Iterator[None]:
        # Splink's predict keeps pairs whose match weight, a sum over every comparison's
        # CASE expressions, reaches the threshold. Spark pushes that filter below the
        # projection that computes the weights and inlines them, so each pair's name
        # similarities are computed many times over: predict took three times as long
        # (ADR 12). Only for this statement: other queries keep filters pushed into
        # their joins and scans, and whatever was excluded before is put back.
        key = "spark.sql.optimizer.excludedRules"
        before = self.spark.conf.get(key, None)
        self.spark.conf.set(key, ",".join(filter(None, (before, NOT_PUSHED_DOWN))))
        try:
            yield
        finally:
            if before is None:
                self.spark.conf.unset(key)
            else:
                self.spark.conf.set(key, before)


PREDICTED = "unique_id_l, unique_id_r, match_probability"


def with_term_frequencies(records: pa.Table, columns: list[str]) -> pa.Table:
    """``records`` with Splink's term frequency of each of ``columns`` (``tf_<column>``):
    how often the record's value occurs among the values given, as Splink's own SQL counts
    it; none where the record has no value."""
    for column in columns:
        values = records.column(column)
        counts = values.value_counts()
        found = counts.field("values")
        frequency = pc.divide(
            counts.field("counts").cast(pa.float64()), float(len(values) - values.null_count)
        )
        at = pc.index_in(values, value_set=found, skip_nulls=True)
        records = records.append_column(f"tf_{column}", frequency.take(at))
    return records


def _term_frequency_columns(scoring: dict[str, Any]) -> list[str]:
    return sorted(
        {
            level["tf_adjustment_column"]
            for comparison in scoring["comparisons"]
            for level in comparison["comparison_levels"]
            if level.get("tf_adjustment_column")
        }
    )


def one_join_blocking_sqls(rules: list[Any]) -> list[dict[str, str]] | None:
    """Splink's blocked pairs for ``rules`` in one join (ADR 19), or None if a rule is not
    equality of the same columns on both sides."""
    keys = []
    for rule in rules:
        columns = _equal_columns(rule)
        if columns is None:
            return None
        keys.append(columns)
    if not keys:
        return None
    blocks = ", ".join(
        f"{i}, CASE WHEN {' OR '.join(f'{c} IS NULL' for c in columns)} THEN NULL "
        f"ELSE xxhash64({', '.join(columns)}) END"
        for i, columns in enumerate(keys)
    )
    return [
        {
            "sql": f"SELECT unique_id, stack({len(rules)}, {blocks}) AS (rule, block) FROM records",
            "output_table_name": "__splink__blocks",
        },
        {
            # one side of each block is held in a hash table, not both sides sorted
            "sql": """
            SELECT /*+ SHUFFLE_HASH(r) */ CAST(min(l.rule) AS STRING) AS match_key,
                   l.unique_id AS join_key_l, r.unique_id AS join_key_r
            FROM __splink__blocks l JOIN __splink__blocks r
              ON l.rule = r.rule AND l.block = r.block AND l.unique_id < r.unique_id
            GROUP BY l.unique_id, r.unique_id
            """,
            "output_table_name": "__splink__blocked_id_pairs",
        },
    ]


def _equal_columns(rule: Any) -> list[str] | None:
    """The columns of a blocking rule that is equality of the same columns on both sides."""
    pairs = rule._equi_join_conditions
    if not pairs or any(left != right for left, right in pairs):
        return None
    if rule._filter_conditions.upper() not in ("", "TRUE"):
        return None
    return [left for left, _ in pairs]


@contextmanager
def _duckdb_engine(scratch: Path | None) -> Iterator[DuckDBEngine]:
    with tempfile.TemporaryDirectory(prefix="neighbourhood-link-", dir=scratch) as spill:
        engine = DuckDBEngine(Path(spill))
        try:
            yield engine
        finally:
            engine.con.close()


@contextmanager
def open_engine(name: str, scratch: Path | None = None) -> Iterator[Engine]:
    if name == "duckdb":
        with _duckdb_engine(scratch) as engine:
            yield engine
        return
    if name == "spark":
        from neighbourhood.spark import spark_session

        # 8 GB: at ICS size the records at hand (every task's copy) sit beside the
        # query's working memory; with less, building them failed (ADR 19).
        with spark_session(memory_gb=8, scratch=scratch) as spark:
            yield SparkEngine(spark, scratch)
        return
    raise ValueError(f"unknown engine {name!r}")
