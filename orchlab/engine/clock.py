"""Time and ids, injected so the engine is deterministic.

The wall clock is for real use; `VirtualClock` is for tests, notebooks and simulation,
where three days pass in a line of code.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

__all__ = ["Clock", "SystemClock", "VirtualClock", "Ids"]


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    """The wall clock, in UTC without tzinfo (DuckDB TIMESTAMP semantics)."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class VirtualClock:
    """A clock that moves only when told to.

    >>> c = VirtualClock(dt.datetime(2026, 1, 5, 9))
    >>> c.advance(hours=2).isoformat()
    '2026-01-05T11:00:00'
    """

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._now = start or dt.datetime(2026, 1, 5, 9, 0, 0)

    def now(self) -> dt.datetime:
        return self._now

    def advance(self, **delta: float) -> dt.datetime:
        """Move forward by `datetime.timedelta(**delta)`; returns the new time."""
        step = dt.timedelta(**delta)
        if step < dt.timedelta(0):
            raise ValueError(f"a clock only moves forward; got {step}")
        self._now += step
        return self._now

    def set(self, when: dt.datetime) -> None:
        if when < self._now:
            raise ValueError(f"a clock only moves forward; {when} is before {self._now}")
        self._now = when


class Ids:
    """Readable, sortable run ids (`R000001`), continuing after the highest one stored."""

    def __init__(self, prefix: str = "R", start: int = 0) -> None:
        self.prefix = prefix
        self.counter = start

    def next(self) -> str:
        self.counter += 1
        return f"{self.prefix}{self.counter:06d}"

    def note(self, given: str) -> None:
        """An id given by a caller in this shape: later ids continue after it."""
        digits = given[len(self.prefix) :]
        if given.startswith(self.prefix) and digits.isdigit():
            self.counter = max(self.counter, int(digits))

    def issued_since(self, counter: int) -> tuple[str, ...]:
        """The ids handed out after `counter` was read (e.g. the runs one call started)."""
        return tuple(f"{self.prefix}{n:06d}" for n in range(counter + 1, self.counter + 1))
