"""The analyses on Spark: the same DuckDB SQL, transpiled by SQLGlot, over the Parquet export.

    >>> from orchlab.analysis import spark as osp          # doctest: +SKIP
    >>> session = osp.local_session()                       # doctest: +SKIP
    >>> osp.register_parquet(session, "export/")            # doctest: +SKIP
    >>> oa.cycle_times(session, level="run")                # doctest: +SKIP

`orchlab.analysis._sql.query` hands a `SparkSession` here. This module imports pyspark and
sqlglot only when called, so `import orchlab` needs neither (they come with the `spark`
extra). The fix-ups in `_fix` are where SQLGlot's DuckDB-to-Spark output is wrong for
Spark 4 or differs from DuckDB's answer; each has a test in tests/analysis/test_spark.py.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from orchlab.errors import AnalysisError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession
    from sqlglot import exp
    from sqlglot.dialects.dialect import Dialect

__all__ = [
    "TABLES",
    "is_spark",
    "java_home",
    "local_session",
    "register_parquet",
    "to_spark",
    "run",
]

# The tables of the Parquet export (orchlab.analysis.export) the analyses read, registered
# as temp views of these names.
TABLES = (
    "log",
    "runs",
    "stage_runs",
    "step_runs",
    "work_items",
    "decision_outcomes",
    "run_path",
)
_PARTS = ("orchestration", "month")  # the export's partition columns: not table columns


def is_spark(source: object) -> bool:
    """True for a `pyspark.sql.SparkSession` (classic or Connect), without importing pyspark."""
    kind = type(source)
    return kind.__name__ == "SparkSession" and kind.__module__.startswith("pyspark.")


def java_home() -> str | None:
    """JAVA_HOME if set, else the JDK of the `java` on PATH (resolved through its symlinks).

    PySpark starts the JVM with `$JAVA_HOME/bin/java` or `java`; finding the JDK from the
    `java` on PATH works on any machine that has one, wherever the distribution put it.
    """
    if os.environ.get("JAVA_HOME"):
        return os.environ["JAVA_HOME"]
    found = shutil.which("java")
    return str(Path(found).resolve().parent.parent) if found else None


def local_session(master: str = "local[2]", conf: Mapping[str, str] | None = None) -> SparkSession:
    """A SparkSession on this machine, set up for small histories (tests, notebooks).

    Few shuffle partitions (Spark's default of 200 makes a tiny query pay for 200 tasks),
    no web UI, UTC as the session time zone (the history's times are UTC wall times).
    """
    home = java_home()
    if home is None:
        raise AnalysisError("Spark needs Java (17 or newer): no JAVA_HOME and no java on PATH")
    os.environ.setdefault("JAVA_HOME", home)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(master).appName("orchlab")
    settings = {
        "spark.sql.shuffle.partitions": "2",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.session.timeZone": "UTC",
        # Spark makes ./spark-warehouse on first use otherwise: not in the user's folder.
        "spark.sql.warehouse.dir": str(Path(tempfile.gettempdir()) / "orchlab-spark-warehouse"),
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        **(conf or {}),
    }
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")  # Spark's INFO/WARN lines drown a notebook
    return session


def register_parquet(session: SparkSession, path: str | os.PathLike[str]) -> list[str]:
    """Register the tables of a Parquet export (local path or URI) as temp views; their names.

    Each table is its folder, read whole with `basePath` so Spark sees the hive partitions
    (orchestration=.../month=...); the partition columns are dropped, as DuckDB's import
    does. Timestamps stay TIMESTAMP_NTZ, as DuckDB wrote them (wall times, no zone).
    """
    base = str(path).rstrip("/")
    frames = {}
    for table in TABLES:
        folder = f"{base}/{table}"
        try:
            frames[table] = (
                session.read.option("basePath", folder)
                .option("mergeSchema", "true")
                .parquet(folder)
            )
        except Exception as error:  # pyspark's AnalysisException: path does not exist
            if "PATH_NOT_FOUND" in str(error) or "does not exist" in str(error):
                continue
            raise
    if "log" not in frames:  # refused before any view changes
        raise AnalysisError(f"{path}: expected a Parquet export with a log/ folder")
    for table in TABLES:
        if table not in frames:
            session.catalog.dropTempView(table)  # not an earlier export's table
            continue
        frame = frames[table]
        frame.drop(*(c for c in _PARTS if c in frame.columns)).createOrReplaceTempView(table)
    return list(frames)


@functools.cache
def _dialect() -> type[Dialect]:
    """SQLGlot's Spark dialect, writing percentiles as Spark 3.3+ does them.

    SQLGlot writes DuckDB's quantile_disc(x, q) as PERCENTILE_DISC(x, q), which Spark
    rejects, and the WITHIN GROUP form as PERCENTILE_APPROX (Hive had nothing else): an
    approximation where DuckDB's answer is exact. Spark 4's `percentile_disc(q) WITHIN GROUP
    (ORDER BY x)` is exact and nearest-rank, as DuckDB's quantile_disc is.
    """
    from sqlglot import exp
    from sqlglot.dialects.spark import Spark
    from sqlglot.generators.spark import SparkGenerator

    def within_group(name: str) -> Callable[[SparkGenerator, exp.Expression], str]:
        def sql(self: SparkGenerator, e: exp.Expression) -> str:
            if not e.expression:  # already the one-argument form: leave it to SQLGlot
                return self.function_fallback_sql(e)
            q, x = self.sql(e, "expression"), self.sql(e, "this")
            return f"{name}({q}) WITHIN GROUP (ORDER BY {x})"

        return sql

    class _Generator(SparkGenerator):
        TRANSFORMS = {  # noqa: RUF012 - SQLGlot's own pattern for a dialect's generator
            **SparkGenerator.TRANSFORMS,
            exp.PercentileDisc: within_group("PERCENTILE_DISC"),
            exp.PercentileCont: within_group("PERCENTILE_CONT"),
        }

    class OrchlabSpark(Spark):
        Generator = _Generator

    return OrchlabSpark


def _fix(tree: exp.Expression) -> exp.Expression:
    """The fix-ups of SQLGlot's tree for Spark beyond percentiles (`_dialect`), in place."""
    from sqlglot import exp

    # DuckDB's `payload::JSON` parses a text column; SQLGlot writes TO_JSON(payload), which
    # in Spark quotes the text into one JSON string, so GET_JSON_OBJECT finds nothing in it.
    for node in list(tree.find_all(exp.JSONExtractScalar, exp.JSONExtract)):
        inner = node.this
        if isinstance(inner, exp.Cast) and inner.to.is_type(exp.DataType.Type.JSON):
            inner.replace(inner.this)
    # A literal like 1000.0 is DECIMAL in both; DuckDB divides decimals into DOUBLE, Spark
    # keeps DECIMAL, which pandas would get as Python Decimal objects. (Not a percentile's
    # fraction: that stays a plain literal.)
    for node in list(tree.find_all(exp.Literal)):
        if node.is_string or "." not in node.this:
            continue
        if isinstance(node.parent, exp.PercentileDisc | exp.PercentileCont):
            continue
        node.replace(exp.cast(node.copy(), exp.DataType.build("DOUBLE")))
    # x / 0 is NULL in DuckDB; Spark 4 (ANSI mode, its default) raises DIVIDE_BY_ZERO.
    for node in list(tree.find_all(exp.Div)):
        node.replace(exp.SafeDivide(this=node.this.copy(), expression=node.expression.copy()))
    # rank() and row_number() are INTEGER in Spark, BIGINT in DuckDB: keep DuckDB's int64.
    for node in list(tree.find_all(exp.Window)):
        if isinstance(node.this, exp.Rank | exp.RowNumber):
            node.replace(exp.cast(node.copy(), exp.DataType.build("BIGINT")))
    return tree


def to_spark(sql: str, params: Mapping[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """DuckDB SQL with `$name` parameters -> Spark SQL with `:name` ones, and their values.

    SQLGlot does the dialect; `_fix` and `_dialect` what it gets wrong. A None value is
    written as NULL (Spark cannot bind a value of no type), and a datetime is bound as its
    ISO text cast to TIMESTAMP_NTZ (PySpark would turn a naive datetime into an instant
    in the Python process's time zone).
    """
    import sqlglot
    from sqlglot import exp

    values = dict(params or {})
    tree = sqlglot.parse_one(sql, read="duckdb")

    def bind(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Parameter | exp.Placeholder):
            name = node.name
            if name not in values:
                raise AnalysisError(f"SQL parameter ${name} has no value")
            value = values[name]
            if value is None:
                return exp.Null()
            if isinstance(value, dt.datetime):
                return exp.cast(exp.Placeholder(this=name), exp.DataType.build("TIMESTAMP_NTZ"))
            return exp.Placeholder(this=name)
        return node

    tree = _fix(tree.transform(bind))
    used = {p.name for p in tree.find_all(exp.Placeholder)}
    bound = {
        k: v.isoformat(sep=" ") if isinstance(v, dt.datetime) else v
        for k, v in values.items()
        if k in used
    }
    return tree.sql(dialect=_dialect()), bound


def run(session: SparkSession, sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Run one analysis's DuckDB SQL on Spark; the answer as pandas."""
    text, bound = to_spark(sql, params)
    try:
        frame = session.sql(text, args=bound or None)
    except Exception as error:  # pyspark's AnalysisException, e.g. a table not registered
        if "TABLE_OR_VIEW_NOT_FOUND" in str(error):
            raise AnalysisError(
                "the Spark session has no such table: register the history's Parquet export "
                f"with orchlab.analysis.spark.register_parquet ({error})"
            ) from None
        raise
    with warnings.catch_warnings():
        # PySpark 4.x warns that it does not fully support pandas 3; toPandas of the plain
        # column types an analysis returns is checked against DuckDB's answers in the tests.
        warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas")
        # ... and its Arrow path passes pandas 3's deprecated `copy` keyword (a warning that
        # a caller's "error" filter, as in the tests, would turn into a failed toPandas).
        warnings.filterwarnings("ignore", "The copy keyword is deprecated")
        return frame.toPandas()
