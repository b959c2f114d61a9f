"""What every analysis shares: where it runs, the SQL helpers, the as-of views of the tables.

Each analysis is one SQL text in DuckDB's dialect; `query` runs it on DuckDB, or on Spark
through SQLGlot when the source is a SparkSession (orchlab.analysis.spark). The few functions
whose spelling differs between engines are made here only: `seconds()` and `quantile()`.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, Union

import duckdb
import pandas as pd

from orchlab.analysis import spark
from orchlab.analysis.filters import Filters, selection
from orchlab.errors import AnalysisError
from orchlab.store.history import HistoryStore

__all__ = [
    "Source",
    "connection",
    "query",
    "seconds",
    "milliseconds",
    "quantile",
    "STATS",
    "STATS_OUT",
    "STAGES",
    "STEPS",
    "STEPS_DONE",
    "ITEMS",
    "shows_sql",
    "choose",
]

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# A SparkSession only for `query` (the analyses); export, archive and eventlog need DuckDB.
# Union, not |: the session's class is a name only (pyspark is imported only with Spark).
Source = Union[HistoryStore, duckdb.DuckDBPyConnection, "SparkSession"]
F = TypeVar("F", bound=Callable[..., Any])


def connection(source: Source) -> duckdb.DuckDBPyConnection:
    """The DuckDB connection of a HistoryStore, or the connection itself."""
    if isinstance(source, HistoryStore):
        source.refresh()  # the tables then hold every row the log has
        return source.con
    if isinstance(source, duckdb.DuckDBPyConnection):
        return source
    if spark.is_spark(source):
        raise AnalysisError("this needs the history in DuckDB: a HistoryStore or a connection")
    raise AnalysisError(
        "expected a HistoryStore or a DuckDB connection (or, for the analyses, a SparkSession) "
        f"to analyse, got {type(source).__name__}"
    )


def seconds(start: str, end: str) -> str:
    """SQL for the seconds from `start` to `end` (milliseconds kept)."""
    return f"date_diff('millisecond', {start}, {end}) / 1000.0"


def quantile(expr: str, q: float | Sequence[float]) -> str:
    """SQL for the q-quantile of `expr` (a list of them for several q): nearest rank, so
    always a value that occurred.

    One place to swap it (e.g. for `approx_quantile` on a very large history, or Spark's
    `percentile_disc`): results are exact and stable, so checked numbers never sit between
    two values.
    """
    qs = q if isinstance(q, float | int) else "[" + ", ".join(str(x) for x in q) + "]"
    return f"quantile_disc({expr}, {qs})"


def milliseconds(start: str, end: str) -> str:
    """SQL for the whole milliseconds from `start` to `end` (a BIGINT)."""
    return f"date_diff('millisecond', {start}, {end})"


def STATS(ms: str) -> str:
    """count, mean, the quantiles (as one list, `_q`) and max of a duration in milliseconds
    (`milliseconds()`), as SQL select items of an aggregate; `STATS_OUT` then names the
    quantiles and turns them into seconds. One list quantile sorts each group once, where
    three separate ones sort it three times; and whole numbers sort faster than doubles
    (measured at 1M runs: a fifth less time for step durations)."""
    return (
        f"count({ms}) AS count, avg({ms}) / 1000.0 AS mean, "
        f"{quantile(ms, list(_QUANTILES.values()))} AS _q, max({ms}) / 1000.0 AS max"
    )


_QUANTILES = {"median": 0.5, "p90": 0.9, "p99": 0.99}
# The columns of a STATS aggregate, in order, from a query over it.
STATS_OUT = (
    "count, mean, "
    + ", ".join(f"_q[{i}] / 1000.0 AS {name}" for i, name in enumerate(_QUANTILES, start=1))
    + ", max"
)


# The tables as of `as_of.t`, for the selected runs. Ends after `t` are not seen yet; a stage
# or step left open by a run that closed (a canceled run's stage) ends with its run.
STAGES = """stages AS (
    SELECT s.id, sel.run_id, sel.orchestration_name, sel.orchestration_version,
           s.name AS stage_name, s.position, s.start_date,
           CASE WHEN s.end_date <= a.t THEN s.end_date ELSE sel.completed_date END AS end_date,
           CASE WHEN s.end_date <= a.t THEN s.status
                WHEN sel.completed_date IS NOT NULL THEN sel.status
                ELSE 'InProgress' END AS status
    FROM stage_runs s JOIN sel ON sel.run_id = s.orchestration_instance_id CROSS JOIN as_of a
    WHERE s.start_date <= a.t
)"""
STEPS = """steps AS (
    SELECT s.id, sel.run_id, s.stage_instance_id, sel.orchestration_name,
           sel.orchestration_version, s.orchestration_stage_name AS stage_name,
           s.name AS step_name, s.label, s.step_type, s.start_date,
           CASE WHEN s.end_date <= a.t THEN s.end_date ELSE sel.completed_date END AS end_date,
           CASE WHEN s.end_date <= a.t THEN s.status
                WHEN sel.completed_date IS NOT NULL THEN sel.status
                ELSE 'InProgress' END AS status
    FROM step_runs s JOIN sel ON sel.run_id = s.orchestration_instance_id CROSS JOIN as_of a
    WHERE s.start_date <= a.t
)"""
# Completed step runs as of `t`, read without a join when no filter selects runs: one
# scan of step_runs (previous_* and next_end_date are the run's completed steps in order).
STEPS_DONE = """steps_done AS (
    SELECT s.id, s.orchestration_instance_id AS run_id, s.stage_instance_id,
           s.orchestration_name, s.orchestration_version,
           s.orchestration_stage_name AS stage_name, s.name AS step_name, s.label,
           s.step_type, s.start_date, s.end_date, s.status, s.previous_step_name,
           s.previous_end_date, s.next_end_date
    FROM step_runs s{sel_join}{as_of_join}
    WHERE s.status = 'Completed'{done_by_t}
)"""
ITEMS = """items AS (
    SELECT w.id, sel.run_id, sel.orchestration_name, sel.orchestration_version, w.step_name,
           w.label, w.assignee_id, w.assignee_type, w.owner_id, w.created_date,
           CASE WHEN w.completed_date <= a.t THEN w.completed_date END AS completed_date,
           CASE WHEN w.completed_date <= a.t THEN w.completed_by END AS completed_by,
           CASE WHEN w.completed_date <= a.t THEN 'Completed' ELSE 'Assigned' END AS status
    FROM work_items w JOIN sel ON sel.run_id = w.orchestration_instance_id CROSS JOIN as_of a
    WHERE w.created_date <= a.t{items_where}
)"""
_ITEMS_ASSIGNEE = (
    "\n      AND (w.assignee_id = $assignee OR w.owner_id = $assignee OR "
    "(w.completed_by = $assignee AND w.completed_date <= a.t))"
)


def query(
    source: Source,
    body: str,
    filters: Filters | None = None,
    params: Mapping[str, Any] | None = None,
    *,
    ctes: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Run `WITH asof, sel[, ctes...] body` with the filters' parameters and `params`."""
    sql, bound = sql_text(body, filters, ctes)
    bound.update(params or {})
    if spark.is_spark(source):
        return spark.run(source, sql, bound)
    try:
        return connection(source).execute(sql, bound).df()
    except duckdb.CatalogException as error:
        raise AnalysisError(
            f"the history does not follow the schema (docs/schema.md): {error}"
        ) from None


def sql_text(
    body: str, filters: Filters | None = None, ctes: tuple[str, ...] = ()
) -> tuple[str, dict[str, Any]]:
    """The whole SQL text of an analysis and its parameters (to read, or run elsewhere)."""
    f = filters or Filters()
    head, bound = selection(f)
    items_where = _ITEMS_ASSIGNEE if f.assignee is not None else ""
    # Tables read as `s` join the selection only when a filter selects runs.
    sel_join = " JOIN sel ON sel.run_id = s.orchestration_instance_id" if f.selects_runs else ""
    # Without `as_of`, t is the newest log row's time, and every end folded from the log is
    # at or before it: the comparisons would hold for every row and cost a join (1M runs:
    # start/end steps 0.09 s with them, 0.05 s without).
    timed = f.as_of is not None
    fills = {
        "{items_where}": items_where,
        "{sel_join}": sel_join,
        "{as_of_join}": " CROSS JOIN as_of a" if timed else "",
        "{done_by_t}": " AND s.end_date <= a.t" if timed else "",
        "{or_after_t}": " OR next_end_date > a.t" if timed else "",
    }
    parts = [head, *ctes, textwrap.dedent(body).strip()]
    for i, part in enumerate(parts):
        for mark, text in fills.items():
            part = part.replace(mark, text)
        parts[i] = part
    return "WITH " + ",\n".join(parts[:-1]) + "\n" + parts[-1], bound


def shows_sql(*texts: str) -> Callable[[F], F]:
    """Append the SQL an analysis runs to its docstring, so help() shows it."""

    def decorate(fn: F) -> F:
        shown = "\n\n".join(textwrap.indent(textwrap.dedent(t).strip(), "        ") for t in texts)
        fn.__doc__ = (fn.__doc__ or "").rstrip() + (
            "\n\n    SQL (after the `as_of` and `sel` CTEs of `orchlab.analysis.filters`)::\n\n"
            + shown
            + "\n"
        )
        return fn

    return decorate


def choose(name: str, value: str, allowed: Mapping[str, Any] | tuple[str, ...]) -> Any:
    """`allowed[value]` (or `value` if it is in the tuple); AnalysisError naming the choices."""
    if value not in allowed:
        raise AnalysisError(
            f"{name}={value!r}: expected one of {', '.join(repr(a) for a in allowed)}"
        )
    return allowed[value] if isinstance(allowed, Mapping) else value
