"""Running orchestrations: the engine, its state, statuses, clock and ids.

Imports definition, people and store (where its log rows go); never analysis, render or UI.
The engine itself loads on first use, so the clock can be imported without DuckDB.
"""

from orchlab.engine.clock import Clock, Ids, SystemClock, VirtualClock
from orchlab.engine.status import Kind, RunStatus, Status, WorkItemStatus
from orchlab.errors import EngineError, NotFound, PermissionDenied, WorkItemClosed

_LAZY = {
    "Engine": "orchlab.engine.engine",
    "Run": "orchlab.engine.state",
    "StageRun": "orchlab.engine.state",
    "StepRun": "orchlab.engine.state",
    "WorkItem": "orchlab.engine.state",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'orchlab.engine' has no attribute {name!r}")


__all__ = [
    "Clock",
    "Engine",
    "EngineError",
    "Ids",
    "Kind",
    "NotFound",
    "PermissionDenied",
    "Run",
    "RunStatus",
    "StageRun",
    "Status",
    "StepRun",
    "SystemClock",
    "VirtualClock",
    "WorkItem",
    "WorkItemClosed",
    "WorkItemStatus",
]
