"""Where linkage runs: DuckDB in this process (the default) or Spark in local mode.

Both take the same SQL (a subset the two dialects share) and the same Splink
settings, so one method runs on either (invariant 8).
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pyarrow as pa
from splink import DuckDBAPI

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

    def scoring(self) -> AbstractContextManager[None]:
        """Settings for the statement in which Splink scores the blocked pairs."""


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

    def scoring(self) -> AbstractContextManager[None]:
        return nullcontext()


# Records a shuffle partition holds at most. A session starts with a few partitions a
# core, right for a neighbourhood; at ICS size (4.5 million records, 67 million pairs)
# those few partitions spilled to disk over and over, so the count grows with the data.
RECORDS_PER_PARTITION = 25_000


class SparkEngine:
    name = "spark"

    def __init__(self, spark: Any) -> None:
        from splink.backends.spark import SparkAPI

        self.spark = spark
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
    def scoring(self) -> Iterator[None]:
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
def open_engine(name: str, scratch: Path | None = None) -> Iterator[Engine]:
    if name == "duckdb":
        with tempfile.TemporaryDirectory(prefix="neighbourhood-link-", dir=scratch) as spill:
            engine = DuckDBEngine(Path(spill))
            try:
                yield engine
            finally:
                engine.con.close()
        return
    if name == "spark":
        from neighbourhood.spark import spark_session

        # 6 GB: at ICS size, 4 GB left Spark's collection of the edges short of heap.
        with spark_session(memory_gb=6, scratch=scratch) as spark:
            yield SparkEngine(spark)
        return
    raise ValueError(f"unknown engine {name!r}")
