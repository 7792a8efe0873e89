"""Spark in local mode: the way up from one machine (ARCHITECTURE, invariant 8).

One session at a time, made here so every caller gets the same settings: Splink's
similarity functions on the class path, a checkpoint directory, Arrow transfers,
no web UI, and its scratch files in a temporary directory removed afterwards.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from neighbourhood.errors import UserError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

LOG4J = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = spark: %p %c{1}: %m%n
logger.repl.name = org.apache.spark.repl.Main
logger.repl.level = error
logger.codegen.name = org.apache.spark.sql.catalyst.expressions.codegen.CodeGenerator
logger.codegen.level = off
"""


def _require_spark() -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError as error:
        raise UserError(
            "the Spark engine needs PySpark: install it with pip install 'neighbourhood[spark]'"
        ) from error
    if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
        raise UserError(
            "the Spark engine needs Java 17: install a JDK (e.g. apt-get install openjdk-17-jre) "
            "or set JAVA_HOME"
        )


@contextmanager
def spark_session(
    cores: int = 0, memory_gb: int = 4, scratch: Path | None = None
) -> Iterator[SparkSession]:
    """A local Spark session, stopped and its scratch files removed on the way out."""
    _require_spark()
    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    cores = cores or os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="neighbourhood-spark-", dir=scratch) as tmp:
        work = Path(tmp)
        (work / "conf").mkdir()
        (work / "conf" / "log4j2.properties").write_text(LOG4J)
        # Spark reads its logging settings from its configuration directory, before any
        # session setting could apply: errors only, so nobody's data reaches a log. Code
        # generation that fails on a very large expression is not an error for a user:
        # Spark runs the query without it, and says nothing of it here.
        os.environ["SPARK_CONF_DIR"] = str(work / "conf")
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        java_options = f"-Dderby.system.home={work / 'derby'}"
        builder = (
            SparkSession.builder.master(f"local[{cores}]")
            .appName("neighbourhood")
            .config("spark.jars", similarity_jar_location())
            .config("spark.driver.memory", f"{memory_gb}g")
            .config("spark.driver.extraJavaOptions", java_options)
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", str(max(4, cores * 4)))
            .config("spark.default.parallelism", str(max(4, cores * 4)))
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.local.dir", str(work / "local"))
            .config("spark.sql.warehouse.dir", str(work / "warehouse"))
        )
        spark = builder.getOrCreate()
        try:
            spark.sparkContext.setLogLevel("ERROR")
            spark.sparkContext.setCheckpointDir(str(work / "checkpoints"))
            yield spark
        finally:
            _stop(spark)


def _stop(spark: SparkSession) -> None:
    """Stop the session and its Java process: nothing left running, no sockets left open."""
    from pyspark import SparkContext

    gateway = SparkContext._gateway
    spark.stop()
    if gateway is None:
        return
    gateway.shutdown()
    process = getattr(gateway, "proc", None)
    if process is not None:
        if process.stdin:
            process.stdin.close()  # the Java process ends when its input closes
        process.wait(timeout=60)
    SparkContext._gateway = None
    SparkContext._jvm = None
