"""Opening the warehouse, and writing to it one file per transaction."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
from ibis.backends.duckdb import Backend
from ibis.backends.sql.datatypes import DuckDBType

from neighbourhood.errors import UserError
from neighbourhood.warehouse.schema import TABLES

WAREHOUSE_FILE = "warehouse.duckdb"
CHECKPOINT_THRESHOLD = "1GB"


@dataclass
class Warehouse:
    con: Backend
    path: Path

    def table(self, name: str) -> ibis.Table:
        return self.con.table(name)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing: an error or Ctrl-C inside leaves the warehouse as it was."""
        self.con.con.begin()
        try:
            yield
        except BaseException:
            self.con.con.rollback()
            raise
        self.con.con.commit()

    def append(self, name: str, rows: pa.Table | ibis.Table) -> int:
        """Add rows and say how many: an Ibis expression is compiled once and inserted in
        the database."""
        if isinstance(rows, pa.Table):
            self.con.con.register("_incoming", rows)
            try:
                result = self.con.con.execute(
                    f'INSERT INTO "{name}" BY NAME SELECT * FROM _incoming'
                ).fetchone()
            finally:
                self.con.con.unregister("_incoming")
        else:
            return self.insert_compiled(name, self.compile_rows(name, rows, ()), {})
        return int(result[0]) if result else 0

    def compile_rows(self, name: str, rows: ibis.Table, given: Iterable[str]) -> str:
        """SQL for rows of table ``name``: every column but the ``given`` ones, which
        ``insert_compiled`` adds. The SQL can be kept and inserted again with other values."""
        schema = TABLES[name]  # columns the rows lack are left empty (INSERT ... BY NAME)
        names = [n for n in schema.names if n not in set(given) and n in rows.columns]
        return str(self.con.compile(rows.select(*names).cast({n: schema[n] for n in names})))

    def insert_compiled(self, name: str, sql: str, given: dict[str, Any]) -> int:
        """Insert the rows of ``sql`` (from ``compile_rows``), the ``given`` columns bound as
        parameters, and say how many."""
        schema = TABLES[name]
        values = "".join(f'CAST(? AS {DuckDBType.to_string(schema[c])}) AS "{c}", ' for c in given)
        result = self.con.con.execute(
            f'INSERT INTO "{name}" BY NAME SELECT {values}* FROM ({sql})', list(given.values())
        ).fetchone()
        return int(result[0]) if result else 0

    def append_rows(self, name: str, columns: dict[str, list[Any]]) -> None:
        """Rows given column by column; a column not given is left empty."""
        table = arrow_table(name, columns)
        if table.num_rows:
            self.append(name, table)

    def cursor(self) -> Warehouse:
        """The same warehouse on a connection of its own, for another thread: its own
        transactions and temporary tables, the same tables and settings."""
        con = ibis.duckdb.from_connection(self.con.con.cursor())
        con.raw_sql("SET enable_progress_bar = false")
        return Warehouse(con, self.path)

    def next_file_id(self) -> int:
        latest = self.table("ingest_files").file_id.max().execute()
        return 1 if latest is None else int(latest) + 1

    def close(self) -> None:
        self.con.disconnect()


def arrow_table(name: str, columns: dict[str, list[Any]]) -> pa.Table:
    """Rows of table ``name`` given column by column, as Arrow with the table's own types;
    a column not given is left empty. (Built where the rows are made, a worker process
    say, so only Arrow's buffers cross to the process that writes.)"""
    length = len(next(iter(columns.values()))) if columns else 0
    schema = _arrow_schema(name)
    return pa.table(
        {f.name: _array(columns.get(f.name, [None] * length), f.type) for f in schema},
        schema=schema,
    )


@cache
def _arrow_schema(name: str) -> pa.Schema:
    return TABLES[name].to_pyarrow()


def _array(values: list[Any], kind: pa.DataType) -> pa.Array:
    if pa.types.is_date(kind):  # ISO date strings, as FHIR writes them
        return pa.array(values, pa.string()).cast(kind)
    return pa.array(values, kind)


def open_warehouse(data_dir: Path, read_only: bool = False) -> Warehouse:
    path = data_dir / WAREHOUSE_FILE
    if read_only and not path.exists():
        raise UserError(f"no warehouse at {path} yet: run 'neighbourhood ingest' first")
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        con = ibis.duckdb.connect(str(path), read_only=read_only)
    except Exception as error:  # duckdb raises its own IOException for locks and corruption
        raise UserError(f"cannot open the warehouse {path}: {error}") from error
    con.raw_sql("SET enable_progress_bar = false")  # our own progress bars speak to people
    # Each ingested file commits on its own: a checkpoint (rewriting the tables' last row
    # groups) after every small file cost more than the loading. The WAL keeps each commit
    # durable; DuckDB checkpoints when it reaches this size, and on close.
    con.raw_sql(f"SET checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'")
    existing = set(con.list_tables())
    if not read_only:
        for name, schema in TABLES.items():
            if name not in existing:
                con.create_table(name, schema=schema)
            else:
                _add_new_columns(con, name, schema)
    return Warehouse(con, path)


def _add_new_columns(con: Backend, name: str, schema: ibis.Schema) -> None:
    """A warehouse written by an earlier release gains the columns added since (empty)."""
    have = set(con.table(name).columns)
    for column, kind in schema.items():
        if column not in have:
            sql_type = DuckDBType.to_string(kind)
            con.raw_sql(f'ALTER TABLE "{name}" ADD COLUMN "{column}" {sql_type}')
