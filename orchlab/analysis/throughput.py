"""Throughput: runs started, completed, canceled and errored per day, week or month."""

from __future__ import annotations

import pandas as pd

from orchlab.analysis._sql import Source, choose, query, shows_sql
from orchlab.analysis.filters import Filters

__all__ = ["throughput", "PERIODS"]

# Period name -> pandas frequency of its starts (weeks start on Monday, as date_trunc's do).
PERIODS = {"day": "D", "week": "W-MON", "month": "MS"}

_SQL = """
, events AS (
    SELECT orchestration_name, orchestration_version, created_date AS t, 'started' AS what
    FROM sel
    UNION ALL
    SELECT orchestration_name, orchestration_version, completed_date,
           CASE WHEN status = 'Completed' THEN 'completed' ELSE 'canceled' END
    FROM sel WHERE status IN ('Completed', 'Canceled')
    UNION ALL
    SELECT orchestration_name, orchestration_version, last_modified_date, 'errored'
    FROM sel WHERE status = 'Error'
),
bounds AS (
    SELECT CASE WHEN CAST($since AS TIMESTAMP) IS NULL THEN min(l.timestamp)
                ELSE greatest(min(l.timestamp), CAST($since AS TIMESTAMP)) END AS lo,
           CASE WHEN CAST($until AS TIMESTAMP) IS NULL THEN max(a.t)
                ELSE least(max(a.t), CAST($until AS TIMESTAMP)) END AS hi
    FROM log l CROSS JOIN as_of a
)
SELECT date_trunc($period, e.t) AS period, e.orchestration_name, e.orchestration_version,
       count(CASE WHEN e.what = 'started' THEN 1 END) AS started,
       count(CASE WHEN e.what = 'completed' THEN 1 END) AS completed,
       count(CASE WHEN e.what = 'canceled' THEN 1 END) AS canceled,
       count(CASE WHEN e.what = 'errored' THEN 1 END) AS errored,
       min(b.lo) AS lo, min(b.hi) AS hi
FROM events e CROSS JOIN bounds b
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
"""

_COUNTS = ["started", "completed", "canceled", "errored"]


@shows_sql(_SQL)
def throughput(
    source: Source, filters: Filters | None = None, *, period: str = "week"
) -> pd.DataFrame:
    """Runs started, completed, canceled and errored per period, orchestration and version.

    `period` is "day", "week" (Monday to Sunday) or "month". Every period the history covers
    is listed, zeros included. `partial` is True for a period the
    history (or the filters' window, or `as_of`) covers only in part: the first and the last.
    A run counts as errored in the period of its last change when its status is Error.

    Columns: period, orchestration_name, orchestration_version, started, completed,
    canceled, errored, partial.
    """
    freq = choose("period", period, PERIODS)
    f = filters or Filters()
    found = query(source, _SQL, f, {"period": period, "since": f.since, "until": f.until})
    columns = ["period", "orchestration_name", "orchestration_version", *_COUNTS, "partial"]
    if found.empty:
        return pd.DataFrame(columns=columns)
    lo, hi = found["lo"].iloc[0], found["hi"].iloc[0]
    keys = ["orchestration_name", "orchestration_version"]
    # Fill the periods with nothing in them, so plots and sums see the zeros.
    first, last = _period_start(pd.Timestamp(lo), period), _period_start(pd.Timestamp(hi), period)
    periods = pd.date_range(min(first, found["period"].min()), max(last, found["period"].max()),
                            freq=freq)  # fmt: skip
    groups = found[keys].drop_duplicates()
    grid = groups.merge(pd.DataFrame({"period": periods}), how="cross")
    out = grid.merge(found.drop(columns=["lo", "hi"]), on=[*keys, "period"], how="left")
    out[_COUNTS] = out[_COUNTS].fillna(0).astype("int64")
    out["partial"] = (out["period"] < lo) | (out["period"] >= last)
    out = out.sort_values(["period", *keys], ignore_index=True)
    return out[columns]


def _period_start(t: pd.Timestamp, period: str) -> pd.Timestamp:
    """The start of the period holding `t`, as SQL's date_trunc gives it."""
    day = t.normalize()
    if period == "week":
        return day - pd.Timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day
