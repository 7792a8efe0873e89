"""Where linkage runs: DuckDB in this process (the default) or Spark in local mode.

Both take the same SQL (a subset the two dialects share) and the same Splink
settings, so one method runs on either (invariant 8).
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pyarrow as pa
from splink import DuckDBAPI, Linker
from splink.internals.comparison_vector_values import (
    compute_comparison_vector_values_from_id_pairs_sqls,
)
from splink.internals.pipeline import CTEPipeline
from splink.internals.predict import predict_from_comparison_vectors_sqls_using_settings
from splink.internals.splink_dataframe import SplinkDataFrame
from splink.internals.vertically_concatenate import enqueue_df_concat_with_tf

ENGINES = ("duckdb", "spark")
MEMORY_LIMIT = "6GB"
NOT_PUSHED_DOWN = "org.apache.spark.sql.catalyst.optimizer.PushDownPredicates"


class Engine(Protocol):
    name: str
    db_api: Any  # a Splink DatabaseAPI

    def load(self, name: str, table: pa.Table) -> None:
        """Make ``table`` queryable as ``name``."""

    def create(self, name: str, query: str) -> None:
        """Materialise ``query`` as ``name``."""

    def arrow(self, query: str) -> pa.Table:
        """Run ``query`` and bring its rows back."""

    def trainer(self, records: pa.Table) -> AbstractContextManager[DuckDBEngine]:
        """Where the model is trained: DuckDB, in this process, whichever engine scores."""

    def predict(self, linker: Linker, threshold: float) -> SplinkDataFrame:
        """Score every blocked pair; keep those at or above ``threshold``."""


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
    def trainer(self, records: pa.Table) -> Iterator[DuckDBEngine]:
        yield self  # the records are loaded already

    def predict(self, linker: Linker, threshold: float) -> SplinkDataFrame:
        return linker.inference.predict(threshold_match_probability=threshold)


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

    def create(self, name: str, query: str) -> None:
        self.spark.sql(query).localCheckpoint().createOrReplaceTempView(name)

    def arrow(self, query: str) -> pa.Table:
        result: pa.Table = self.spark.sql(query).toArrow()
        return result

    @contextmanager
    def trainer(self, records: pa.Table) -> Iterator[DuckDBEngine]:
        # The model learns from samples of pairs that fit in this process, as the records
        # already do; on Spark each EM iteration and each chunk of u was a job with its
        # fixed cost (11 minutes at ICS size). Trained in DuckDB, the model is the same
        # whichever engine scores the pairs (ADR 18).
        with _duckdb_engine(self.scratch) as duck:
            duck.load("records", records)
            yield duck

    def predict(self, linker: Linker, threshold: float) -> SplinkDataFrame:
        """Splink's predict in two statements: each pair's comparison levels, written out,
        then its match weight and probability.

        In one statement, Spark's generated method for the scoring stage is too long for
        the JVM to compile to machine code, so every pair's levels were worked out by its
        interpreter: at neighbourhood size scoring took twice as long (ADR 18)."""
        with self._unpushed():
            settings = linker._settings_obj
            blocked = linker.inference.compute_blocked_pairs_for_predict()
            pipeline = CTEPipeline([blocked])
            enqueue_df_concat_with_tf(linker, pipeline)
            pipeline.enqueue_list_of_sqls(
                compute_comparison_vector_values_from_id_pairs_sqls(
                    settings._columns_to_select_for_blocking,
                    settings._columns_to_select_for_comparison_vector_values,
                    input_tablename_l="__splink__df_concat_with_tf",
                    input_tablename_r="__splink__df_concat_with_tf",
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
            scored: SplinkDataFrame = self.db_api.sql_pipeline_to_splink_dataframe(pipeline)
            return scored

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

        # 6 GB: at ICS size, 4 GB left Spark's collection of the edges short of heap.
        with spark_session(memory_gb=6, scratch=scratch) as spark:
            yield SparkEngine(spark, scratch)
        return
    raise ValueError(f"unknown engine {name!r}")
