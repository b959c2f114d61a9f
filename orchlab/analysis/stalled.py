"""Stalled runs: in progress, yet nothing has moved for longer than a threshold.

Progress is a stage or step starting or ending (a person completing a work item ends its
step). Reassigning, suspending or publishing an event is not progress.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from orchlab.analysis._sql import ITEMS, Source, query, seconds, shows_sql
from orchlab.analysis.filters import Filters
from orchlab.errors import AnalysisError

__all__ = ["stalled_runs", "stalled_work_items", "open_work_items"]

# Open runs, their last progress and the stage they are in, all as of as_of.t.
_OPEN = """open_runs AS (
    SELECT * FROM sel WHERE status = 'InProgress'
),
progress AS (
    SELECT run_id, max(t) AS last_progress FROM (
        SELECT run_id, created_date AS t FROM open_runs
        UNION ALL
        SELECT s.orchestration_instance_id,
               CASE WHEN s.end_date <= a.t THEN s.end_date ELSE s.start_date END
        FROM stage_runs s JOIN open_runs o ON o.run_id = s.orchestration_instance_id
             CROSS JOIN as_of a
        WHERE s.start_date <= a.t
        UNION ALL
        SELECT s.orchestration_instance_id,
               CASE WHEN s.end_date <= a.t THEN s.end_date ELSE s.start_date END
        FROM step_runs s JOIN open_runs o ON o.run_id = s.orchestration_instance_id
             CROSS JOIN as_of a
        WHERE s.start_date <= a.t
    ) AS moves
    GROUP BY run_id
),
stalled AS (
    SELECT o.*, p.last_progress, {idle} AS idle_seconds
    FROM open_runs o JOIN progress p ON p.run_id = o.run_id CROSS JOIN as_of a
    WHERE {idle} >= $idle_seconds
),
current_stage AS (
    SELECT s.orchestration_instance_id AS run_id, max(s.name) AS current_stage
    FROM stage_runs s JOIN stalled o ON o.run_id = s.orchestration_instance_id CROSS JOIN as_of a
    WHERE s.start_date <= a.t AND (s.end_date IS NULL OR s.end_date > a.t)
    GROUP BY 1
)""".replace("{idle}", seconds("p.last_progress", "a.t"))

_WAITING = """waiting AS (
    SELECT i.*, CASE WHEN i.assignee_type = 'User' OR i.owner_id IS NULL
                     THEN i.assignee_type || ' ' || i.assignee_id
                     ELSE i.assignee_type || ' ' || i.assignee_id || ' -> ' || i.owner_id
                END AS waiting_on
    FROM items i WHERE i.status = 'Assigned'
)"""

_RUNS_SQL = """
SELECT s.run_id AS id, s.orchestration_name, s.orchestration_version, c.current_stage,
       s.created_date, s.last_progress, s.idle_seconds,
       count(w.id) AS open_items,
       string_agg(w.waiting_on, ', ' ORDER BY w.waiting_on) AS waiting_on,
       max({age}) AS oldest_item_seconds
FROM stalled s LEFT JOIN current_stage c ON c.run_id = s.run_id
     LEFT JOIN waiting w ON w.run_id = s.run_id
     CROSS JOIN as_of a
GROUP BY s.run_id, s.orchestration_name, s.orchestration_version, c.current_stage,
         s.created_date, s.last_progress, s.idle_seconds
ORDER BY s.idle_seconds DESC, s.run_id
""".replace("{age}", seconds("w.created_date", "a.t"))

_ITEMS_SQL = """
SELECT w.id AS work_item_id, s.run_id, s.orchestration_name, s.orchestration_version,
       c.current_stage AS stage_name, w.step_name, w.label, w.assignee_type, w.assignee_id,
       w.owner_id, w.waiting_on, w.created_date, {age} AS age_seconds, s.idle_seconds
FROM stalled s JOIN waiting w ON w.run_id = s.run_id
     LEFT JOIN current_stage c ON c.run_id = s.run_id
     CROSS JOIN as_of a
ORDER BY s.idle_seconds DESC, s.run_id, w.id
""".replace("{age}", seconds("w.created_date", "a.t"))

_OPEN_ITEMS_SQL = """
SELECT w.id AS work_item_id, w.run_id, w.orchestration_name, w.orchestration_version,
       w.step_name, w.label, w.assignee_type, w.assignee_id, w.owner_id, w.waiting_on,
       w.created_date, {age} AS age_seconds
FROM waiting w CROSS JOIN as_of a
ORDER BY age_seconds DESC, w.id
""".replace("{age}", seconds("w.created_date", "a.t"))


def _idle(idle: dt.timedelta) -> float:
    if not isinstance(idle, dt.timedelta) or idle < dt.timedelta(0):
        raise AnalysisError(f"idle: expected a timedelta of zero or more, got {idle!r}")
    return idle.total_seconds()


@shows_sql(_OPEN, ITEMS, _WAITING, _RUNS_SQL)
def stalled_runs(
    source: Source, filters: Filters | None = None, *, idle: dt.timedelta = dt.timedelta(days=3)
) -> pd.DataFrame:
    """In-progress runs with no progress for `idle` or longer, the most idle first.

    One row per run: id, orchestration_name, orchestration_version, current_stage,
    created_date, last_progress, idle_seconds, open_items (work items still assigned),
    waiting_on (e.g. "Queue Engineering -> bob, User dana": the assignee and, for a routed
    queue, the person it was routed to) and oldest_item_seconds (the age of its oldest open
    work item; NaN without one).
    """
    return query(
        source, _RUNS_SQL, filters, {"idle_seconds": _idle(idle)}, ctes=(_OPEN, ITEMS, _WAITING)
    )


@shows_sql(_OPEN, ITEMS, _WAITING, _ITEMS_SQL)
def stalled_work_items(
    source: Source, filters: Filters | None = None, *, idle: dt.timedelta = dt.timedelta(days=3)
) -> pd.DataFrame:
    """The open work items of stalled runs: whom each run waits on, one row per item.

    Columns: work_item_id, run_id, orchestration_name, orchestration_version, stage_name,
    step_name, label, assignee_type, assignee_id, owner_id, waiting_on, created_date,
    age_seconds (how long the item has been open) and idle_seconds (of its run).
    """
    return query(
        source, _ITEMS_SQL, filters, {"idle_seconds": _idle(idle)}, ctes=(_OPEN, ITEMS, _WAITING)
    )


@shows_sql(ITEMS, _WAITING, _OPEN_ITEMS_SQL)
def open_work_items(source: Source, filters: Filters | None = None) -> pd.DataFrame:
    """Every work item still assigned as of `filters.as_of`, the oldest first.

    With `Filters(assignee=...)` only that user's, group's or queue's items (assigned or
    routed to it). Columns as `stalled_work_items`, without stage_name and idle_seconds.
    """
    return query(source, _OPEN_ITEMS_SQL, filters, ctes=(ITEMS, _WAITING))
