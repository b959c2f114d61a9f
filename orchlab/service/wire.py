"""How calls, results and errors travel between the apps and the engine service: JSON text.

Dates, datetimes and Decimals keep their types (tagged as in the history's payloads), and
an error raised in the service is raised again in the app as the same orchlab error, with
its details (`FormInvalid.errors`, `InvalidOrchestration.problems`, a logic error's column).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import orjson

from orchlab import errors as _errors
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


# The same tags as the history's payloads (orchlab.store.row), written here again so that an
# app's kernel needs no DuckDB or pandas (pandas alone takes seconds to import); a test checks
# that the two agree.
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS
_TAGS: dict[str, Callable[[str], Any]] = {
    "$datetime": dt.datetime.fromisoformat,
    "$date": dt.date.fromisoformat,
    "$decimal": Decimal,
}


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot send {type(value).__name__} {value!r} to or from the service")


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


def encode(value: Any) -> bytes:
    """JSON bytes; dates, datetimes and Decimals are tagged so they come back as themselves."""
    return orjson.dumps({"v": value}, default=_default, option=_OPTIONS)


def decode(data: bytes) -> Any:
    return _revive(orjson.loads(data)).get("v") if data else None


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
