"""Which runs a question is about, and as of when: one `Filters` object for every analysis.

    >>> import datetime as dt
    >>> f = Filters(orchestration="Loan") & Filters(source="live", as_of=dt.datetime(2026, 1, 9))
    >>> f.orchestration, f.source, f.as_of.day
    (('Loan',), ('live',), 9)

Every analysis starts from the same two CTEs, built here from the filters with bound
parameters only (a value is never pasted into SQL text):

- `as_of(t)`: the time the question is asked at, `as_of` or else the newest log row's time
  (the end of the history). Nothing after it is seen: a run open at `t` is open even if it
  closed later, a stage that ended later is still running, a work item completed later is
  still assigned.
- `sel`: the selected runs (one row each) with their state as of `t`.

As of an earlier time, a run counts as closed when its `completed_date` is at or before it;
`Error` and `Suspended` are read from the run's current status when nothing happened to it
after `t` (the tables keep no history of those two), and assignees are the current ones.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from typing import Any

from orchlab.errors import AnalysisError

__all__ = ["Filters", "RUN_STATUSES", "SOURCES", "selection"]

RUN_STATUSES = ("InProgress", "Completed", "Canceled", "Suspended", "Error")
SOURCES = ("live", "simulated", "imported")

# The run state as of `t`, and the selection. `{where}` and `{having}` are filled only with
# fixed condition texts from `selection()`, each holding `$name` placeholders.
_SELECTION = """as_of AS (
    SELECT coalesce(CAST($as_of AS TIMESTAMP), (SELECT max(timestamp) FROM log)) AS t
),
sel AS (
    SELECT * FROM (
        SELECT r.id AS run_id, r.orchestration_name, r.orchestration_version, r.created_date,
               CASE WHEN r.completed_date <= a.t THEN r.completed_date END AS completed_date,
               CASE WHEN r.completed_date <= a.t THEN r.status
                    WHEN r.status IN ('Error', 'Suspended') AND r.last_modified_date <= a.t
                        THEN r.status
                    ELSE 'InProgress' END AS status,
               r.last_modified_date, r.source
        FROM runs r CROSS JOIN as_of a
        WHERE r.created_date <= a.t{where}
    ) AS s
    WHERE TRUE{having}
)"""


def _tuple(value: Any, name: str, kind: type | tuple[type, ...]) -> tuple[Any, ...] | None:
    if value is None:
        return None
    values = (value,) if isinstance(value, kind) else tuple(value)
    for v in values:
        if not isinstance(v, kind):
            raise AnalysisError(f"Filters.{name}: expected {_kind_name(kind)} values, got {v!r}")
    if not values:
        raise AnalysisError(f"Filters.{name}: expected at least one value (or None for all)")
    return values


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


@dataclass(frozen=True)
class Filters:
    """Which runs to look at, and when; every field is optional and they all hold together.

    Args:
        orchestration: orchestration API name(s).
        version: orchestration version(s).
        since: runs created at or after this time.
        until: runs created before this time.
        status: run status(es) as of `as_of` (InProgress, Completed, Canceled, Suspended, Error).
        assignee: runs with a work item assigned or routed to, or completed by, this user,
            group or queue; questions about work items keep only that assignee's items.
        record_object: runs triggered by a record of this object (e.g. "Case").
        source: where the history came from: "live", "simulated", "imported".
        as_of: answer as if the history ended here (default: its newest row).
    """

    orchestration: str | tuple[str, ...] | None = None
    version: int | tuple[int, ...] | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    status: str | tuple[str, ...] | None = None
    assignee: str | None = None
    record_object: str | None = None
    source: str | tuple[str, ...] | None = None
    as_of: dt.datetime | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen: normalise once, here
        set_(self, "orchestration", _tuple(self.orchestration, "orchestration", str))
        set_(self, "version", _tuple(self.version, "version", int))
        set_(self, "status", _tuple(self.status, "status", str))
        set_(self, "source", _tuple(self.source, "source", str))
        for name, allowed in (("status", RUN_STATUSES), ("source", SOURCES)):
            for v in getattr(self, name) or ():
                if v not in allowed:
                    raise AnalysisError(f"Filters.{name}: {v!r} is not one of {', '.join(allowed)}")
        for name in ("since", "until", "as_of"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, dt.datetime):
                raise AnalysisError(f"Filters.{name}: expected a datetime, got {value!r}")
        for name in ("assignee", "record_object"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise AnalysisError(f"Filters.{name}: expected a name (str), got {value!r}")

    @property
    def selects_runs(self) -> bool:
        """Whether any field but `as_of` is set (else every run is selected)."""
        return any(getattr(self, f.name) is not None for f in fields(self) if f.name != "as_of")

    def where(self, **changes: Any) -> Filters:
        """A copy with some fields changed: `f.where(source="live")`."""
        return replace(self, **changes)

    def __and__(self, other: Filters) -> Filters:
        """Both filters at once: lists intersect, windows narrow, the earlier `as_of` wins."""
        if not isinstance(other, Filters):
            return NotImplemented
        merged: dict[str, Any] = {}
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            if a is None or b is None:
                merged[f.name] = a if b is None else b
            elif isinstance(a, tuple):
                both = tuple(v for v in a if v in b)
                if not both:
                    raise AnalysisError(f"Filters &: no {f.name} is in both {a} and {b}")
                merged[f.name] = both
            elif f.name == "since":
                merged[f.name] = max(a, b)
            elif f.name in ("until", "as_of"):
                merged[f.name] = min(a, b)
            elif a != b:
                raise AnalysisError(f"Filters &: {f.name} {a!r} and {b!r} cannot both hold")
            else:
                merged[f.name] = a
        return Filters(**merged)


def _in(column: str, name: str, values: Iterable[Any], params: dict[str, Any]) -> str:
    """`column IN ($name0, $name1, ...)`, the values bound as parameters."""
    marks = []
    for i, value in enumerate(values):
        params[f"{name}{i}"] = value
        marks.append(f"${name}{i}")
    return f"{column} IN ({', '.join(marks)})"


def selection(filters: Filters | None) -> tuple[str, dict[str, Any]]:
    """The `as_of` and `sel` CTEs for these filters, and their bound parameters.

    >>> sql, params = selection(Filters(orchestration=("Loan", "Case_Escalation")))
    >>> "r.orchestration_name IN ($orchestration0, $orchestration1)" in sql
    True
    >>> sorted(params)
    ['as_of', 'orchestration0', 'orchestration1']
    """
    f = filters or Filters()
    params: dict[str, Any] = {"as_of": f.as_of}
    where: list[str] = []
    if f.orchestration:
        where.append(_in("r.orchestration_name", "orchestration", f.orchestration, params))
    if f.version:
        where.append(_in("r.orchestration_version", "version", f.version, params))
    if f.source:
        where.append(_in("r.source", "source", f.source, params))
    if f.since is not None:
        params["since"] = f.since
        where.append("r.created_date >= $since")
    if f.until is not None:
        params["until"] = f.until
        where.append("r.created_date < $until")
    if f.record_object is not None:
        params["record_object"] = f.record_object
        where.append("r.triggering_record_type = $record_object")
    if f.assignee is not None:
        params["assignee"] = f.assignee
        where.append(
            "r.id IN (SELECT orchestration_instance_id FROM work_items WHERE assignee_id = "
            "$assignee OR owner_id = $assignee OR completed_by = $assignee)"
        )
    having = [_in("s.status", "status", f.status, params)] if f.status else []
    sql = _SELECTION.format(
        where="".join(f"\n          AND {w}" for w in where),
        having="".join(f" AND {h}" for h in having),
    )
    return sql, params
