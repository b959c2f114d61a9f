"""A log row: the unit of history, and how its JSON payload keeps Python types.

The engine appends rows; the store writes them; replay reads them back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any, NamedTuple

import orjson

__all__ = ["Row", "COLUMNS", "dumps", "loads"]

# Datetimes go through `_default` so they come back as datetimes, not strings.
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


class Row(NamedTuple):
    """One row of the `log` table (FlowOrchestrationLog's fields, plus what replay needs)."""

    seq: int
    timestamp: dt.datetime
    kind: str
    instance_id: str | None = None
    orchestration_name: str | None = None
    orchestration_version: int | None = None
    stage_instance_id: str | None = None
    stage_name: str | None = None
    step_instance_id: str | None = None
    step_name: str | None = None
    work_item_id: str | None = None
    status: str | None = None
    actor: str | None = None
    assignee: str | None = None
    assignee_type: str | None = None
    context: str | None = None
    duration: float | None = None
    comments: str | None = None
    payload: Any = None  # a dict in memory; JSON text in the store


COLUMNS = Row._fields


def _default(value: Any) -> Any:
    # Tag the types JSON lacks, so replay gives back exactly what a flow returned.
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot store {type(value).__name__} {value!r} in the history")


_TAGS: dict[str, Callable[[str], Any]] = {
    "$datetime": dt.datetime.fromisoformat,
    "$date": dt.date.fromisoformat,
    "$decimal": Decimal,
}


def _revive(obj: Any) -> Any:
    if isinstance(obj, dict):
        if len(obj) == 1:
            ((key, value),) = obj.items()
            tag = _TAGS.get(key)
            if tag is not None:
                return tag(value)
        return {k: _revive(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_revive(v) for v in obj]
    return obj


def dumps(payload: Any) -> str | None:
    """JSON text for a payload (None stays None); dates, datetimes and Decimals are tagged."""
    if payload is None:
        return None
    return orjson.dumps(payload, default=_default, option=_OPTIONS).decode()


def loads(text: str | None) -> Any:
    """The payload back, with its dates, datetimes and Decimals."""
    return _revive(orjson.loads(text)) if text else None
