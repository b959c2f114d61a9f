"""Helpers for `orchlab.serialize`: path-naming errors, checked field reads, values, a YAML dialect.

Kept apart so `serialize.py` reads as the file format itself: one function per model class.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cache
from typing import Any, NoReturn

import yaml

from orchlab.model import FieldKind, TriggerEvent
from orchlab.refs import Ref, ref
from orchlab.values import ValueType

__all__ = [
    "DefinitionError",
    "Node",
    "Spec",
    "show",
    "spec",
    "write_fields",
    "read_fields",
    "encode_value",
    "decode_value",
    "yaml_dump",
    "parse",
]

_REQUIRED: Any = object()
VALUE_KEYS = ("ref", "date", "datetime", "decimal", "record")
_VALUE_EXPECTED = (
    "a literal (text, number, true/false, date, list) or a mapping with one key: "
    + ", ".join(VALUE_KEYS)
)


class DefinitionError(ValueError):
    """A definition file or dict that cannot be read; the message names where and what.

    `line` and `column` (1-based) are set for YAML/JSON syntax errors.
    """

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.line = line
        self.column = column


def show(value: Any) -> str:
    """A found value as an error message shows it: short and typed."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "a mapping with keys " + ", ".join(map(str, value)) if value else "an empty mapping"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)} items"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class Node:
    """One mapping of the file, read field by field; every error names its path and field.

    A field given as null counts as left out, so `label:` with nothing after it is fine.
    """

    def __init__(self, data: Any, path: str, fields: Iterable[str]) -> None:
        if not isinstance(data, Mapping):
            raise DefinitionError(f"{path}: expected a mapping; got {show(data)}")
        self.data, self.path, self.fields = data, path, tuple(fields)
        for key in data:
            if key not in self.fields:
                raise DefinitionError(
                    f"unknown field {key!r} in {path}; expected one of: {', '.join(self.fields)}"
                )

    def where(self, key: str) -> str:
        return f"{self.path}: field {key!r}"

    def fail(self, key: str, expected: str, got: Any) -> NoReturn:
        raise DefinitionError(f"{self.where(key)}: expected {expected}; got {show(got)}")

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def get(self, key: str, expected: str, ok: Any, default: Any = _REQUIRED) -> Any:
        value = self.data.get(key)
        if value is None:
            if default is _REQUIRED:
                raise DefinitionError(f"{self.path}: missing required field {key!r} ({expected})")
            return default
        if not ok(value):
            self.fail(key, expected, value)
        return value

    def text(self, key: str, default: Any = _REQUIRED) -> Any:
        return self.get(key, "text", lambda v: isinstance(v, str), default)

    def flag(self, key: str, default: bool = False) -> bool:
        return self.get(key, "true or false", lambda v: isinstance(v, bool), default)

    def integer(self, key: str, default: Any = _REQUIRED) -> Any:
        return self.get(key, "a whole number", lambda v: type(v) is int, default)

    def number(self, key: str, default: Any) -> Any:
        return self.get(key, "a number", lambda v: type(v) in (int, float), default)

    def choice(self, key: str, enum: type[StrEnum], default: Any = _REQUIRED) -> Any:
        allowed = [e.value for e in enum]
        expected = "one of " + ", ".join(allowed)
        return enum(self.get(key, expected, lambda v: v in allowed, default))

    def items(self, key: str, default: Any = _REQUIRED) -> list[Any]:
        return self.get(key, "a list", lambda v: isinstance(v, list), default)

    def value(self, key: str) -> Any:
        return decode_value(self.data.get(key), self.where(key))

    def names(self, key: str, default: Any = ()) -> tuple[str, ...]:
        """A list of names; a single name may be written without brackets."""
        found = self.get(key, "a list of names", lambda v: isinstance(v, str | list), default)
        found = [found] if isinstance(found, str) else found
        for item in found:
            if not isinstance(item, str):
                self.fail(key, "a list of names", item)
        return tuple(found)

    def pairs(self, key: str, values: bool = True) -> tuple[tuple[str, Any], ...]:
        """A mapping of names to values (`values`) or to names, as the model's sorted pairs."""
        expected = "a mapping of names to " + ("values" if values else "variable names")
        found = self.get(key, expected, lambda v: isinstance(v, Mapping), {})
        for name, value in found.items():
            if not isinstance(name, str) or not (values or isinstance(value, str)):
                self.fail(key, expected, {name: value})
        where = self.where(key)
        return tuple(
            (k, decode_value(v, f"{where}.{k}") if values else v) for k, v in found.items()
        )


# --- values ------------------------------------------------------------------------------------------


def _fixed_offset(value: dt.datetime) -> bool:
    """Whether YAML's timestamp syntax can carry this datetime's offset (whole minutes)."""
    offset = value.utcoffset()
    return offset is None or offset % dt.timedelta(minutes=1) == dt.timedelta(0)


def encode_value(value: Any, where: str, native: bool) -> Any:
    """A literal or reference as file data; `native` keeps dates as dates (for YAML)."""
    if isinstance(value, Ref):
        return {"ref": value.path}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return {"decimal": str(value)}  # str keeps every digit and the exponent: exact
    if isinstance(value, dt.datetime):
        return value if native and _fixed_offset(value) else {"datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return value if native else {"date": value.isoformat()}
    if isinstance(value, list | tuple):
        return [encode_value(v, f"{where}[{i}]", native) for i, v in enumerate(value)]
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return {"record": {k: encode_value(v, f"{where}.{k}", native) for k, v in value.items()}}
    raise DefinitionError(f"{where}: cannot save a {type(value).__name__} value: {show(value)}")


def _parse_text(kind: str, text: Any, where: str) -> Any:
    parse = {"date": dt.date.fromisoformat, "datetime": dt.datetime.fromisoformat}.get(
        kind, Decimal
    )
    example = {"date": "2024-01-31", "datetime": "2024-01-31T09:30:00+00:00"}.get(kind, "12.50")
    try:
        if isinstance(text, str):
            return parse(text)
    except (ValueError, InvalidOperation):
        pass
    raise DefinitionError(f"{where}: {kind}: expected text such as '{example}'; got {show(text)}")


def decode_value(data: Any, where: str) -> Any:
    """The inverse of `encode_value`, accepting both the native and the tagged forms."""
    if isinstance(data, list):
        return [decode_value(v, f"{where}[{i}]") for i, v in enumerate(data)]
    if not isinstance(data, Mapping):
        return data
    if len(data) != 1 or next(iter(data)) not in VALUE_KEYS:
        raise DefinitionError(f"{where}: expected {_VALUE_EXPECTED}; got {show(data)}")
    ((kind, inner),) = data.items()
    if kind == "ref":
        try:
            return ref(inner) if isinstance(inner, str) else Ref(inner)
        except ValueError as error:
            raise DefinitionError(f"{where}: ref: expected a reference path; {error}") from None
    if kind == "record":
        if not isinstance(inner, Mapping) or not all(isinstance(k, str) for k in inner):
            raise DefinitionError(f"{where}: record: expected a mapping; got {show(inner)}")
        return {k: decode_value(v, f"{where}.{k}") for k, v in inner.items()}
    return _parse_text(kind, inner, where)


# --- field tables ------------------------------------------------------------------------------------
# A table row is (file key, model attribute, kind). Scalar kinds are read and written here;
# kind "*" marks a composite field the caller encodes (`extra`) and decodes itself, and a
# trailing "!" writes the field even at its default (names and types help a reader).
Spec = tuple[tuple[str, str, str], ...]


def spec(text: str) -> Spec:
    """Rows from "key=attribute:kind ..."; the attribute defaults to the key, the kind to text."""
    rows = []
    for word in text.split():
        names, _, kind = word.partition(":")
        key, _, attr = names.partition("=")
        rows.append((key, attr or key, kind or "text"))
    return tuple(rows)


@cache
def _defaults(cls: type) -> dict[str, Any]:
    found = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            found[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            found[f.name] = f.default_factory()
    return found


def _pairs(value: Any, where: str, native: bool) -> dict[str, Any]:
    keys = [k for k, _ in value]
    if len(set(keys)) != len(keys):
        raise DefinitionError(
            f"{where}: a name is mapped twice ({', '.join(keys)}); a file keeps one"
        )
    return {k: encode_value(v, f"{where}.{k}", native) for k, v in value}


_WRITE: dict[str, Callable[[Any, str, bool], Any]] = {
    "value": encode_value,
    "map": _pairs,
    "outputs": _pairs,
    "names": lambda v, where, native: list(v),
    "enum": lambda v, where, native: v.value,
}


def write_fields(
    obj: Any, rows: Spec, where: str, native: bool, extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The fields of `obj` that differ from their defaults, in table order, plus `extra`."""
    extra = extra or {}
    defaults = _defaults(type(obj))
    out: dict[str, Any] = {}
    for key, attr, kind in rows:
        if kind == "*":
            if extra.get(key) is not None:
                out[key] = extra[key]
            continue
        value = getattr(obj, attr)
        default = defaults.get(attr, _REQUIRED)
        if not kind.endswith("!") and value == default and type(value) is type(default):
            continue  # the type test keeps 30 != 30.0 and 0 != False apart: exact round trips
        kind = kind.rstrip("!")
        write = _WRITE.get("enum" if kind in ENUMS else kind)
        out[key] = write(value, f"{where} {key}", native) if write else value
    return out


ENUMS: dict[str, type[StrEnum]] = {
    "value_type": ValueType,
    "field_kind": FieldKind,
    "event": TriggerEvent,
}


def read_fields(node: Node, cls: type, rows: Spec) -> dict[str, Any]:
    """Keyword arguments for `cls` from the scalar rows of the table (composites are skipped)."""
    defaults = _defaults(cls)
    kwargs: dict[str, Any] = {}
    for key, attr, kind in rows:
        kind, default = kind.rstrip("!"), defaults.get(attr, _REQUIRED)
        if kind in ENUMS:
            kwargs[attr] = node.choice(key, ENUMS[kind], default)
        elif kind == "value":
            kwargs[attr] = node.value(key)
        elif kind in ("map", "outputs"):
            kwargs[attr] = node.pairs(key, values=kind == "map")
        elif kind != "*":
            kwargs[attr] = getattr(node, kind)(key, default)
    return kwargs


# --- the YAML dialect ----------------------------------------------------------------------------------
# YAML 1.1 reads `on`, `yes`, `no` and `off` as booleans, which would turn the trigger's
# `on: update` into `True: update`; this dialect keeps only true/false (as YAML 1.2 does),
# and also reads 1e5 as a number. Loader and dumper share the rules, so what is written
# plain is read back as the same type.
_BOOL, _FLOAT = "tag:yaml.org,2002:bool", "tag:yaml.org,2002:float"
_FLOAT_RE = r"[-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9_]+|[0-9][0-9_]*(?=[eE]))(?:[eE][-+]?[0-9]+)?"
_DIALECT = [
    (_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), "tTfF"),
    (
        _FLOAT,
        re.compile(rf"^(?:{_FLOAT_RE}|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
        "-+.0123456789",
    ),
]


class _Loader(yaml.SafeLoader):
    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for (
            key_node,
            _,
        ) in node.value:  # a repeated key is a typo; YAML would keep the last silently
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep)


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True  # never write &anchors: hand-written files should not need them

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
        return super().increase_indent(flow, False)  # indent list items under their key


for _cls in (_Loader, _Dumper):
    _cls.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in rules if tag not in (_BOOL, _FLOAT)]
        for first, rules in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    for _tag, _rx, _first in _DIALECT:
        _cls.add_implicit_resolver(_tag, _rx, list(_first))


def _short(data: Any) -> bool:
    """Lists and mappings of scalars that fit on one line are written inline: [a, b], {ref: x}."""
    if isinstance(data, Mapping | list):
        inner = data.values() if isinstance(data, Mapping) else data
        return all(_short(v) for v in inner) and len(json.dumps(data, default=str)) <= 60
    return not (isinstance(data, str) and "\n" in data)


_Dumper.add_representer(
    dict, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v, flow_style=_short(v))
)
_Dumper.add_representer(
    list, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=_short(v))
)
_Dumper.add_representer(
    str,
    lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", v, style="|" if "\n" in v else None),
)


def yaml_dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise DefinitionError(f"duplicate key {key!r} in a JSON object")
        found[key] = value
    return found


def parse(text: str, format: str, source: str = "") -> Any:
    """Parse YAML or JSON text; syntax errors become DefinitionErrors with line and column."""
    prefix = f"{source}: " if source else ""
    try:
        if format == "json":
            return json.loads(text, object_pairs_hook=_no_duplicates)
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except json.JSONDecodeError as error:
        line, column, problem = error.lineno, error.colno, error.msg
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        problem = "; ".join(p for p in (error.context, error.problem) if p)
    except yaml.YAMLError as error:  # e.g. a control character outside any mark
        raise DefinitionError(f"{prefix}invalid YAML: {error}") from None
    except DefinitionError as error:
        raise DefinitionError(f"{prefix}{error}") from None
    raise DefinitionError(
        f"{prefix}invalid {format.upper()} at line {line}, column {column}: {problem}",
        line=line,
        column=column,
    )
