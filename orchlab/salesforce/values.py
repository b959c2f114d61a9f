"""Values, data types and operators: Salesforce metadata words <-> orchlab's.

A FlowElementReferenceOrValue holds one of `stringValue`, `numberValue`, `booleanValue`,
`dateValue`, `dateTimeValue` or `elementReference`; those become str, int or float, bool,
date, datetime and `Ref`. The rest (`formulaExpression`, `apexValue`, ...) are not modelled:
`Unmodelled` says so, and the caller keeps the element aside or refuses it.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal
from typing import Any

from orchlab.definition.conditions import Operator
from orchlab.definition.ref import Ref
from orchlab.definition.values import ValueType
from orchlab.errors import MetadataError
from orchlab.salesforce.xml_read import XNode
from orchlab.salesforce.xml_write import leaf, node

__all__ = [
    "DATA_TYPES",
    "OPERATORS",
    "Unmodelled",
    "data_type",
    "operator_of",
    "read_value",
    "write_value",
]

OPERATORS: dict[Operator, str] = {
    Operator.EQUALS: "EqualTo",
    Operator.NOT_EQUALS: "NotEqualTo",
    Operator.LESS_THAN: "LessThan",
    Operator.LESS_OR_EQUAL: "LessThanOrEqualTo",
    Operator.GREATER_THAN: "GreaterThan",
    Operator.GREATER_OR_EQUAL: "GreaterThanOrEqualTo",
    Operator.CONTAINS: "Contains",
    Operator.STARTS_WITH: "StartsWith",
    Operator.ENDS_WITH: "EndsWith",
    Operator.IS_NULL: "IsNull",
    Operator.IS_BLANK: "IsBlank",
    Operator.IS_CHANGED: "IsChanged",
    Operator.WAS_SET: "WasSet",
}
_OPERATORS_BY_NAME = {name.lower(): op for op, name in OPERATORS.items()}

# Salesforce dataType -> orchlab type; the first name of each type is the one written back.
DATA_TYPES: dict[str, ValueType] = {
    "String": ValueType.TEXT,
    "Number": ValueType.NUMBER,
    "Currency": ValueType.CURRENCY,
    "Boolean": ValueType.BOOLEAN,
    "Date": ValueType.DATE,
    "DateTime": ValueType.DATETIME,
    "SObject": ValueType.RECORD,
    # Read as the nearest orchlab type; the original name is kept aside and written back.
    "Picklist": ValueType.TEXT,
    "Multipicklist": ValueType.TEXT,
    "Apex": ValueType.ANY,
    "Time": ValueType.ANY,
}
TYPE_NAMES: dict[ValueType, str] = {}
for _name, _type in DATA_TYPES.items():
    TYPE_NAMES.setdefault(_type, _name)

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")


class Unmodelled(Exception):
    """A value kind orchlab has no counterpart for (the caller keeps it aside or refuses)."""

    def __init__(self, tag: str) -> None:
        super().__init__(tag)
        self.tag = tag


def data_type(name: str) -> ValueType:
    """orchlab's type for a Salesforce dataType; unknown ones are ANY (their name is kept)."""
    return DATA_TYPES.get(name, ValueType.ANY)


def operator_of(text: str, where: XNode, source: str) -> Operator:
    found = _OPERATORS_BY_NAME.get(text.strip().lower())
    if found is None:
        known = ", ".join(OPERATORS.values())
        raise MetadataError(
            f"operator {text!r} has no orchlab counterpart; expected one of {known}",
            path=source,
            line=where.line,
            element=where.label,
        )
    return found


def read_value(container: XNode | None, source: str) -> Any:
    """The value inside `<value>`, `<rightValue>` or `<assignee>`; None when it is empty.

    Raises:
        Unmodelled: a value kind orchlab does not model.
        MetadataError: a malformed value (two kinds, a bad number, date or reference).
    """
    if container is None or not container.children:
        return None
    if len(container.children) != 1:
        tags = ", ".join(f"<{c.tag}>" for c in container.children)
        raise MetadataError(
            f"holds {tags}; expected exactly one value", path=source, line=container.line,
            element=f"<{container.tag}>",
        )  # fmt: skip
    inner = container.children[0]
    text, tag = inner.text, inner.tag
    if inner.attrs.get("xsi:nil") == "true":
        return None

    def bad(expected: str) -> MetadataError:
        return MetadataError(
            f"{text!r} is not {expected}", path=source, line=inner.line, element=f"<{tag}>"
        )

    if tag == "stringValue":
        return text
    if tag == "booleanValue":
        word = text.strip().lower()
        if word not in ("true", "false", "1", "0"):
            raise bad("true or false")
        return word in ("true", "1")
    if tag == "numberValue":
        word = text.strip()
        if not _NUMBER.fullmatch(word):
            raise bad("a number")
        return int(word) if _INTEGER.fullmatch(word) else float(word)
    if tag == "dateValue":
        try:
            return dt.date.fromisoformat(text.strip())
        except ValueError:
            raise bad("a date such as 2024-01-31") from None
    if tag == "dateTimeValue":
        try:
            return dt.datetime.fromisoformat(text.strip())
        except ValueError:
            raise bad("a date and time such as 2024-01-31T09:30:00.000Z") from None
    if tag == "elementReference":
        try:
            return _reference(text)
        except ValueError:
            raise bad("a reference such as $Record.Id") from None
    raise Unmodelled(tag)


def _reference(text: str) -> Ref:
    path = text.strip()
    if path.startswith("{!") and path.endswith("}"):
        path = path[2:-1].strip()
    return Ref(path)


def reference(text: str, where: XNode, source: str) -> Ref:
    """A reference written as plain text (`leftValueReference`, `targetReference`)."""
    try:
        return _reference(text)
    except ValueError:
        raise MetadataError(
            f"{text!r} is not a reference; expected a name such as $Record.Id or Step.Status",
            path=source,
            line=where.line,
            element=f"<{where.tag}>",
        ) from None


def _datetime_text(value: dt.datetime) -> str:
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def write_value(container: str, value: Any, where: str) -> XNode | None:
    """`<container>` holding `value`, or None for None (the element is left out)."""
    if value is None:
        return None
    if isinstance(value, Ref):
        inner = leaf("elementReference", value.path)
    elif isinstance(value, bool):
        inner = leaf("booleanValue", value)
    elif isinstance(value, int | float | Decimal):
        if isinstance(value, float) and not math.isfinite(value):
            raise MetadataError(f"{where}: {value!r} cannot be written; expected a finite number")
        inner = leaf("numberValue", repr(value) if isinstance(value, float) else str(value))
    elif isinstance(value, str):
        inner = leaf("stringValue", value)
    elif isinstance(value, dt.datetime):
        inner = leaf("dateTimeValue", _datetime_text(value))
    elif isinstance(value, dt.date):
        inner = leaf("dateValue", value.isoformat())
    else:
        raise MetadataError(
            f"{where}: a {type(value).__name__} value has no metadata form; expected text, a "
            "number, true/false, a date, a date and time or a reference"
        )
    return node(container, inner)
