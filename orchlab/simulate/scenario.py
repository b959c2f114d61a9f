"""What a simulation assumes: arrivals, people, how long work takes, and what admins do.

A scenario is plain data, written in YAML beside a definition (every key optional)::

    days: 90
    start: 2026-01-05 08:00         # a Monday
    seed: 7
    arrivals:
      Loan:
        per_day: 12                  # Poisson arrivals; or `at: [0.5, 1.25, ...]` (days)
        inputs: {amount: {lognormal: {median: 20000, spread: 1.0}}, applicant: {choice: [Kim, Lee]}}
      Case_Escalation:
        per_day: 30
        record: {create: {Severity: Low, Amount: {uniform: [100, 2500]}}, update: {Severity: High}}
    people:
      working_hours: {days: [mon, tue, wed, thu, fri], from: "09:00", to: "17:00"}  # or null: 24/7
      team_size: 2                   # stand-in members per group or queue the directory lacks
      capacity: 1                    # work items a person works on at a time
      teams: {Underwriting: 3}
      extra: {Underwriting: 1}       # more people in a queue (a what-if)
      absences: {bob: [[12, 20]]}    # days from the start
    response:                        # a person's time on one item once they start it (working
      default: {median: 30m, spread: 0.8}  # time; items wait for a free person); lognormal, or
                                     # {mean: 1h} (exponential), or 1h
      Approve_loan: {median: 30h}    # by step name, or by assignee (queue, group, user)
    answers:                         # what people enter (default: every required field, validly)
      Approve_loan: {approved: {choice: {true: 0.8, false: 0.2}}}
    steps:                           # background/external steps that take time, and fail
      Disburse: {duration: {median: 2m}, fail: 0.02}
    flows:                           # stand-in outputs for flows (all unregistered flows get one)
      check_credit: {credit_score: {integer: [300, 850]}}
    admins:
      every: 1d                      # how often an admin looks
      reassign_after: 3d             # an item waiting longer goes to a present member
      cancel_after: 30d              # a run without progress for longer is canceled
      resume_after: 1d               # a run in Error is resumed
      holds: {rate: 0.02, for: 2d}   # runs put on hold (suspended) for a while

Durations are text (`30m`, `4h`, `2d`, `2h30m`) or numbers of hours. Every problem is reported at
once, naming the key and what was expected.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchlab.definition.yaml_dialect import parse
from orchlab.errors import DefinitionError, OrchlabError

__all__ = [
    "ScenarioError",
    "Duration",
    "Dist",
    "Arrivals",
    "People",
    "StepTiming",
    "Admins",
    "Scenario",
    "load_scenario",
    "scenario_from_dict",
    "hours_of",
]


class ScenarioError(OrchlabError, ValueError):
    """A scenario that cannot be simulated; the message names the key and what was expected."""


_UNITS = {"s": 1 / 3600, "m": 1 / 60, "h": 1.0, "d": 24.0, "w": 168.0}
_DURATION = re.compile(r"^\s*(?:[0-9]*\.?[0-9]+\s*[smhdw]\s*)+$")  # "30m", "2h30m", "1d 4h"
_PART = re.compile(r"([0-9]*\.?[0-9]+)\s*([smhdw])")
DEFAULT_START = dt.datetime(2026, 1, 5, 8, 0)  # a Monday morning
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TOP_KEYS = (
    "days",
    "start",
    "seed",
    "arrivals",
    "people",
    "response",
    "answers",
    "steps",
    "flows",
    "admins",
    "reject",
)


@dataclass(frozen=True, slots=True)
class Duration:
    """A random duration in hours: lognormal (median, spread), exponential (mean) or fixed."""

    median: float = 4.0
    spread: float = 0.0  # sigma of log(duration); 0: always the median
    mean: float | None = None  # exponential with this mean instead

    def draw(self, rng: random.Random) -> float:
        if self.mean is not None:
            return rng.expovariate(1 / self.mean) if self.mean > 0 else 0.0
        if self.spread <= 0:
            return self.median
        return self.median * math.exp(rng.gauss(0.0, self.spread))


@dataclass(frozen=True, slots=True)
class Dist:
    """A random value: a literal, a choice (weighted), uniform, integer or lognormal."""

    kind: str = "literal"
    args: tuple[Any, ...] = ()

    def draw(self, rng: random.Random) -> Any:
        if self.kind == "literal":
            return self.args[0]
        if self.kind == "choice":
            values, weights = self.args
            return rng.choices(values, weights)[0]
        if self.kind == "uniform":
            return rng.uniform(*self.args)
        if self.kind == "integer":
            return rng.randint(*self.args)
        median, spread = self.args
        return median * math.exp(rng.gauss(0.0, spread))


@dataclass(frozen=True, slots=True)
class Arrivals:
    per_day: float = 0.0
    at: tuple[float, ...] = ()  # fixed arrival times, in days from the start
    inputs: Mapping[str, Dist] = field(default_factory=dict)
    create: Mapping[str, Dist] = field(default_factory=dict)  # record fields on creation
    update: Mapping[str, Dist] = field(default_factory=dict)  # ... and the update that triggers


@dataclass(frozen=True, slots=True)
class People:
    working_days: frozenset[int] | None = frozenset(range(5))  # None: around the clock
    day_start: float = 9.0  # hours
    day_end: float = 17.0
    team_size: int = 2
    capacity: int = 1  # work items a person works on at a time
    teams: Mapping[str, int] = field(default_factory=dict)
    extra: Mapping[str, int] = field(default_factory=dict)
    absences: Mapping[str, tuple[tuple[float, float], ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StepTiming:
    duration: Duration | None = None  # the step then runs asynchronously for this long
    fail: float = 0.0


@dataclass(frozen=True, slots=True)
class Admins:
    every: float = 24.0  # hours between sweeps
    reassign_after: float | None = 72.0
    cancel_after: float | None = 30 * 24.0
    resume_after: float | None = 24.0
    hold_rate: float = 0.0
    hold_for: float = 48.0


@dataclass(frozen=True, slots=True)
class Scenario:
    days: float = 30.0
    start: dt.datetime = DEFAULT_START
    seed: int = 7
    arrivals: Mapping[str, Arrivals] = field(default_factory=dict)
    people: People = field(default_factory=People)
    response: Mapping[str, Duration] = field(
        default_factory=lambda: {"default": Duration(0.5, 0.8)}
    )
    answers: Mapping[str, Mapping[str, Dist]] = field(default_factory=dict)
    steps: Mapping[str, StepTiming] = field(default_factory=dict)
    flows: Mapping[str, Mapping[str, Dist]] = field(default_factory=dict)
    admins: Admins = field(default_factory=Admins)
    reject: float = 0.2  # chance a person answers "Rejected"/unchecks where a form allows it

    def response_for(self, step: str, assignee: str | None) -> Duration:
        return (
            self.response.get(step)
            or (self.response.get(assignee) if assignee else None)
            or self.response.get("default")
            or Duration(0.5, 0.8)
        )


# --- reading ------------------------------------------------------------------------------------


class _Reader:
    """Reads one mapping of the file, noting problems instead of stopping at the first."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems

    def fail(self, where: str, expected: str, got: Any) -> None:
        shown = repr(got) if len(repr(got)) <= 60 else repr(got)[:57] + "..."
        self.problems.append(f"{where}: expected {expected}; got {shown}")

    def mapping(self, data: Any, where: str, keys: tuple[str, ...] | None = None) -> dict:
        if data is None:
            return {}
        if not isinstance(data, Mapping):
            self.fail(where, "a mapping", data)
            return {}
        if keys is not None:
            for key in data:
                if key not in keys:
                    self.problems.append(
                        f"{where}: unknown key {key!r}; expected one of {', '.join(keys)}"
                    )
        return dict(data)

    def number(self, data: Any, where: str, default: float, *, low: float = 0.0) -> float:
        if data is None:
            return default
        if isinstance(data, bool) or not isinstance(data, int | float) or not math.isfinite(data):
            self.fail(where, "a number", data)
            return default
        if data < low:
            self.fail(where, f"a number of at least {low:g}", data)
            return default
        return float(data)

    def chance(self, data: Any, where: str) -> float:
        value = self.number(data, where, 0.0)
        if value > 1:
            self.fail(where, "a chance from 0 to 1", data)
            return 0.0
        return value

    def hours(self, data: Any, where: str, default: float | None) -> float | None:
        if data is None:
            return default
        if isinstance(data, str):
            if _DURATION.match(data):
                return sum(float(n) * _UNITS[unit] for n, unit in _PART.findall(data))
        elif isinstance(data, int | float) and not isinstance(data, bool) and data >= 0:
            return float(data)
        self.fail(where, "a duration such as 30m, 4h or 2d (or a number of hours)", data)
        return default

    def duration(self, data: Any, where: str) -> Duration:
        if isinstance(data, Mapping):
            d = self.mapping(data, where, ("median", "spread", "mean", "fixed"))
            if "mean" in d:
                return Duration(mean=self.hours(d["mean"], f"{where}.mean", 4.0))
            if "fixed" in d:
                return Duration(self.hours(d["fixed"], f"{where}.fixed", 4.0) or 0.0)
            median = self.hours(d.get("median"), f"{where}.median", 4.0) or 0.0
            return Duration(median, self.number(d.get("spread"), f"{where}.spread", 0.8))
        return Duration(self.hours(data, where, 4.0) or 0.0)

    def dist(self, data: Any, where: str) -> Dist:
        if not isinstance(data, Mapping):
            return Dist("literal", (data,))
        if len(data) != 1:
            self.fail(where, "one of choice, uniform, integer, lognormal (or a literal)", data)
            return Dist("literal", (None,))
        ((kind, arg),) = data.items()
        at = f"{where}.{kind}"
        if kind == "choice":
            if isinstance(arg, Mapping) and arg:
                weights = [self.number(w, f"{at}.{k}", 1.0) for k, w in arg.items()]
                if sum(weights) <= 0:
                    self.fail(at, "weights that add up to more than 0", arg)
                    weights = [1.0] * len(weights)
                return Dist("choice", (list(arg), weights))
            if isinstance(arg, list) and arg:
                return Dist("choice", (list(arg), [1.0] * len(arg)))
            self.fail(at, "a list of values or a mapping of value to weight", arg)
        elif kind in ("uniform", "integer"):
            ok = isinstance(arg, list) and len(arg) == 2
            ok = ok and all(isinstance(v, int | float) and not isinstance(v, bool) for v in arg)
            if ok and arg[0] <= arg[1]:
                if kind == "integer" and not all(isinstance(v, int) for v in arg):
                    self.fail(at, "[low, high] whole numbers", arg)
                else:
                    return Dist(kind, tuple(arg))
            else:
                self.fail(at, "[low, high] with low <= high", arg)
        elif kind == "lognormal":
            d = self.mapping(arg, at, ("median", "spread"))
            median = self.number(d.get("median"), f"{at}.median", 1.0)
            return Dist("lognormal", (median, self.number(d.get("spread"), f"{at}.spread", 0.5)))
        else:
            self.fail(where, "one of choice, uniform, integer, lognormal (or a literal)", kind)
        return Dist("literal", (None,))

    def dists(self, data: Any, where: str) -> dict[str, Dist]:
        return {str(k): self.dist(v, f"{where}.{k}") for k, v in self.mapping(data, where).items()}


def scenario_from_dict(data: Any, source: str = "scenario") -> Scenario:
    """A Scenario from its dict form; ScenarioError lists every problem."""
    problems: list[str] = []
    r = _Reader(problems)
    top = r.mapping(data, source, _TOP_KEYS)
    days = r.number(top.get("days"), f"{source}: days", 30.0)
    start = top.get("start", DEFAULT_START)
    if isinstance(start, str):
        try:
            start = dt.datetime.fromisoformat(start)
        except ValueError:
            r.fail(f"{source}: start", "a date and time such as 2026-01-05 08:00", start)
            start = DEFAULT_START
    elif isinstance(start, dt.date) and not isinstance(start, dt.datetime):
        start = dt.datetime.combine(start, dt.time(8))
    elif not isinstance(start, dt.datetime):
        r.fail(f"{source}: start", "a date and time such as 2026-01-05 08:00", start)
        start = DEFAULT_START
    if start.tzinfo is not None:
        start = start.astimezone(dt.UTC).replace(tzinfo=None)
    seed = top.get("seed", 7)
    if isinstance(seed, bool) or not isinstance(seed, int):
        r.fail(f"{source}: seed", "a whole number", seed)
        seed = 7

    arrivals = {}
    for name, spec in r.mapping(top.get("arrivals"), f"{source}: arrivals").items():
        at = f"{source}: arrivals.{name}"
        a = r.mapping(spec, at, ("per_day", "at", "inputs", "record"))
        record = r.mapping(a.get("record"), f"{at}.record", ("create", "update"))
        times = a.get("at", [])
        if not isinstance(times, list) or not all(
            isinstance(t, int | float) and not isinstance(t, bool) and t >= 0 for t in times
        ):
            r.fail(f"{at}.at", "a list of days from the start", times)
            times = []
        arrivals[str(name)] = Arrivals(
            r.number(a.get("per_day"), f"{at}.per_day", 0.0),
            tuple(sorted(float(t) for t in times)),
            r.dists(a.get("inputs"), f"{at}.inputs"),
            r.dists(record.get("create"), f"{at}.record.create"),
            r.dists(record.get("update"), f"{at}.record.update"),
        )

    p = r.mapping(
        top.get("people"),
        f"{source}: people",
        ("working_hours", "team_size", "capacity", "teams", "extra", "absences"),
    )
    people = _people(r, p, f"{source}: people")
    response = {
        str(k): r.duration(v, f"{source}: response.{k}")
        for k, v in r.mapping(top.get("response"), f"{source}: response").items()
    }
    response.setdefault("default", Duration(0.5, 0.8))
    answers = {
        str(k): r.dists(v, f"{source}: answers.{k}")
        for k, v in r.mapping(top.get("answers"), f"{source}: answers").items()
    }
    steps = {}
    for name, spec in r.mapping(top.get("steps"), f"{source}: steps").items():
        at = f"{source}: steps.{name}"
        s = r.mapping(spec, at, ("duration", "fail"))
        duration = r.duration(s["duration"], f"{at}.duration") if "duration" in s else None
        steps[str(name)] = StepTiming(duration, r.chance(s.get("fail"), f"{at}.fail"))
    flows = {
        str(k): r.dists(v, f"{source}: flows.{k}")
        for k, v in r.mapping(top.get("flows"), f"{source}: flows").items()
    }
    a = r.mapping(
        top.get("admins"),
        f"{source}: admins",
        ("every", "reassign_after", "cancel_after", "resume_after", "holds"),
    )
    holds = r.mapping(a.get("holds"), f"{source}: admins.holds", ("rate", "for"))
    admins = Admins(
        r.hours(a.get("every"), f"{source}: admins.every", 24.0) or 24.0,
        r.hours(a.get("reassign_after"), f"{source}: admins.reassign_after", 72.0),
        r.hours(a.get("cancel_after"), f"{source}: admins.cancel_after", 720.0),
        r.hours(a.get("resume_after"), f"{source}: admins.resume_after", 24.0),
        r.chance(holds.get("rate"), f"{source}: admins.holds.rate"),
        r.hours(holds.get("for"), f"{source}: admins.holds.for", 48.0) or 48.0,
    )
    reject = r.chance(top.get("reject", 0.2), f"{source}: reject")
    if problems:
        head = [f"{len(problems)} problems:"] if len(problems) > 1 else []
        raise ScenarioError("\n  ".join([*head, *problems]))
    return Scenario(
        days, start, seed, arrivals, people, response, answers, steps, flows, admins, reject
    )


def _people(r: _Reader, p: dict[str, Any], where: str) -> People:
    working: frozenset[int] | None = frozenset(range(5))  # Monday to Friday
    day_start, day_end = 9.0, 17.0
    if "working_hours" in p and p["working_hours"] is None:
        working = None
    elif "working_hours" in p:
        w = r.mapping(p["working_hours"], f"{where}.working_hours", ("days", "from", "to"))
        days = w.get("days", list(_DAYS[:5]))
        if isinstance(days, list) and all(str(d).lower()[:3] in _DAYS for d in days) and days:
            working = frozenset(_DAYS.index(str(d).lower()[:3]) for d in days)
        else:
            r.fail(f"{where}.working_hours.days", "a list such as [mon, tue, wed]", days)
        day_start = _clock(r, w.get("from", "09:00"), f"{where}.working_hours.from", 9.0)
        day_end = _clock(r, w.get("to", "17:00"), f"{where}.working_hours.to", 17.0)
        if day_end <= day_start:
            r.fail(f"{where}.working_hours", "`to` later than `from`", w)
            day_start, day_end = 9.0, 17.0
    team_size = int(r.number(p.get("team_size"), f"{where}.team_size", 2.0, low=1.0))
    teams = {
        str(k): int(r.number(v, f"{where}.teams.{k}", 2.0, low=1.0))
        for k, v in r.mapping(p.get("teams"), f"{where}.teams").items()
    }
    extra = {
        str(k): int(r.number(v, f"{where}.extra.{k}", 0.0))
        for k, v in r.mapping(p.get("extra"), f"{where}.extra").items()
    }
    absences: dict[str, tuple[tuple[float, float], ...]] = {}
    for person, spans in r.mapping(p.get("absences"), f"{where}.absences").items():
        ok = isinstance(spans, list) and all(
            isinstance(s, list) and len(s) == 2 and all(isinstance(x, int | float) for x in s)
            for s in spans
        )
        if not ok:
            r.fail(f"{where}.absences.{person}", "a list of [from_day, to_day]", spans)
            continue
        absences[str(person)] = tuple((float(a), float(b)) for a, b in spans)
    capacity = int(r.number(p.get("capacity"), f"{where}.capacity", 1.0, low=1.0))
    return People(working, day_start, day_end, team_size, capacity, teams, extra, absences)


def _clock(r: _Reader, text: Any, where: str, default: float) -> float:
    m = re.match(r"^(\d{1,2}):(\d{2})$", str(text))
    if m and int(m.group(1)) <= 24 and int(m.group(2)) < 60:
        return int(m.group(1)) + int(m.group(2)) / 60
    r.fail(where, "a time such as 09:00", text)
    return default


def hours_of(text: str | float) -> float:
    """Hours in a duration such as "30m", "4h", "2d" or a number of hours; ValueError if not.

    >>> hours_of("2d"), hours_of("30m"), hours_of("2h30m"), hours_of(1.5)
    (48.0, 0.5, 2.5, 1.5)
    """
    problems: list[str] = []
    hours = _Reader(problems).hours(text, "duration", None)
    if problems or hours is None:
        raise ValueError(f"expected a duration such as 30m, 4h or 2d; got {text!r}")
    return hours


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario YAML (or JSON) file."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError(f"{source}: cannot read the scenario ({error.strerror})") from None
    try:
        data = parse(text, "json" if text.lstrip().startswith("{") else "yaml", str(source))
    except DefinitionError as error:
        raise ScenarioError(str(error)) from None
    return scenario_from_dict(data or {}, str(source))
