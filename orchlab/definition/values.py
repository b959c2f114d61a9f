"""Value types shared by variables, screen fields, flow signatures and conditions.

One table says which Python values belong to which type, so validation, the
condition language and the engine agree on what "typed comparison" means.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from enum import StrEnum
from typing import Any

from orchlab.limits import MAX_DATA_ITEMS, MAX_NESTING, MAX_TEXT

__all__ = [
    "ValueType",
    "Value",
    "type_of_value",
    "conforms",
    "comparable",
    "parse_text",
    "check_data",
    "ORDERED_TYPES",
]

Value = (
    str | int | float | bool | Decimal | dt.date | dt.datetime | None | list[Any] | dict[str, Any]
)


class ValueType(StrEnum):
    """The data types an orchestration knows (Salesforce: String, Number, Boolean, ...)."""

    TEXT = "text"
    NUMBER = "number"
    CURRENCY = "currency"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    RECORD = "record"
    ANY = "any"  # unknown at design time (e.g. a field of a record of unknown shape)


# Types whose values can be ordered with < and >.
ORDERED_TYPES = frozenset(
    {ValueType.NUMBER, ValueType.CURRENCY, ValueType.DATE, ValueType.DATETIME, ValueType.TEXT}
)
_NUMERIC = frozenset({ValueType.NUMBER, ValueType.CURRENCY})


def type_of_value(value: Any) -> ValueType | None:
    """The ValueType of a Python literal, or None for None.

    >>> type_of_value(3), type_of_value("a"), type_of_value(True)
    (<ValueType.NUMBER: 'number'>, <ValueType.TEXT: 'text'>, <ValueType.BOOLEAN: 'boolean'>)
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return ValueType.BOOLEAN
    if isinstance(value, int | float | Decimal):
        return ValueType.NUMBER
    if isinstance(value, str):
        return ValueType.TEXT
    if isinstance(value, dt.datetime):  # before date: datetime is a date subclass
        return ValueType.DATETIME
    if isinstance(value, dt.date):
        return ValueType.DATE
    if isinstance(value, dict):
        return ValueType.RECORD
    return ValueType.ANY


def conforms(value: Any, vtype: ValueType, collection: bool = False) -> bool:
    """Whether a Python value may be stored in a variable of this type."""
    if value is None or vtype is ValueType.ANY:
        return True
    if collection:
        return isinstance(value, list | tuple) and all(conforms(v, vtype) for v in value)
    actual = type_of_value(value)
    # A list, a set or an object is not one value of a typed variable (ANY was handled above).
    return actual is not None and actual is not ValueType.ANY and comparable(actual, vtype)


def comparable(a: ValueType, b: ValueType) -> bool:
    """Whether values of the two types may be compared with equals, < and the like."""
    if ValueType.ANY in (a, b) or a == b:
        return True
    return a in _NUMERIC and b in _NUMERIC


def parse_text(text: str, vtype: ValueType, collection: bool = False) -> Value:
    """A value of this type from text typed by a person (a command line, a form).

    >>> parse_text("1200", ValueType.CURRENCY)
    Decimal('1200')
    >>> parse_text("007", ValueType.TEXT)
    '007'

    Raises ValueError naming what was expected.
    """
    if collection:
        return [parse_text(part.strip(), vtype) for part in text.split(";") if part.strip()]
    if vtype in (ValueType.TEXT, ValueType.ANY):
        return text
    raw = text.strip()
    if vtype is ValueType.BOOLEAN:
        lowered = raw.lower()
        if lowered in ("true", "yes", "1"):
            return True
        if lowered in ("false", "no", "0"):
            return False
        raise ValueError(f"expected true or false, got {text!r}")
    if vtype in (ValueType.NUMBER, ValueType.CURRENCY):
        try:
            number = Decimal(raw)
        except ArithmeticError:
            raise ValueError(f"expected a number, got {text!r}") from None
        if not number.is_finite():
            raise ValueError(f"expected a finite number, got {text!r}")
        if vtype is ValueType.CURRENCY:
            return number
        return int(number) if number == number.to_integral_value() else float(number)
    if vtype is ValueType.DATE:
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            raise ValueError(f"expected a date like 2026-01-31, got {text!r}") from None
    if vtype is ValueType.DATETIME:
        try:
            return dt.datetime.fromisoformat(raw)
        except ValueError:
            raise ValueError(
                f"expected a date and time like 2026-01-31T09:30, got {text!r}"
            ) from None
    raise ValueError(f"a {vtype} value cannot be typed as text; got {text!r}")


def check_data(value: Any, where: str, depth: int = 0) -> None:
    """Refuse run data that the history could not give back exactly as it was given.

    Allowed: None, bool, int, finite float and Decimal, str (valid Unicode, at most
    `MAX_TEXT` characters), date, datetime, lists of these and mappings with text keys
    (keys may not start with "$": the log reserves them for its own type tags). Raises
    ValueError naming the place (`where`) and what was expected.

    >>> check_data({"Amount": float("nan")}, "field")
    Traceback (most recent call last):
    ...
    ValueError: field.Amount: nan is not a finite number; expected a finite number
    """
    if value is None or isinstance(value, bool | int | dt.date):
        return
    if isinstance(value, float | Decimal):
        finite = value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)
        if not finite:
            raise ValueError(f"{where}: {value} is not a finite number; expected a finite number")
        return
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise ValueError(
                f"{where}: text of {len(value):,} characters; expected at most {MAX_TEXT:,}"
            )
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            raise ValueError(
                f"{where}: text holds a character that is not valid Unicode (a lone surrogate "
                f"at position {error.start}); expected valid text"
            ) from None
        return
    if depth >= MAX_NESTING:
        raise ValueError(f"{where}: nested more than {MAX_NESTING} levels deep")
    if isinstance(value, list):
        if len(value) > MAX_DATA_ITEMS:
            raise ValueError(f"{where}: {len(value):,} items; expected at most {MAX_DATA_ITEMS:,}")
        for i, item in enumerate(value):
            check_data(item, f"{where}[{i}]", depth + 1)
        return
    if isinstance(value, dict):
        if len(value) > MAX_DATA_ITEMS:
            raise ValueError(f"{where}: {len(value):,} keys; expected at most {MAX_DATA_ITEMS:,}")
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(
                    f"{where}: key {key!r} is {type(key).__name__}; expected text keys "
                    "(they would come back as text)"
                )
            if key.startswith("$"):
                raise ValueError(
                    f"{where}: key {key!r} starts with '$', which the history reserves for its "
                    "type tags; expected a key that does not start with '$'"
                )
            check_data(key, f"{where} key", depth + 1)
            check_data(item, f"{where}.{key}", depth + 1)
        return
    shape = {set: "a list", frozenset: "a list", tuple: "a list"}.get(type(value))
    expected = shape or "text, a number, true/false, a date, a list or a mapping"
    raise ValueError(
        f"{where}: a {type(value).__name__} cannot be stored and read back as it is; "
        f"expected {expected}"
    )
