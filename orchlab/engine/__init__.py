"""Running orchestrations: the engine, its state and its statuses."""

from orchlab.engine.engine import Engine
from orchlab.engine.errors import EngineError, NotFound, PermissionDenied, WorkItemClosed
from orchlab.engine.state import Run, StageRun, StepRun, WorkItem
from orchlab.engine.status import Kind, RunStatus, Status, WorkItemStatus

__all__ = [
    "Engine",
    "EngineError",
    "Kind",
    "NotFound",
    "PermissionDenied",
    "Run",
    "RunStatus",
    "StageRun",
    "Status",
    "StepRun",
    "WorkItem",
    "WorkItemClosed",
    "WorkItemStatus",
]
