"""Every error orchlab raises on purpose, in one place, importable as `orchlab.<Name>`.

All derive from `OrchlabError`, so `except ol.OrchlabError` catches any refusal; each also
derives from the built-in it resembles (`ValueError` for bad input, `RuntimeError` for a
state that does not allow the call), so older `except ValueError` code keeps working.
This module imports nothing from orchlab: every layer may raise these.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "OrchlabError",
    "DefinitionError",
    "MetadataError",
    "HistoryImportError",
    "ConditionError",
    "LogicError",
    "FormInvalid",
    "DirectoryError",
    "EngineError",
    "NotFound",
    "PermissionDenied",
    "WorkItemClosed",
    "StoreError",
    "StoreLocked",
    "SchemaVersionError",
    "RenderError",
    "AnalysisError",
    "ServiceError",
]


class OrchlabError(Exception):
    """Base of every error orchlab raises on purpose; nothing was stored when it is raised."""


# --- definitions ---------------------------------------------------------------------------------


class DefinitionError(OrchlabError, ValueError):
    """A definition that cannot be read or written; the message names where and what.

    `line` and `column` (1-based) are set for YAML and JSON syntax errors.
    """

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        problems: tuple[str, ...] = (),
    ):
        super().__init__(message)
        self.line, self.column = line, column
        self.problems = problems or (message,)

    @classmethod
    def every(cls, problems: list[str]) -> DefinitionError:
        """One error listing every problem found in a file (`problems` holds each message)."""
        if len(problems) == 1:
            return cls(problems[0])
        head = f"{len(problems)} problems:"
        return cls("\n".join([head, *(f"  {p}" for p in problems)]), problems=tuple(problems))


class MetadataError(OrchlabError, ValueError):
    """A Salesforce metadata file that orchlab refuses to read or cannot write.

    `path`, `line` (1-based) and `element` (the XML element, e.g. ``<orchestratedStages>
    'Review'``) say where, when known; the message repeats them, so it reads alone.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        element: str | None = None,
    ) -> None:
        where = ", ".join(
            part for part in (path, f"line {line}" if line else None, element) if part
        )
        super().__init__(f"{where}: {message}" if where else message)
        self.path, self.line, self.element = path, line, element
        self.reason = message


class HistoryImportError(OrchlabError, ValueError):
    """A run-history export that cannot be imported at all (unreadable, not an export);
    nothing was stored. Rows that are merely bad are rejected in the import's report."""


class ConditionError(OrchlabError, ValueError):
    """A condition or its logic text is wrong; `column` is 1-based (or None), `text` the input."""

    def __init__(self, message: str, *, text: str | None = None, column: int | None = None):
        super().__init__(message)
        self.text = text
        self.column = column


class LogicError(ConditionError):
    """Custom condition logic that cannot be parsed or does not fit its conditions."""


# --- people --------------------------------------------------------------------------------------


class FormInvalid(OrchlabError, ValueError):
    """Submitted values don't fit the screen; `errors` maps field name -> message."""

    def __init__(self, screen: str, errors: Mapping[str, str]) -> None:
        self.screen = screen
        self.errors = dict(errors)
        lines = "; ".join(f"field {k!r}: {v}" for k, v in self.errors.items())
        super().__init__(f"screen {screen!r}: {lines}")


class DirectoryError(OrchlabError, ValueError):
    """A name that doesn't resolve, or a bad directory entry."""


# --- runs ----------------------------------------------------------------------------------------


class EngineError(OrchlabError, RuntimeError):
    """A command the engine refuses; nothing was changed."""


class NotFound(EngineError, KeyError):
    """No such run, work item, record or definition."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class PermissionDenied(EngineError):
    """The actor may not do this (not an assignee, member or admin)."""


class WorkItemClosed(EngineError):
    """The work item was already completed (or its run is closed)."""


# --- history -------------------------------------------------------------------------------------


class StoreError(OrchlabError, RuntimeError):
    """A history file that can't be used as asked."""


class StoreLocked(StoreError):
    """Another process (or another store in this one) has the history file open for writing."""


class SchemaVersionError(StoreError):
    """The file was written by a different orchlab schema."""


# --- pictures ------------------------------------------------------------------------------------


class RenderError(OrchlabError, RuntimeError):
    """A diagram could not be drawn (e.g. Graphviz's `dot` program is missing)."""


# --- analysis ------------------------------------------------------------------------------------


class AnalysisError(OrchlabError, ValueError):
    """An analysis asked for something the history or its arguments cannot give; says what."""


# --- the engine service --------------------------------------------------------------------------


class ServiceError(OrchlabError, RuntimeError):
    """The engine service that owns a history file could not be reached, started or used."""
