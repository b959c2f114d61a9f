"""The analyses on Spark (local mode, a real JVM) give DuckDB's answers; each fix-up is needed.

Tolerance: none for counts, names, times and percentiles (Spark's percentile_disc is exact
and nearest-rank, as DuckDB's quantile_disc is); floats (means, sums, shares) compare to a
relative 1e-9, because the two engines add them up in different orders. If `quantile()` is
ever switched to approx_quantile (Spark's PERCENTILE_APPROX), these comparisons must get a
rank tolerance: docs/scale-out.md says so.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

import orchlab.analysis as oa
from orchlab.analysis import Filters
from orchlab.analysis import spark as osp
from orchlab.analysis.export import export_parquet
from orchlab.errors import AnalysisError
from orchlab.store import HistoryStore

from .conftest import DAY1, at

pytestmark = pytest.mark.spark
H = dt.timedelta(hours=1)


@pytest.fixture(scope="session")
def spark(history: HistoryStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One local SparkSession for the whole run, with the test history's export registered."""
    if osp.java_home() is None:
        pytest.skip("Spark needs Java 17+: no JAVA_HOME and no java on PATH")
    export = tmp_path_factory.mktemp("spark") / "export"
    export_parquet(history, export)
    session = osp.local_session("local[2]")
    osp.register_parquet(session, export)
    yield session
    session.stop()


# Every public analysis once, with arguments that make its answer non-empty and exercise the
# parameters (datetimes, None, lists, the period).
CASES: list[tuple[str, Filters | None, dict[str, Any]]] = [
    ("stalled_runs", Filters(as_of=at(DAY1, "11:00")), {"idle": dt.timedelta(0)}),
    ("stalled_work_items", None, {"idle": H}),
    ("open_work_items", Filters(assignee="Engineering"), {}),
    ("backlog", None, {"by": "owner"}),
    ("bottlenecks", None, {"level": "step"}),
    ("work_in_progress", None, {"level": "stage", "period": "day"}),
    ("cycle_times", Filters(source=("live", "imported")), {"level": "stage", "period": "week"}),
    ("durations", None, {"level": "run"}),
    ("time_split", None, {}),
    ("throughput", Filters(since=DAY1, until=DAY1 + 2 * 24 * H), {"period": "day"}),
    ("transitions", None, {}),
    ("outcomes", None, {}),
    ("fault_paths", None, {}),
    ("rework", None, {}),
    ("directly_follows", None, {}),
    ("start_end_steps", None, {}),
]


def test_the_cases_cover_every_public_analysis() -> None:
    assert sorted(name for name, _, _ in CASES) == sorted(set(oa.__all__) - {"Filters"})


def _same(duck: pd.DataFrame, spark: pd.DataFrame) -> None:
    assert list(spark.columns) == list(duck.columns)
    for column in duck.columns:
        a, b = duck[column].dtype, spark[column].dtype
        if pd.api.types.is_string_dtype(a) and pd.api.types.is_string_dtype(b):
            continue  # pandas' str or object: both text (DuckDB gives object when empty)
        assert a == b, f"{column}: DuckDB {a}, Spark {b}"
    pd.testing.assert_frame_equal(spark, duck, check_dtype=False, rtol=1e-9)


@pytest.mark.parametrize(("name", "filters", "kwargs"), CASES, ids=[c[0] for c in CASES])
def test_spark_gives_duckdbs_answer(
    history: HistoryStore, spark: Any, name: str, filters: Filters | None, kwargs: dict[str, Any]
) -> None:
    fn = getattr(oa, name)
    duck = fn(history, filters, **kwargs)
    assert not duck.empty, "a case must have rows, or it compares nothing"
    _same(duck, fn(spark, filters, **kwargs))


# --- each fix-up of SQLGlot's output, on Spark against DuckDB ------------------------------


def _both(spark: Any, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
    duck = duckdb.connect().execute(sql, params or {}).df()
    found = osp.run(spark, sql, params)
    _same(duck, found)
    return found


# 1..11, 40 and 41 (SQLGlot cannot take DuckDB's range() table function to Spark).
_NUMBERS = f"(VALUES {', '.join(f'({x})' for x in [*range(1, 12), 40, 41])}) AS t(x)"


def test_quantile_disc_is_exact_nearest_rank_on_spark(spark: Any) -> None:
    # Of doubles, as the analyses' seconds are: Spark's percentile_disc is always DOUBLE.
    x = "CAST(x AS DOUBLE)"
    sql = f"SELECT quantile_disc({x}, 0.5) AS a, quantile_disc({x}, 0.9) AS b FROM {_NUMBERS}"
    assert "PERCENTILE_DISC(0.9) WITHIN GROUP (ORDER BY CAST(x AS DOUBLE))" in osp.to_spark(sql)[0]
    found = _both(spark, sql)
    assert found.iloc[0].tolist() == [7, 40]  # values that occurred, not interpolations


def test_sqlglots_own_percentile_is_not_what_spark_takes(spark: Any) -> None:
    import sqlglot

    plain = sqlglot.transpile("SELECT quantile_disc(x, 0.9) FROM t", read="duckdb", write="spark")
    assert plain == ["SELECT PERCENTILE_DISC(x, 0.9) FROM t"]  # the fix-up is still needed
    with pytest.raises(Exception, match=r"(?i)percentile_disc|WITHIN GROUP|argument"):
        spark.sql("SELECT PERCENTILE_DISC(x, 0.9) FROM VALUES (1), (2) AS t(x)").collect()


def test_json_text_is_read_not_quoted(spark: Any) -> None:
    sql = """SELECT payload::JSON->>'$.decision' AS d
             FROM (SELECT '{"decision": "Route"}' AS payload) AS l"""
    assert "TO_JSON" not in osp.to_spark(sql)[0]
    assert _both(spark, sql)["d"].tolist() == ["Route"]


def test_decimal_literals_divide_into_doubles(spark: Any) -> None:
    sql = "SELECT 7 / 2.0 AS x, avg(y) * 1.0 AS m FROM (SELECT 1 AS y UNION ALL SELECT 2) AS t"
    found = _both(spark, sql)
    assert found["x"].dtype == "float64" and found.iloc[0].tolist() == [3.5, 1.5]


def test_zero_over_zero_is_missing_not_an_error(spark: Any) -> None:
    # DuckDB gives NaN, Spark's try_divide NULL: both NaN in pandas. (x / 0 for x > 0 is inf
    # in DuckDB and NULL on Spark; no analysis divides by a zero that is not guarded.)
    with pytest.raises(Exception, match="DIVIDE_BY_ZERO"):
        spark.sql("SELECT 0 / 0 AS x").collect()  # Spark's own `/`, in ANSI mode
    found = _both(spark, "SELECT 0 / 0 AS x, 4 / 2 AS y")
    assert found["x"].isna().all() and found["y"].tolist() == [2.0]


def test_rank_and_row_number_are_int64(spark: Any) -> None:
    sql = """SELECT x, rank() OVER (ORDER BY x DESC) AS r, row_number() OVER (ORDER BY x) AS n
             FROM (SELECT 3 AS x UNION ALL SELECT 5) AS t ORDER BY x"""
    found = _both(spark, sql)
    assert found["r"].dtype == "int64" and found["r"].tolist() == [2, 1]


def test_parameters_bind_as_duckdb_binds_them(spark: Any) -> None:
    sql = """SELECT CAST($t AS TIMESTAMP) AS t, coalesce(CAST($none AS TIMESTAMP), $t) AS u,
                    $name AS name, date_trunc($period, CAST($t AS TIMESTAMP)) AS week,
                    date_diff('millisecond', CAST($t AS TIMESTAMP), $later) / 1000.0 AS secs"""
    t = dt.datetime(2026, 3, 4, 23, 30)  # late on a Wednesday: a time zone shift would show
    params = {"t": t, "none": None, "name": "Loan", "period": "week"}
    params["later"] = t + dt.timedelta(seconds=1, milliseconds=500)
    text, bound = osp.to_spark(sql, params)
    assert ":none" not in text and "none" not in bound
    found = _both(spark, sql, params)
    assert found.iloc[0].tolist() == [t, t, "Loan", pd.Timestamp(2026, 3, 2), 1.5]


def test_string_agg_keeps_its_order(spark: Any) -> None:
    sql = """SELECT string_agg(w, ', ' ORDER BY w) AS s
             FROM (SELECT 'b' AS w UNION ALL SELECT 'c' UNION ALL SELECT 'a') AS t"""
    assert _both(spark, sql)["s"].tolist() == ["a, b, c"]


def test_what_spark_cannot_do_is_an_analysis_error(spark: Any, tmp_path: Path) -> None:
    with pytest.raises(AnalysisError, match=r"\$x has no value"):
        osp.to_spark("SELECT $x")
    with pytest.raises(AnalysisError, match="register_parquet"):
        osp.run(spark, "SELECT * FROM definitions_not_registered")
    with pytest.raises(AnalysisError, match="needs the history in DuckDB"):
        export_parquet(spark, tmp_path / "export")  # only the analyses run on Spark


def test_register_refuses_a_folder_without_a_log(spark: Any, tmp_path: Path) -> None:
    with pytest.raises(AnalysisError, match="log/ folder"):
        osp.register_parquet(spark, tmp_path)
    assert all(spark.catalog.tableExists(t) for t in osp.TABLES)  # the views kept as they were


def test_import_orchlab_imports_neither_pyspark_nor_sqlglot() -> None:
    code = "import orchlab, orchlab.analysis, sys; print(sorted(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pyspark" not in out.stdout and "sqlglot" not in out.stdout


def test_java_home_is_found_from_the_java_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    home = osp.java_home()
    assert home is not None and (Path(home) / "bin" / "java").exists()
