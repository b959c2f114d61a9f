"""A screen being filled in, without widgets: its values, the hints under each field, the errors.

`FormState` is what a form widget mirrors (`orchlab.ui.views.forms.FormView`); tests and
notebooks can fill it directly. Values are kept as the person entered them (text stays
text): the engine's own form check types and checks them on submit.

    >>> from orchlab.definition.model import Field, Screen
    >>> form = FormState(Screen("s", (Field("income", "currency", "Income", min=0),)))
    >>> form.hint(form.screen.fields[0])
    'an amount, at least 0'
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from orchlab.definition.model import Field, FieldKind, Screen

__all__ = ["FormState", "field_hint", "initial_value"]

_KIND_WORDS = {
    FieldKind.NUMBER: "a number",
    FieldKind.CURRENCY: "an amount",
    FieldKind.DATE: "a date",
    FieldKind.DATETIME: "a date and time",
    FieldKind.EMAIL: "an email address",
    FieldKind.MULTI_SELECT: "pick any",
}


def _num(value: float | int | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def field_hint(f: Field) -> str:
    """The limits a person should know before typing: kind, range, length, pattern, help."""
    parts = []
    word = _KIND_WORDS.get(f.kind)
    if word:
        parts.append(word)
    if f.min is not None and f.max is not None:
        parts.append(f"from {_num(f.min)} to {_num(f.max)}")
    elif f.min is not None:
        parts.append(f"at least {_num(f.min)}")
    elif f.max is not None:
        parts.append(f"at most {_num(f.max)}")
    if f.min_length is not None and f.max_length is not None:
        parts.append(f"{f.min_length} to {f.max_length} characters")
    elif f.max_length is not None:
        parts.append(f"at most {f.max_length} characters")
    elif f.min_length is not None:
        parts.append(f"at least {f.min_length} characters")
    if f.regex:
        parts.append(f"pattern {f.regex}")
    text = ", ".join(parts)
    if f.help:
        text = f"{f.help} ({text})" if text else f.help
    return text


def initial_value(f: Field) -> Any:
    """What the field shows before the person touches it: its default, in the widget's terms."""
    default = f.default
    if f.kind is FieldKind.CHECKBOX:
        return bool(default)
    if f.kind is FieldKind.MULTI_SELECT:
        return tuple(default or ())
    if f.kind in (FieldKind.DATE, FieldKind.DATETIME, FieldKind.PICKLIST):
        return default
    if default is None:
        return ""
    if isinstance(default, Decimal | int | float):
        return str(default)
    if isinstance(default, dt.date):
        return default.isoformat()
    return str(default)


class FormState:
    """One screen's values (as entered), hints and per-field errors."""

    def __init__(self, screen: Screen) -> None:
        self.screen = screen
        self.values: dict[str, Any] = {f.name: initial_value(f) for f in screen.fields}
        self.errors: dict[str, str] = {}

    def hint(self, f: Field) -> str:
        return field_hint(f)

    def set(self, name: str, value: Any) -> None:
        self.screen.field(name)  # KeyError for a field the screen does not have
        self.values[name] = value
        self.errors.pop(name, None)  # the person is fixing it: the old message no longer fits

    def submission(self) -> dict[str, Any]:
        """The values to send: blanks as None, multi-selects as lists."""
        out: dict[str, Any] = {}
        for f in self.screen.fields:
            value = self.values.get(f.name)
            if isinstance(value, str) and not value.strip():
                value = None
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out
