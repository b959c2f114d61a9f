"""Cycle times of runs, stages, steps and work items; where the time goes (people or not).

Durations are seconds. Percentiles are nearest-rank (`orchlab.analysis._sql.quantile`):
always a duration that occurred.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from orchlab.analysis._sql import (
    _QUANTILES,
    ITEMS,
    STAGES,
    STATS,
    STATS_OUT,
    STEPS_DONE,
    Source,
    choose,
    connection,
    milliseconds,
    query,
    seconds,
    shows_sql,
)
from orchlab.analysis.filters import Filters, _in
from orchlab.analysis.throughput import PERIODS
from orchlab.store.history import HistoryStore
from orchlab.store.materialize import covered

__all__ = ["cycle_times", "durations", "time_split", "LEVELS"]

# level -> (CTE, its rows as "x", the group keys, the extra keys one may add with `by`)
_LEVELS: dict[str, tuple[str, str, tuple[str, ...], tuple[str, ...]]] = {
    "run": (
        "",
        "SELECT orchestration_name, orchestration_version, source, created_date AS start_date, "
        "completed_date AS end_date, run_id AS id FROM sel WHERE status = 'Completed'",
        ("orchestration_name", "orchestration_version"),
        ("source",),
    ),
    "stage": (
        STAGES,
        "SELECT * FROM stages WHERE status = 'Completed'",
        ("orchestration_name", "stage_name"),
        ("orchestration_version",),
    ),
    "step": (
        STEPS_DONE,
        "SELECT * FROM steps_done",
        ("orchestration_name", "stage_name", "step_name", "step_type"),
        ("orchestration_version",),
    ),
    "work_item": (
        ITEMS,
        "SELECT *, created_date AS start_date, completed_date AS end_date FROM items "
        "WHERE status = 'Completed'",
        ("orchestration_name", "step_name", "label"),
        ("orchestration_version", "assignee_type", "assignee_id", "owner_id", "completed_by"),
    ),
}
LEVELS = tuple(_LEVELS)
_DURATION = seconds("x.start_date", "x.end_date")
_MS = milliseconds("x.start_date", "x.end_date")

_STATS_SQL = """
SELECT {outer}, {stats_out} FROM (
    SELECT {keys}, {stats}{order_key}
    FROM ({rows}) AS x
    GROUP BY {group}
) AS g
ORDER BY {order}
"""

_DURATIONS_SQL = """
SELECT {keys}, x.end_date, {duration} AS seconds
FROM ({rows}) AS x
ORDER BY {order}, x.end_date
"""


def _level(level: str, by: Sequence[str], period: str | None) -> tuple[str, list[str], str]:
    cte, rows, keys, extra = choose("level", level, _LEVELS)
    for key in by:
        choose(f"by (level {level!r})", key, extra + keys)
    group = [*keys, *(k for k in by if k not in keys)]
    exprs = [f"x.{k}" for k in group]
    if period is not None:
        choose("period", period, PERIODS)
        exprs.insert(0, "date_trunc($period, x.end_date) AS period")
        group.insert(0, "period")
    return cte, exprs, rows


def _sql(level: str, by: Sequence[str], period: str | None) -> tuple[str, tuple[str, ...]]:
    cte, exprs, rows = _level(level, by, period)
    positions = [str(i + 1) for i in range(len(exprs))]
    names = [e.split(" AS ")[-1].removeprefix("x.") for e in exprs]
    # Stages in definition order within each orchestration (and period), not by name.
    order, order_key = positions, ""
    if level == "stage":
        first = 2 if period else 1
        order = [*positions[:first], "_position", *positions[first:]]
        order_key = ", min(x.position) AS _position"
    sql = _STATS_SQL.format(
        outer=", ".join(names),
        stats_out=STATS_OUT,
        keys=", ".join(exprs),
        stats=STATS(_MS),
        order_key=order_key,
        rows=rows,
        group=", ".join(positions),
        order=", ".join(order),
    )
    return sql, (cte,) if cte else ()


# Runs and steps over all history (no filter but orchestration and version, no as_of): the
# same numbers from the counts per group and millisecond that the store keeps
# (`run_durations`, `step_durations`), so the cost follows the distinct durations, not the
# rows (1M runs: steps 0.36 s before, 0.03 s after).
# A q-quantile is the duration at nearest rank max(1, n - floor(n - n*q)), as quantile_disc.
_COUNTS_SQL = """
SELECT {keys}, CAST(sum(n) AS BIGINT) AS count,
       CAST(sum(ms * n) AS DOUBLE) / CAST(sum(n) AS DOUBLE) / 1000.0 AS mean,
       {quantiles}, max(ms) / 1000.0 AS max
FROM (
    SELECT *, sum(n) OVER (PARTITION BY {keys} ORDER BY ms ROWS UNBOUNDED PRECEDING) AS cum,
           CAST(sum(n) OVER (PARTITION BY {keys}) AS DOUBLE) AS total
    FROM {table}
    WHERE ms IS NOT NULL AND n > 0{where}
) AS c
GROUP BY {keys}
ORDER BY {keys}
"""
_RANK = "greatest(1, total - floor(total - total * {q}))"


_COUNTED = {"run": "run_durations", "step": "step_durations"}


def _from_counts(
    source: Source, filters: Filters | None, level: str, by: Sequence[str], period: str | None
) -> pd.DataFrame | None:
    """cycle_times of runs or steps from the store's counts, when the question allows it."""
    f = filters or Filters()
    others = f.where(orchestration=None, version=None)
    if not isinstance(source, HistoryStore) or level not in _COUNTED:
        return None
    if period or others.selects_runs or f.as_of:
        return None
    group = _LEVELS[level][2]  # `by` is checked: its keys are columns of the counts too
    keys = ", ".join([*group, *(k for k in by if k not in group)])
    params: dict[str, Any] = {}
    where = ""
    if f.orchestration:
        where += " AND " + _in("orchestration_name", "orchestration", f.orchestration, params)
    if f.version:
        where += " AND " + _in("orchestration_version", "version", f.version, params)
    quantiles = ", ".join(
        f"min(ms) FILTER (WHERE cum >= {_RANK.format(q=q)}) / 1000.0 AS {name}"
        for name, q in _QUANTILES.items()
    )
    sql = _COUNTS_SQL.format(table=_COUNTED[level], keys=keys, quantiles=quantiles, where=where)
    return connection(source).execute(sql, params).df()


@shows_sql(
    _STATS_SQL,
    *(f"-- {lvl}: {rows}" for lvl, (_, rows, _, _) in _LEVELS.items()),
    "-- run and step, on a HistoryStore, filtered by orchestration and version at most "
    "(from run_durations or step_durations):" + _COUNTS_SQL,
)
def cycle_times(
    source: Source,
    filters: Filters | None = None,
    *,
    level: str = "stage",
    by: Sequence[str] = (),
    period: str | None = None,
) -> pd.DataFrame:
    """count, mean, median, p90, p99 and max seconds of what completed, per group.

    Args:
        level: "run" (Completed runs, per orchestration and version), "stage" (Completed
            stage runs, per orchestration and stage), "step" (Completed step runs, per
            stage, step and step_type: InteractiveStep time waits on a person, the others
            are automated) or "work_item" (completed work items, per step and label).
        by: more group keys: "orchestration_version" (stage, step, work_item), "source"
            (run), "assignee_type", "assignee_id", "owner_id", "completed_by" (work_item).
        period: "day", "week" or "month": a trend, grouped by the period each one ended in.
    """
    sql, ctes = _sql(level, tuple(by), period)
    if (counted := _from_counts(source, filters, level, by, period)) is not None:
        return counted
    return query(source, sql, filters, {"period": period} if period else None, ctes=ctes)


@shows_sql(_DURATIONS_SQL)
def durations(
    source: Source, filters: Filters | None = None, *, level: str = "stage"
) -> pd.DataFrame:
    """Every completed run, stage, step or work item's duration: one row each (for plots).

    Columns: the group keys of `cycle_times` at that level, end_date and seconds (stages in
    definition order).
    """
    cte, exprs, rows = _level(level, (), None)
    sql = _DURATIONS_SQL.format(
        keys=", ".join(exprs),
        order=", ".join(
            ["x.orchestration_name", "x.position", *exprs] if level == "stage" else exprs
        ),
        duration=_DURATION,
        rows=rows,
    )
    return query(source, sql, filters, ctes=(cte,) if cte else ())


# Stage runs that ended by `t` carry their split (busy and person seconds, folded by the
# store when they ended); only those still open at `t` are split here, from their steps
# so far: the cost follows the open stage runs, not all history (1M runs: 12 s before).
_STAGE_SPLIT = """stages_split AS (
    SELECT s.id, s.orchestration_name, s.name AS stage_name, s.position, s.start_date,
           CASE WHEN s.end_date <= a.t THEN s.end_date END AS end_date,
           CASE WHEN s.end_date <= a.t THEN s.busy_seconds END AS busy,
           CASE WHEN s.end_date <= a.t THEN s.person_seconds END AS person
    FROM stage_runs s{sel_join} CROSS JOIN as_of a
    WHERE s.start_date <= a.t
)"""
_SPLIT = """
, open_spans AS (
    SELECT p.stage_instance_id, p.start_date,
           CASE WHEN p.end_date <= a.t THEN p.end_date ELSE a.t END AS end_date, g.grp
    FROM step_runs p CROSS JOIN as_of a
    JOIN (SELECT 'busy' AS grp UNION ALL SELECT 'person' AS grp) AS g
      ON g.grp = 'busy' OR p.step_type = 'InteractiveStep'
    WHERE p.start_date <= a.t AND p.stage_instance_id IN (
        SELECT o.id FROM stage_runs o CROSS JOIN as_of b
        WHERE o.start_date <= b.t AND (o.end_date IS NULL OR o.end_date > b.t))
),
covered AS ({covered}),
split AS (
    SELECT st.orchestration_name, st.stage_name, st.position, {elapsed} AS elapsed,
           coalesce(st.person, c.person, 0) AS person,
           coalesce(st.busy - st.person, c.busy - c.person, 0) AS automated
    FROM stages_split st CROSS JOIN as_of a LEFT JOIN covered c ON c.stage_instance_id = st.id
)
SELECT {keys}, count(*) AS stage_runs, sum(elapsed) AS elapsed_seconds,
       sum(person) AS person_seconds, sum(automated) AS automated_seconds,
       sum(elapsed) - sum(person) - sum(automated) AS other_seconds,
       sum(person) / nullif(sum(elapsed), 0) AS person_share
FROM split
GROUP BY {keys}
ORDER BY orchestration_name{order}
""".format(
    covered=covered("SELECT * FROM open_spans"),
    elapsed=seconds("st.start_date", "coalesce(st.end_date, a.t)"),
    keys="{keys}",
    order="{order}",
)


@shows_sql(_STAGE_SPLIT, _SPLIT)
def time_split(
    source: Source, filters: Filters | None = None, *, level: str = "stage"
) -> pd.DataFrame:
    """Where the time goes: waiting for a person versus automated work versus neither.

    Over every stage run as of `filters.as_of` (open ones until then): `person_seconds`
    while at least one interactive step was open (a work item waiting), `automated_seconds`
    while only background or external steps ran, `other_seconds` while no step ran
    (waiting for an entry condition, an event or a record change). level "stage" sums per
    orchestration and stage; "run" per orchestration (a run is its stages back to back).
    """
    keys = choose("level", level, {"stage": "orchestration_name, stage_name", "run": None})
    sql = _SPLIT.format(keys=keys or "orchestration_name", order=", min(position)" if keys else "")
    return query(source, sql, filters, ctes=(_STAGE_SPLIT,))
