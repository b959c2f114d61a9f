"""Checks of what callers hand the engine, before anything is stored.

Each raises `EngineError` naming the call, the argument and what was expected, so a bad
argument never reaches the log (and never surfaces as a raw TypeError from deep inside).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from orchlab.definition.values import check_data
from orchlab.errors import EngineError
from orchlab.limits import MAX_NAME

__all__ = ["name_arg", "data_arg", "text_arg"]

_CONTROL = re.compile(r"[\x00-\x1f]")


def _a(value: Any) -> str:
    name = type(value).__name__
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def name_arg(value: Any, call: str, what: str, *, optional: bool = False) -> Any:
    """An id or name: non-empty text without control characters, at most MAX_NAME long."""
    if value is None and optional:
        return None
    if (
        not isinstance(value, str)
        or not value.strip()
        or len(value) > MAX_NAME
        or _CONTROL.search(value) is not None
    ):
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        raise EngineError(
            f"{call}: {what} is {shown}; expected text such as an id or API name "
            f"(at most {MAX_NAME} characters, no control characters)"
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise EngineError(f"{call}: {what} holds a lone surrogate; expected valid text") from None
    return value


def data_arg(value: Any, call: str, what: str) -> dict[str, Any]:
    """A mapping of names to run data (record fields, inputs, flow outputs), checked whole."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise EngineError(f"{call}: {what} is {_a(value)}; expected a mapping of names to values")
    data = dict(value)
    try:
        check_data(data, what)
    except ValueError as error:
        raise EngineError(f"{call}: {error}") from None
    return data


def text_arg(value: Any, call: str, what: str) -> str | None:
    """Optional free text (comments): None or valid text of at most MAX_TEXT characters."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise EngineError(f"{call}: {what} is {_a(value)}; expected text or None")
    try:
        check_data(value, what)
    except ValueError as error:
        raise EngineError(f"{call}: {error}") from None
    return value
