"""A log row: the unit of history, and how its JSON payload keeps Python types.

The engine appends rows; the store writes them; replay reads them back.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from orchlab.definition.tagged_json import dumps, loads

__all__ = ["Row", "COLUMNS"]


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


__all__ += ["dumps", "loads"]  # the tagged JSON codec, re-exported where payloads are stored
