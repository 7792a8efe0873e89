"""Where the population health measures run: DuckDB on the warehouse (the default) or
Spark in local mode (invariant 8: one method, written once in Ibis, on either engine).

The measures read the warehouse through a small interface (``table`` and
``con.list_tables``). For Spark, the tables they read are copied from the warehouse
to Parquet in a scratch directory, which Spark reads as temporary views.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import duckdb
import ibis
import pyarrow as pa

from neighbourhood.errors import UserError
from neighbourhood.warehouse import open_warehouse
from neighbourhood.warehouse.store import WAREHOUSE_FILE

ENGINES = ("duckdb", "spark")
# What the measures and the risk model read.
TABLES = ("persons", "person_index", "events", "source_records", "organisations")
OPTIONAL_TABLES = ("postcodes", "opt_outs", "link_runs", "ingest_files")


class Source(Protocol):
    con: Any  # an Ibis backend

    def table(self, name: str) -> ibis.Table: ...


@dataclass
class SparkSource:
    con: Any
    kept: dict[str, ibis.Table] = field(default_factory=dict)

    def table(self, name: str) -> ibis.Table:
        return self.con.table(name)

    def to_arrow(self, expr: ibis.Table) -> pa.Table:
        """Spark's own Arrow transfer: Ibis's goes through pandas, at twice the cost."""
        self.con._run_pre_execute_hooks(expr)  # registers the codelists' in-memory tables
        with self.con._safe_raw_sql(self.con.compile(expr)) as frame:
            return frame.toArrow().cast(expr.schema().to_pyarrow())


def kept(wh: Source, name: str, expr: ibis.Table) -> ibis.Table:
    """``expr``, computed once and kept in memory on Spark, where every query that uses
    it would otherwise compute it again; DuckDB plans it into each query as it is."""
    if not isinstance(wh, SparkSource):
        return expr
    if name not in wh.kept:
        wh.kept[name] = expr.cache()
    return wh.kept[name]


def to_arrow(wh: Source, expr: ibis.Table) -> pa.Table:
    """The rows of ``expr``, by the fastest way its engine has."""
    if isinstance(wh, SparkSource):
        return wh.to_arrow(expr)
    return expr.to_pyarrow()


@contextmanager
def open_source(data_dir: Path, engine: str, scratch: Path | None = None) -> Iterator[Source]:
    if engine == "duckdb":
        wh = open_warehouse(data_dir, read_only=True)
        try:
            yield wh
        finally:
            wh.close()
        return
    if engine != "spark":
        raise ValueError(f"unknown engine {engine!r}")
    from neighbourhood.spark import spark_session

    with (
        tempfile.TemporaryDirectory(prefix="neighbourhood-refresh-", dir=scratch) as tmp,
        spark_session(scratch=scratch) as spark,
    ):
        copied = _to_parquet(data_dir, Path(tmp))
        con = ibis.pyspark.connect(spark)
        for name, path in copied.items():
            con.read_parquet(str(path), table_name=name)
        source = SparkSource(con)
        try:
            yield source
        finally:
            for table in source.kept.values():
                table.release()  # while the session that holds it is still running


def _to_parquet(data_dir: Path, folder: Path) -> dict[str, Path]:
    out = {}
    path = data_dir / WAREHOUSE_FILE
    if not path.exists():
        raise UserError(f"no warehouse at {path} yet: run 'neighbourhood ingest' first")
    with duckdb.connect(str(path), read_only=True) as con:
        present = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
        for name in (*TABLES, *OPTIONAL_TABLES):
            if name not in present:
                continue
            target = folder / f"{name}.parquet"
            con.execute(f"COPY {name} TO '{target}' (FORMAT parquet)")
            out[name] = target
    return out
