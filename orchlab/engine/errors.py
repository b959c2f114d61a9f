"""What the engine refuses: the errors live in `orchlab.errors`; here for engine imports."""

from orchlab.errors import EngineError, NotFound, PermissionDenied, WorkItemClosed

__all__ = ["EngineError", "NotFound", "PermissionDenied", "WorkItemClosed"]
