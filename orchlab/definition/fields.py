"""The rules of one screen field: turning submitted text into a typed value, and its limits.

A screen's fields are part of its definition, so these rules live here: validation checks
a field's default with them, and `orchlab.people.forms` checks a whole submission.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from orchlab.definition.model import Field, FieldKind
from orchlab.limits import MAX_SHORT_TEXT, MAX_TEXT

__all__ = ["blank", "coerce", "check", "max_length"]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def blank(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, str | list | tuple) and len(value) == 0)
        or (isinstance(value, str) and not value.strip())
    )


def coerce(f: Field, value: Any) -> Any:
    """Typed value for a field, accepting text from forms and command lines. Raises ValueError."""
    kind = f.kind
    if isinstance(value, str) and len(value) > MAX_TEXT:
        raise ValueError(f"expected at most {MAX_TEXT:,} characters, got {len(value):,}")
    if kind in (FieldKind.NUMBER, FieldKind.CURRENCY):
        if isinstance(value, bool):
            raise ValueError("expected a number, got a checkbox value")
        if isinstance(value, int | float | Decimal):
            number = Decimal(str(value))
        elif isinstance(value, str):
            try:
                number = Decimal(value.strip() or "x")
            except InvalidOperation:
                raise ValueError(f"expected a number, got {value!r}") from None
        else:
            raise ValueError(f"expected a number, got {type(value).__name__} {value!r}")
        if not number.is_finite():  # NaN, sNaN and infinity would break every comparison
            raise ValueError(f"expected a finite number, got {value!r}")
        if kind is FieldKind.CURRENCY:
            return number
        if isinstance(value, int | float):
            return value
        return int(number) if number == number.to_integral_value() else float(number)
    if kind is FieldKind.CHECKBOX:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "yes", "1", "on"):
            return True
        if text in ("false", "no", "0", "off"):
            return False
        raise ValueError(f"expected true or false, got {value!r}")
    if kind is FieldKind.DATE:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value).strip())
        except ValueError:
            raise ValueError(f"expected a date like 2026-01-31, got {value!r}") from None
    if kind is FieldKind.DATETIME:
        if isinstance(value, dt.datetime):
            return value
        try:
            return dt.datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise ValueError(
                f"expected a date and time like 2026-01-31T09:30, got {value!r}"
            ) from None
    if kind is FieldKind.MULTI_SELECT:
        if isinstance(value, str):
            items = [v.strip() for v in value.split(";")]
        elif isinstance(value, list | tuple):
            items = list(value)
        else:
            raise ValueError(f"expected a list of choices, got {type(value).__name__} {value!r}")
        bad = [v for v in items if v not in f.choices]
        if bad:
            raise ValueError(f"{bad} not among the choices {list(f.choices)}")
        return items
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {type(value).__name__} {value!r}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("expected valid text: it holds a lone surrogate character") from None
    return value


def max_length(f: Field) -> int | None:
    """The longest text a field takes: its own max_length, else the kind's default."""
    if f.max_length is not None:
        return f.max_length
    if f.kind is FieldKind.LONG_TEXT:
        return MAX_TEXT
    if f.kind in (FieldKind.TEXT, FieldKind.EMAIL):
        return MAX_SHORT_TEXT
    return None


def check(f: Field, value: Any) -> str | None:
    """The problem with a typed, non-blank value, or None."""
    if f.kind is FieldKind.PICKLIST and value not in f.choices:
        return f"expected one of {list(f.choices)}, got {value!r}"
    if f.kind is FieldKind.EMAIL and not _EMAIL.match(value):
        return f"expected an email address, got {value!r}"
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        if f.min is not None and value < Decimal(str(f.min)):
            return f"must be at least {f.min}, got {value}"
        if f.max is not None and value > Decimal(str(f.max)):
            return f"must be at most {f.max}, got {value}"
    if isinstance(value, str):
        if f.min_length is not None and len(value) < f.min_length:
            return f"must have at least {f.min_length} characters, got {len(value)}"
        longest = max_length(f)
        if longest is not None and len(value) > longest:
            return f"must have at most {longest:,} characters, got {len(value):,}"
        if f.regex and not re.fullmatch(f.regex, value):
            return f"must match the pattern {f.regex!r}, got {value!r}"
    return None
