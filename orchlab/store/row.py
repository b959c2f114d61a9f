"""A log row: the unit of history, and how its JSON payload keeps Python types.

The engine appends rows; the store writes them; replay reads them back.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any, NamedTuple

__all__ = ["Row", "COLUMNS", "dumps", "loads"]


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
    payload: str | None = None


COLUMNS = Row._fields


def _default(value: Any) -> Any:
    # Tag the types JSON lacks, so replay gives back exactly what a flow returned.
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, set | tuple):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__} {value!r} in the history")


def _hook(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        ((key, value),) = obj.items()
        if key == "$datetime":
            return dt.datetime.fromisoformat(value)
        if key == "$date":
            return dt.date.fromisoformat(value)
        if key == "$decimal":
            return Decimal(value)
    return obj


def dumps(payload: Any) -> str:
    return json.dumps(payload, default=_default, separators=(",", ":"))


def loads(text: str | None) -> Any:
    return json.loads(text, object_hook=_hook) if text else {}
