"""Typing export values: Salesforce datetimes to naive UTC, numbers, booleans, picklists.

API exports write datetimes as ISO 8601 with an offset (`2024-03-01T10:00:00.000+0000`,
`...Z`, `+05:30`); a datetime without one is UTC (Data Loader's default). Reports write
them in the exporting user's locale and time zone (`3/1/2024, 10:00 AM`), so the importer
is told that zone. Every parser raises `BadValue` saying what it expected.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from orchlab.errors import HistoryImportError

__all__ = ["BadValue", "parse_datetime", "parse_int", "parse_bool", "zone", "id18", "picklist"]

# Year first: ISO 8601, and the locales that write 2024/03/01 or 2024.03.01 (ja, zh, hu).
_ISO = re.compile(
    r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\.?"
    r"(?:[T ]\s*(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?"
)
# Report (locale) forms: month/day/year or day/month/year, 12 or 24 hours, optional seconds.
_LOCAL = re.compile(
    r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4}),?(?:\s+(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?"
    r"\s*([AaPp]\.?[Mm]\.?)?)?"
)


class BadValue(ValueError):
    """A value that is not of its field's type; the message says what was expected."""


def zone(name: str) -> dt.tzinfo:
    """The time zone a report was exported in (an IANA name such as 'Europe/Paris')."""
    if name.upper() == "UTC":
        return dt.UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise HistoryImportError(
            f"timezone {name!r}: expected an IANA time zone name such as 'UTC' or "
            "'America/New_York' (the exporting user's zone, for report exports)"
        ) from None


def parse_datetime(text: str, local: dt.tzinfo = dt.UTC, *, day_first: bool = False) -> dt.datetime:
    """A datetime as naive UTC (the history's clock). `local`: the zone of values that
    carry no offset (UTC for API exports, the user's zone for reports)."""
    value = text.strip()
    m = _ISO.fullmatch(value)
    if m:
        year, month, day, hour, minute, second, frac, offset = m.groups()
        micro = int((frac or "0")[:6].ljust(6, "0"))
        tz = _offset(offset) if offset else local
        parts = (int(year), int(month), int(day), int(hour or 0), int(minute or 0))
        return _utc(value, parts, int(second or 0), micro, tz)
    m = _LOCAL.fullmatch(value)
    if m:
        a, b, year, hour, minute, second, half = m.groups()
        month, day = (int(b), int(a)) if day_first else (int(a), int(b))
        y = int(year) + (2000 if len(year) == 2 else 0)
        h = int(hour or 0)
        if half:
            if not 1 <= h <= 12:
                raise BadValue(f"{text!r}: hour {h} with AM/PM; expected 1-12")
            h = h % 12 + (12 if half[0] in "Pp" else 0)
        return _utc(value, (y, month, day, h, int(minute or 0)), int(second or 0), 0, local)
    raise BadValue(
        f"{text!r}: expected a datetime such as 2024-03-01T10:00:00.000+0000 (API export) "
        "or 3/1/2024, 10:00 AM (report)"
    )


def _offset(text: str) -> dt.tzinfo:
    if text == "Z":
        return dt.UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _utc(
    text: str, parts: tuple[int, int, int, int, int], second: int, micro: int, tz: dt.tzinfo
) -> dt.datetime:
    try:
        moment = dt.datetime(*parts, second, micro, tzinfo=tz)
    except ValueError as exc:
        raise BadValue(f"{text!r}: not a real date or time ({exc})") from None
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def parse_int(text: str) -> int:
    """A whole number; reports write thousands separators and sometimes '12.0'."""
    value = text.strip().replace(",", "").replace("\u00a0", "").replace(" ", "")
    try:
        number = float(value)
    except ValueError:
        raise BadValue(f"{text!r}: expected a whole number") from None
    if number != number or abs(number) > 2**62:
        raise BadValue(f"{text!r}: expected a whole number")
    return round(number)


def parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise BadValue(f"{text!r}: expected true or false")


_CHECKSUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def id18(core: str) -> str:
    """The 18-character form of a Salesforce Id. Reports export 15-character Ids, the APIs 18:
    the last three characters say which of each five are upper case, so the same record gets
    the same Id whichever export it comes from."""
    if len(core) == 18:
        return core
    suffix = ""
    for i in (0, 5, 10):
        bits = sum(1 << j for j, c in enumerate(core[i : i + 5]) if "A" <= c <= "Z")
        suffix += _CHECKSUM[bits]
    return core + suffix


def picklist(text: str, values: tuple[str, ...]) -> str:
    """A picklist's API value from itself or its label ("In Progress", "Start Instance");
    an unknown value comes back as it is, for the caller to refuse."""
    wanted = re.sub(r"[\s_]", "", text).lower()
    for value in values:
        if value.lower() == wanted:
            return value
    return text
