"""JSON that keeps orchlab's value types: dates, datetimes and Decimals come back as themselves.

One codec for the history's log payloads (`orchlab.store.row`) and the apps' calls to the
engine service (`orchlab.service.wire`). A type JSON lacks is written as a one-key mapping
(`{"$decimal": "12.50"}`); run data may not use keys starting with "$" (see
`orchlab.definition.values.check_data`), so a tag is never mistaken for data. Imports only
orjson, so an app's kernel can use it without DuckDB or pandas.

    >>> import datetime as dt
    >>> loads(dumps({"due": dt.date(2026, 1, 31)}))
    {'due': datetime.date(2026, 1, 31)}
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import orjson

__all__ = ["dumps", "dumps_bytes", "loads", "revive", "OPTIONS", "default"]

# Datetimes go through `default` so they come back as datetimes, not strings.
OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS

_TAGS: dict[str, Callable[[str], Any]] = {
    "$datetime": dt.datetime.fromisoformat,
    "$date": dt.date.fromisoformat,
    "$decimal": Decimal,
}


def default(value: Any) -> Any:
    """The tagged form of a value orjson cannot write itself."""
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot write {type(value).__name__} {value!r} as JSON")


def revive(obj: Any) -> Any:
    """Parsed JSON with its tagged values turned back into dates, datetimes and Decimals."""
    if isinstance(obj, dict):
        if len(obj) == 1:
            ((key, value),) = obj.items()
            tag = _TAGS.get(key)
            if tag is not None:
                return tag(value)
        return {k: revive(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [revive(v) for v in obj]
    return obj


def dumps_bytes(value: Any) -> bytes:
    return orjson.dumps(value, default=default, option=OPTIONS)


def dumps(value: Any) -> str | None:
    """JSON text (None stays None)."""
    return None if value is None else dumps_bytes(value).decode()


def loads(text: str | bytes | None) -> Any:
    """The value back, with its dates, datetimes and Decimals."""
    if not text:
        return None
    value = orjson.loads(text)
    # Only text with a tag needs the walk (most payloads have none): a search in C first.
    tagged = '"$' in text if isinstance(text, str) else b'"$' in text
    return revive(value) if tagged else value
