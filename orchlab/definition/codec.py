"""The machinery under `orchlab.definition.serialize`: checked reads, values and field tables.

A model class travels as a table of rows ``(file key, attribute, kind, always)``; a `Kind`
knows how one field is written and read, so writing and reading share one description
and every error can name the element path and the field.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cache
from typing import Any, NamedTuple, NoReturn

from orchlab.definition.ref import Ref, ref
from orchlab.errors import DefinitionError

__all__ = [
    "DefinitionError",
    "Noted",
    "collecting",
    "note",
    "Kind",
    "Node",
    "KINDS",
    "REQUIRED",
    "show",
    "spec",
    "enum_kind",
    "listing",
]
__all__ += ["record", "write_fields", "read_fields", "encode_value", "decode_value"]

REQUIRED: Any = object()
_PROBLEMS: ContextVar[list[str] | None] = ContextVar("definition_problems", default=None)


class Noted(Exception):
    """A mapping had problems, already noted: its parent skips it and reads on."""


def note(error: DefinitionError) -> None:
    """Note a problem inside `collecting()`; raise it outside."""
    problems = _PROBLEMS.get()
    if problems is None:
        raise error
    problems.append(str(error))


@contextlib.contextmanager
def collecting() -> Iterator[list[str]]:
    """Read a whole file, noting every problem; the caller raises them together."""
    token = _PROBLEMS.set([])
    try:
        yield _PROBLEMS.get()  # type: ignore[misc]
    finally:
        _PROBLEMS.reset(token)


def _guarded(read: Callable[[], Any], problems: list[str] | None) -> tuple[bool, Any]:
    """Run one read; inside `collecting()`, a problem is noted and (False, None) returned."""
    if problems is None:
        return True, read()
    try:
        return True, read()
    except DefinitionError as error:
        problems.append(str(error))
    except Noted:
        pass
    return False, None


_VALUE_KEYS = ("ref", "date", "datetime", "decimal", "record")


def show(value: Any) -> str:
    """A found value as a message shows it: short, and saying what it is."""
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, Mapping):
        return "a mapping with keys " + ", ".join(map(str, value)) if value else "an empty mapping"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)} items"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class Node:
    """One mapping of the file, read field by field. `path` is "" at the top level.

    A field given as null counts as left out, so `label:` with nothing after it is fine.
    Inside `collecting()`, problems are noted and reading goes on, so one load reports
    every mistake in a file; outside it, the first problem raises.
    """

    def __init__(self, data: Any, path: str, fields: Iterable[str]) -> None:
        self.data, self.path, self.fields = data, path, tuple(fields)
        if not isinstance(data, Mapping):
            raise DefinitionError(f"{self.at}: expected a mapping; got {show(data)}")
        for key in data:
            if key not in self.fields:
                note(
                    DefinitionError(
                        f"unknown field {key!r} in {self.at}; expected one of: "
                        f"{', '.join(self.fields)}"
                    )
                )

    @property
    def at(self) -> str:
        return self.path or "(top level)"

    def where(self, key: str) -> str:
        return f"{self.at}: field {key!r}"

    def inner(self, key: str) -> str:
        """The path of a mapping inside this one."""
        return f"{self.path} {key}".strip()

    def fail(self, key: str, expected: str, got: Any) -> NoReturn:
        raise DefinitionError(f"{self.where(key)}: expected {expected}; got {show(got)}")

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def get(self, key: str, expected: str, ok: Callable[[Any], bool], default: Any) -> Any:
        value = self.data.get(key)
        if value is None:
            if default is REQUIRED:
                raise DefinitionError(f"{self.at}: missing required field {key!r} ({expected})")
            return default
        if not ok(value):
            self.fail(key, expected, value)
        return value

    def text(self, key: str, default: Any = REQUIRED) -> Any:
        return self.get(key, "text", lambda v: isinstance(v, str), default)

    def items(self, key: str, default: Any = REQUIRED) -> Any:
        return self.get(key, "a list", lambda v: isinstance(v, list), default)

    def names(self, key: str, default: Any = ()) -> Any:
        """A list of names; a single name may be written without brackets."""
        found = self.get(key, "a list of names", lambda v: isinstance(v, str | list), None)
        found = [found] if isinstance(found, str) else found
        for item in found or ():
            if not isinstance(item, str):
                self.fail(key, "a list of names", item)
        return default if found is None else tuple(found)

    def pairs(self, key: str, values: bool = True) -> tuple[tuple[str, Any], ...]:
        """A mapping of names to values (or to variable names) as the model's tuple of pairs."""
        expected = "a mapping of names to " + ("values" if values else "variable names")
        found = self.get(key, expected, lambda v: isinstance(v, Mapping), {})
        for name, value in found.items():
            if not isinstance(name, str) or not (values or isinstance(value, str)):
                self.fail(key, expected, {name: value})
        at = self.where(key)
        return tuple((k, decode_value(v, f"{at}.{k}") if values else v) for k, v in found.items())


# --- values: literals stay literals; anything else is a mapping with one key -------------------


def _fixed_offset(value: dt.datetime) -> bool:
    """Whether a YAML timestamp can carry this datetime's offset (whole minutes only)."""
    offset = value.utcoffset()
    return offset is None or offset % dt.timedelta(minutes=1) == dt.timedelta(0)


def encode_value(value: Any, where: str, native: bool) -> Any:
    """A literal or reference as file data; `native` keeps dates as dates (YAML has them)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Ref):
        return {"ref": value.path}
    if isinstance(value, Decimal):
        return {"decimal": str(value)}  # str keeps every digit and the exponent: exact
    if isinstance(value, dt.datetime):
        return value if native and _fixed_offset(value) else {"datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return value if native else {"date": value.isoformat()}
    if isinstance(value, list | tuple):  # a tuple comes back as a list, the Value type
        return [encode_value(v, f"{where}[{i}]", native) for i, v in enumerate(value)]
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return {"record": {k: encode_value(v, f"{where}.{k}", native) for k, v in value.items()}}
    raise DefinitionError(f"{where}: cannot save a value of type {type(value).__name__}")


_PARSERS: dict[str, tuple[Callable[[str], Any], str]] = {
    "date": (dt.date.fromisoformat, "2024-01-31"),
    "datetime": (dt.datetime.fromisoformat, "2024-01-31T09:30:00+00:00"),
    "decimal": (Decimal, "12.50"),
}


def decode_value(data: Any, where: str) -> Any:
    """The inverse of `encode_value`; accepts both the native and the one-key forms."""
    if isinstance(data, list):
        return [decode_value(v, f"{where}[{i}]") for i, v in enumerate(data)]
    if data is None or isinstance(data, str | int | float | dt.date):
        return data
    if not isinstance(data, Mapping) or len(data) != 1 or next(iter(data)) not in _VALUE_KEYS:
        raise DefinitionError(
            f"{where}: expected a literal (text, number, true/false, date, list) or a mapping "
            f"with one key: {', '.join(_VALUE_KEYS)}; got {show(data)}"
        )
    ((kind, inner),) = data.items()
    if kind == "record" and isinstance(inner, Mapping) and all(isinstance(k, str) for k in inner):
        return {k: decode_value(v, f"{where}.{k}") for k, v in inner.items()}
    try:
        if kind == "ref" and isinstance(inner, str):
            return ref(inner)
        if kind in _PARSERS and isinstance(inner, str):
            return _PARSERS[kind][0](inner)
    except (ValueError, InvalidOperation):
        pass
    expected = f"text such as '{_PARSERS[kind][1]}'" if kind in _PARSERS else "a mapping"
    expected = "a reference path such as '$Record.Id'" if kind == "ref" else expected
    raise DefinitionError(f"{where}: {kind}: expected {expected}; got {show(inner)}")


# --- field tables ---------------------------------------------------------------------------------


class Kind(NamedTuple):
    """How one field travels. `write(value, node_path, key, native)` gives file data (None:
    leave the key out); `read(node, key, default)` gives the model value, `default` if absent."""

    write: Callable[[Any, str, str, bool], Any]
    read: Callable[[Node, str, Any], Any]


Row = tuple[str, str, Kind | None, bool]


def _where(path: str, key: str) -> str:
    return f"{path or '(top level)'}: field {key!r}"


def _scalar(expected: str, ok: Callable[[Any], bool]) -> Kind:
    return Kind(lambda v, path, key, native: v, lambda n, k, d: n.get(k, expected, ok, d))


def _pairs(value: Any, path: str, key: str, native: bool) -> dict[str, Any]:
    names = [name for name, _ in value]
    if len(set(names)) != len(names):
        raise DefinitionError(f"{_where(path, key)}: a name is mapped twice: {', '.join(names)}")
    return {k: encode_value(v, f"{_where(path, key)}.{k}", native) for k, v in value}


KINDS: dict[str, Kind] = {
    "text": _scalar("text", lambda v: isinstance(v, str)),
    "flag": _scalar("true or false", lambda v: isinstance(v, bool)),
    "integer": _scalar("a whole number", lambda v: type(v) is int),
    "number": _scalar("a number", lambda v: type(v) in (int, float)),
    "value": Kind(
        lambda v, path, key, native: encode_value(v, _where(path, key), native),
        lambda n, k, d: decode_value(n.data.get(k), n.where(k)),
    ),
    "names": Kind(lambda v, path, key, native: list(v), lambda n, k, d: n.names(k, d)),
    "map": Kind(_pairs, lambda n, k, d: n.pairs(k)),
    "outputs": Kind(_pairs, lambda n, k, d: n.pairs(k, values=False)),
}


def enum_kind(enum: type[StrEnum]) -> Kind:
    allowed = [e.value for e in enum]
    expected = "one of " + ", ".join(allowed)
    return Kind(
        lambda v, p, k, native: v.value,
        lambda n, k, d: enum(n.get(k, expected, lambda v: v in allowed, d)),
    )


def spec(text: str, kinds: Mapping[str, Kind]) -> tuple[Row, ...]:
    """Rows from words "key=attribute:kind"; the attribute defaults to the key and the kind to
    text. Kind "-" is a key the caller handles; a trailing "!" writes a field at its default."""
    rows = []
    for word in text.split():
        names, _, kind = word.partition(":")
        key, _, attr = names.partition("=")
        kind, always = kind.rstrip("!") or "text", kind.endswith("!")
        rows.append((key, attr or key, None if kind == "-" else kinds[kind], always))
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


def write_fields(obj: Any, rows: Iterable[Row], path: str, native: bool, **extra: Any) -> dict:
    """The fields of `obj` that differ from their defaults, in table order (`extra`: "-" rows)."""
    defaults, out = _defaults(type(obj)), {}
    for key, attr, kind, always in rows:
        if kind is None:
            value = extra.get(key)
        else:
            value, default = getattr(obj, attr), defaults.get(attr, REQUIRED)
            if not always and value == default and type(value) is type(default):
                continue  # the type test keeps 30 and 30.0, 0 and False apart: exact round trips
            value = kind.write(value, path, key, native)
        if value is not None:
            out[key] = value
    return out


def read_fields(node: Node, cls: type, rows: Iterable[Row]) -> dict[str, Any]:
    """Keyword arguments for `cls` from the rows; two keys may feed one attribute (not both)."""
    defaults, kwargs, given = _defaults(cls), {}, {}
    problems, failed = _PROBLEMS.get(), False
    for key, attr, kind, _ in rows:
        if kind is None:
            continue
        if node.has(key):
            if attr in given:
                note(
                    DefinitionError(
                        f"{node.at}: fields {given[attr]!r} and {key!r} both given; expected one"
                    )
                )
                failed = True
                continue
            given[attr] = key
        elif attr in kwargs:
            continue
        default = defaults.get(attr, REQUIRED)
        ok, value = _guarded(lambda: kind.read(node, key, default), problems)  # noqa: B023
        if ok:
            kwargs[attr] = value
        failed = failed or not ok
    if failed:
        raise Noted
    return kwargs


def _named(path: str, kind: str, name: Any) -> str:
    return f"{path} ({kind} {name!r})" if isinstance(name, str) else path


def listing(types: Mapping[str, tuple[type, tuple[Row, ...]]], keyed: bool = True) -> Kind:
    """A list of mappings. `keyed`: the key naming the type holds the name (`stage: Triage`);
    else there is one type, named by its `name` field."""

    def write(values: Any, path: str, key: str, native: bool) -> list[dict[str, Any]]:
        out = []
        for i, obj in enumerate(values):
            at = f"{path} {key}[{i}]".strip()
            kind = next((k for k, (cls, _) in types.items() if isinstance(obj, cls)), None)
            if kind is None:
                raise DefinitionError(f"{at}: cannot save a {type(obj).__name__} here")
            at = _named(at, kind, getattr(obj, "name", None))
            out.append(write_fields(obj, types[kind][1], at, native))
        return out

    def read(node: Node, key: str, default: Any) -> tuple[Any, ...]:
        out, problems, failed = [], _PROBLEMS.get(), False
        for i, item in enumerate(node.items(key, default)):
            ok, obj = _guarded(lambda: read_one(node, key, i, item), problems)  # noqa: B023
            if ok:
                out.append(obj)
            failed = failed or not ok
        if failed:
            raise Noted  # every item was read, and each problem noted
        return tuple(out)

    def read_one(node: Node, key: str, i: int, item: Any) -> Any:
        path, kind = f"{node.inner(key)}[{i}]", next(iter(types))
        if keyed:
            found = [k for k in types if isinstance(item, Mapping) and k in item]
            if len(found) != 1 and isinstance(item, Mapping):
                first = show(next(iter(item))) if item else show(item)
                got = " and ".join(map(repr, found)) or first
                raise DefinitionError(
                    f"{path}: field 'kind': expected one of {', '.join(types)}; got {got}"
                )
            kind = found[0] if found else kind
        cls, rows = types[kind]
        name = item.get(kind if keyed else "name") if isinstance(item, Mapping) else None
        child = Node(item, _named(path, kind, name), (r[0] for r in rows))
        return cls(**read_fields(child, cls, rows))

    return Kind(write, read)


def record(cls: type, rows: tuple[Row, ...]) -> Kind:
    """One nested mapping read with its own rows (e.g. a notification)."""

    def read(node: Node, key: str, default: Any) -> Any:
        if not node.has(key):
            return default
        inner = Node(node.data[key], node.inner(key), (r[0] for r in rows))
        return cls(**read_fields(inner, cls, rows))

    return Kind(lambda v, path, key, native: write_fields(v, rows, f"{path} {key}", native), read)
