"""Bottlenecks: where the elapsed time and the open work pile up; backlogs per assignee."""

from __future__ import annotations

import pandas as pd

from orchlab.analysis._sql import (
    ITEMS,
    STAGES,
    STEPS,
    Source,
    choose,
    quantile,
    query,
    seconds,
    shows_sql,
)
from orchlab.analysis.filters import Filters

__all__ = ["bottlenecks", "backlog", "work_in_progress"]

_RANK_SQL = """
, x AS (
    SELECT {keys}, {elapsed} AS elapsed, end_date IS NULL AS open, {sort} AS sort
    FROM {table} CROSS JOIN as_of a
),
per AS (
    SELECT {keys}, count(*) AS runs, count(CASE WHEN open THEN 1 END) AS wip,
           sum(elapsed) AS elapsed_seconds,
           {median} AS median, {p90} AS p90, max(CASE WHEN open THEN elapsed END) AS oldest_open,
           min(sort) AS sort
    FROM x GROUP BY {keys}
)
SELECT {keys}, runs, wip, elapsed_seconds,
       elapsed_seconds / sum(elapsed_seconds) OVER (PARTITION BY orchestration_name) AS share,
       median, p90, oldest_open AS oldest_open_seconds,
       rank() OVER (PARTITION BY orchestration_name ORDER BY elapsed_seconds DESC) AS rank
FROM per
ORDER BY orchestration_name, rank, sort, {keys}
"""

_BOTTLENECK_LEVELS = {
    "stage": (STAGES, "stages", "orchestration_name, stage_name", "position"),
    "step": (STEPS, "steps", "orchestration_name, stage_name, step_name, step_type", "start_date"),
}


@shows_sql(_RANK_SQL)
def bottlenecks(
    source: Source, filters: Filters | None = None, *, level: str = "stage"
) -> pd.DataFrame:
    """Stages (or steps) ranked by their share of the elapsed time, with work in progress.

    Over every stage or step run as of `filters.as_of`, open ones counted until then.
    Columns: orchestration_name, stage_name (and step_name, step_type for level "step"),
    runs, wip (still open), elapsed_seconds, share (of the orchestration's total at this
    level), median and p90 seconds (of all, open ones so far), oldest_open_seconds and
    rank (1 = most time) within the orchestration.
    """
    cte, table, keys, sort = choose("level", level, _BOTTLENECK_LEVELS)
    elapsed = seconds("start_date", "coalesce(end_date, a.t)")
    sql = _RANK_SQL.format(
        keys=keys,
        elapsed=elapsed,
        table=table,
        sort=sort,
        median=quantile("elapsed", 0.5),
        p90=quantile("elapsed", 0.9),
    )
    return query(source, sql, filters, ctes=(cte,))


_BACKLOG_SQL = """
, x AS (
    SELECT i.*, {age} AS age, {took} AS took FROM items i CROSS JOIN as_of a
)
SELECT {keys},
       count(CASE WHEN status = 'Assigned' THEN 1 END) AS open,
       max(CASE WHEN status = 'Assigned' THEN age END) AS oldest_open_seconds,
       {median_age} AS median_open_seconds,
       count(*) AS assigned,
       count(CASE WHEN status = 'Completed' THEN 1 END) AS completed,
       count(CASE WHEN status = 'Completed' THEN 1 END) * 1.0 / count(*)
           AS completion_rate,
       {median_took} AS median_seconds_to_complete
FROM x
GROUP BY {keys}
ORDER BY open DESC, oldest_open_seconds DESC NULLS LAST, {keys}
"""
_BACKLOG_KEYS = {
    "assignee": "assignee_type, assignee_id",
    "owner": "assignee_type, assignee_id, owner_id",
    "orchestration": "orchestration_name, assignee_type, assignee_id",
}


@shows_sql(_BACKLOG_SQL)
def backlog(
    source: Source, filters: Filters | None = None, *, by: str = "assignee"
) -> pd.DataFrame:
    """Open work, its age and the completion rate per assignee (user, group or queue).

    `by` "assignee" groups by the user, group or queue items were given to; "owner" also by
    the person a routed queue gave them to (owner_id; None for pools and groups);
    "orchestration" per orchestration and assignee. As of `filters.as_of`.

    Columns: the keys, open, oldest_open_seconds, median_open_seconds, assigned (all items
    created so far), completed, completion_rate (completed / assigned) and
    median_seconds_to_complete.
    """
    keys = choose("by", by, _BACKLOG_KEYS)
    sql = _BACKLOG_SQL.format(
        keys=keys,
        age=seconds("i.created_date", "a.t"),
        took=seconds("i.created_date", "i.completed_date"),
        median_age=quantile("CASE WHEN status = 'Assigned' THEN age END", 0.5),
        median_took=quantile("took", 0.5),
    )
    return query(source, sql, filters, ctes=(ITEMS,))


_WIP_SQL = """
, moves AS (
    SELECT {keys}, date_trunc($period, start_date) AS period, 1 AS entered, 0 AS left_
    FROM {table}
    UNION ALL
    SELECT {keys}, date_trunc($period, end_date), 0, 1 FROM {table} WHERE end_date IS NOT NULL
),
per AS (
    SELECT {keys}, period, CAST(sum(entered) AS BIGINT) AS entered,
           CAST(sum(left_) AS BIGINT) AS left_
    FROM moves GROUP BY {keys}, period
)
SELECT period, {keys}, entered, left_ AS finished,
       CAST(sum(entered - left_) OVER (PARTITION BY {keys} ORDER BY period
                                  ROWS UNBOUNDED PRECEDING) AS BIGINT) AS wip
FROM per
ORDER BY period, {keys}
"""
_WIP_LEVELS = {
    "run": ("", "runs_as_of", "orchestration_name"),
    "stage": (STAGES, "stages", "orchestration_name, stage_name"),
}
_RUNS_AS_OF = """runs_as_of AS (
    SELECT orchestration_name, created_date AS start_date,
           CASE WHEN status IN ('Completed', 'Canceled') THEN completed_date
                WHEN status = 'Error' THEN last_modified_date END AS end_date
    FROM sel
)"""


@shows_sql(_RUNS_AS_OF, _WIP_SQL)
def work_in_progress(
    source: Source, filters: Filters | None = None, *, period: str = "day", level: str = "run"
) -> pd.DataFrame:
    """Work in progress over time: how many runs (or stage runs) were open at each period's end.

    Columns: period, orchestration_name (and stage_name for level "stage"), how many
    entered and finished during the period, wip (open at its end; an Error run has
    finished). Periods where nothing entered or finished are not listed: their wip is the
    one before.
    """
    from orchlab.analysis.throughput import PERIODS

    choose("period", period, PERIODS)
    cte, table, keys = choose("level", level, _WIP_LEVELS)
    sql = _WIP_SQL.format(keys=keys, table=table)
    return query(source, sql, filters, {"period": period}, ctes=(cte or _RUNS_AS_OF,))
