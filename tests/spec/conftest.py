"""Spec tests: each measure of the population health method on a table of a few
hand-written people, with the exact answer, on DuckDB and on Spark (invariant 8).

A test takes the ``engine`` fixture and is marked ``@on_both_engines``; it runs once
per engine, as Splink runs one test on several backends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import ibis
import pytest

from neighbourhood.phm.engines import SparkSource, to_arrow
from neighbourhood.phm.measures import measures
from tests.support.population import Population

ENGINES = ("duckdb", "spark")
Test = TypeVar("Test", bound=Callable[..., Any])


def on_both_engines(test: Test) -> Test:
    """Run ``test`` once on DuckDB and once on Spark in local mode."""
    marked: Test = pytest.mark.parametrize("engine", ENGINES, indirect=True)(test)
    return marked


@dataclass
class InMemory:
    """The warehouse's tables in an in-memory DuckDB, as the measures read them."""

    con: Any

    def table(self, name: str) -> ibis.Table:
        return self.con.table(name)


@dataclass
class Engine:
    name: str
    spark: Any

    def measures(self, population: Population) -> dict[str, dict[str, Any]]:
        """Every measure of every person, by person id."""
        tables = population.tables()
        if self.name == "duckdb":
            con = ibis.duckdb.connect()
            for name, table in tables.items():
                con.create_table(name, table)
            rows = to_arrow(InMemory(con), measures(InMemory(con), population.as_of))
            con.disconnect()
        else:
            con = ibis.pyspark.connect(self.spark)
            for name, table in tables.items():
                self.spark.createDataFrame(table).createOrReplaceTempView(name)
            source = SparkSource(con)
            rows = to_arrow(source, measures(source, population.as_of))
            for kept in source.kept.values():
                kept.release()
        return {row["person_id"]: row for row in rows.to_pylist()}


@pytest.fixture(scope="package")
def spark() -> Iterator[Any]:
    from neighbourhood.spark import spark_session

    with spark_session(cores=1, memory_gb=1) as session:
        yield session


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> Engine:
    name = request.param
    session = request.getfixturevalue("spark") if name == "spark" else None
    return Engine(name, session)
