"""How calls, results and errors travel between the apps and the engine service: JSON text.

Dates, datetimes and Decimals keep their types (tagged as in the history's payloads), and
an error raised in the service is raised again in the app as the same orchlab error, with
its details (`FormInvalid.errors`, `InvalidOrchestration.problems`, a logic error's column).
"""

from __future__ import annotations

from typing import Any

from orchlab import errors as _errors
from orchlab.definition.tagged_json import dumps_bytes, loads
from orchlab.definition.validate import InvalidOrchestration, Problem, Severity
from orchlab.errors import ConditionError, FormInvalid, OrchlabError, ServiceError

__all__ = ["encode", "decode", "error_to_dict", "error_from_dict", "STATUS_OF_ERROR"]

_KNOWN: dict[str, type[OrchlabError]] = {
    name: getattr(_errors, name) for name in _errors.__all__ if name != "OrchlabError"
}
_KNOWN["InvalidOrchestration"] = InvalidOrchestration
_KNOWN["OrchlabError"] = OrchlabError

# HTTP status for each refusal, so logs and curl read well (the body says the rest).
STATUS_OF_ERROR = {"NotFound": 404, "PermissionDenied": 403, "WorkItemClosed": 409}


def encode(value: Any) -> bytes:
    """JSON bytes; dates, datetimes and Decimals are tagged so they come back as themselves."""
    return dumps_bytes({"v": value})


def decode(data: bytes) -> Any:
    return (loads(data) or {}).get("v") if data else None


def error_to_dict(exc: BaseException) -> dict[str, Any]:
    """An orchlab error as data; anything else becomes a ServiceError (a bug in the service)."""
    if not isinstance(exc, OrchlabError):
        return {"type": "ServiceError", "message": f"the engine service failed: {exc!r}"}
    data: dict[str, Any] = {"type": type(exc).__name__, "message": str(exc)}
    if isinstance(exc, FormInvalid):
        data |= {"screen": exc.screen, "errors": exc.errors}
    elif isinstance(exc, InvalidOrchestration):
        data |= {
            "name": exc.name,
            "problems": [[p.element, p.field, p.message, p.severity.value] for p in exc.problems],
        }
    elif isinstance(exc, ConditionError):
        data |= {"text": exc.text, "column": exc.column}
    if data["type"] not in _KNOWN:
        data["type"] = next(c.__name__ for c in type(exc).__mro__ if c.__name__ in _KNOWN)
    return data


def error_from_dict(data: dict[str, Any]) -> OrchlabError:
    """The error again, as the class the service raised (ServiceError when unknown)."""
    kind = _KNOWN.get(data.get("type", ""), ServiceError)
    message = data.get("message", "")
    if kind is FormInvalid:
        return FormInvalid(data["screen"], data["errors"])
    if kind is InvalidOrchestration:
        problems = [Problem(e, f, m, Severity(s)) for e, f, m, s in data["problems"]]
        return InvalidOrchestration(data["name"], problems)
    if issubclass(kind, ConditionError):
        return kind(message, text=data.get("text"), column=data.get("column"))
    return kind(message)
