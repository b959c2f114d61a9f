"""What the engine refuses, as exceptions whose messages say what to do instead."""

from __future__ import annotations

__all__ = ["EngineError", "NotFound", "PermissionDenied", "WorkItemClosed"]


class EngineError(RuntimeError):
    """A command the engine refuses; nothing was changed."""


class NotFound(EngineError, KeyError):
    """No such run, work item, record or definition."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class PermissionDenied(EngineError):
    """The user may not do this (not an assignee, member or admin)."""


class WorkItemClosed(EngineError):
    """The work item was already completed (or its run is closed)."""
