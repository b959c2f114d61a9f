"""Many runs of the real engine on a virtual clock: arrivals, people, admins, async steps.

One event queue drives everything. After each engine call the simulator reads what the
call did from `Engine.recent` (new work items, waiting steps, errors) and schedules what
follows: a person's answer after a drawn response time in working hours, an asynchronous
step's end after its drawn duration, an admin's resume. Each kind of randomness has its own
seeded stream, so two variants of a scenario get the same arrivals.
"""

from __future__ import annotations

import datetime as dt
import gc
import heapq
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from orchlab.definition.model import FieldKind, Orchestration, RecordTrigger, Screen
from orchlab.definition.values import ValueType
from orchlab.engine import Engine, Kind, RunStatus, Status, VirtualClock, WorkItemStatus
from orchlab.errors import OrchlabError
from orchlab.people.rights import SYSTEM
from orchlab.simulate.scenario import Arrivals, Scenario
from orchlab.simulate.stand_ins import matching_text, trigger_values

__all__ = ["Simulator", "SimulationReport", "ADMIN"]

ADMIN = "sim_admin"  # the stand-in admin who reassigns, cancels and resumes
_HOUR = dt.timedelta(hours=1)
_DAY = dt.timedelta(days=1)
_BATCH = 2_000  # engine calls per commit: DuckDB commits cost milliseconds (measured: 8,000
# gained nothing beyond noise, and simulate_to_parquet archives between batches)


@dataclass
class SimulationReport:
    """What a simulation did."""

    started: int = 0
    completed: int = 0
    canceled: int = 0
    errors: int = 0
    answered: int = 0
    reassigned: int = 0
    resumed: int = 0
    held: int = 0
    steps_finished: int = 0
    events: int = 0
    seconds: float = 0.0
    per_orchestration: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        return (
            f"{self.started:,} runs started ({self.completed:,} completed, {self.canceled:,} "
            f"canceled, {self.errors:,} errors), {self.answered:,} work items answered, "
            f"{self.reassigned:,} reassigned, {self.held:,} held; "
            f"{self.events:,} events in {self.seconds:.1f} s"
        )


class Simulator:
    """Drive `engine` through `scenario` for the deployed `orchestrations`."""

    def __init__(
        self,
        engine: Engine,
        clock: VirtualClock,
        scenario: Scenario,
        orchestrations: Iterable[Orchestration],
        *,
        progress: Callable[[float], None] | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.scenario = scenario
        self.orchestrations = {o.name: o for o in orchestrations}
        self.progress = progress
        seed = scenario.seed
        self.people_rng = random.Random(f"{seed}:people")
        self.answer_rng = random.Random(f"{seed}:answers")
        self.admin_rng = random.Random(f"{seed}:admins")
        self.queue: list[tuple[dt.datetime, int, str, Any]] = []
        self.counter = 0
        self.report = SimulationReport()
        self.start = scenario.start
        self.end = scenario.start + dt.timedelta(days=scenario.days)
        self.seen = engine.state.seq
        self.versions: dict[str, int] = {}  # work item -> assignment version (reassign bumps)
        self.assigned_at: dict[str, dt.datetime] = {}
        # person -> when each work slot frees, as a heap (its earliest first)
        self.slots: dict[str, list[dt.datetime]] = {}
        self.progressed: dict[str, dt.datetime] = {}  # run -> its last progress
        self.working = scenario.people.working_days
        # Office hours as offsets from midnight, computed once rather than per answer.
        self._opens = scenario.people.day_start * _HOUR
        self._closes = scenario.people.day_end * _HOUR
        self.absent = {
            person: [
                (self.start + dt.timedelta(days=a), self.start + dt.timedelta(days=b))
                for a, b in spans
            ]
            for person, spans in scenario.people.absences.items()
        }

    # --- the event queue ---------------------------------------------------------------------

    def at(self, when: dt.datetime, what: str, arg: Any = None) -> None:
        self.counter += 1
        heapq.heappush(self.queue, (when, self.counter, what, arg))

    def run(self) -> SimulationReport:
        began = time.perf_counter()
        self._schedule_arrivals()
        if self.scenario.admins.every:
            self.at(self.start + dt.timedelta(hours=self.scenario.admins.every), "sweep")
        engine, handlers = self.engine, self._handlers()
        total = (self.end - self.start).total_seconds() or 1.0
        calls = 0
        shown = -1.0
        engine.store.source, source = "simulated", engine.store.source
        # The cyclic collector stays off between batches too (`batch()` pauses it inside
        # one): switched on between them it ran a collection each time, about a tenth of
        # the run, and the simulation makes no reference cycles to collect.
        collecting = gc.isenabled()
        gc.disable()
        try:
            while self.queue and self.queue[0][0] <= self.end:
                with engine.batch():
                    for _ in range(_BATCH):
                        if not self.queue or self.queue[0][0] > self.end:
                            break
                        when, _, what, arg = heapq.heappop(self.queue)
                        if when > self.clock.now():
                            self.clock.set(when)
                        handlers[what](arg)
                        self._react()
                        calls += 1
                if self.progress is not None:
                    done = (self.clock.now() - self.start).total_seconds() / total
                    if done - shown >= 0.01:
                        shown = done
                        self.progress(min(done, 1.0))
        finally:
            engine.store.source = source
            if collecting:
                gc.enable()
        if self.progress is not None:
            self.progress(1.0)
        self.report.events = calls
        self.report.seconds = time.perf_counter() - began
        return self.report

    def _handlers(self) -> dict[str, Callable[[Any], None]]:
        return {
            "arrive": self._arrive,
            "answer": self._answer,
            "finish": self._finish,
            "resume": self._resume,
            "hold": self._hold,
            "unhold": self._unhold,
            "sweep": self._sweep,
        }

    # --- arrivals ----------------------------------------------------------------------------

    def _schedule_arrivals(self) -> None:
        for name, arrivals in sorted(self.scenario.arrivals.items()):
            if name not in self.orchestrations:
                raise OrchlabError(
                    f"scenario: arrivals.{name}: no such orchestration; expected one of "
                    f"{', '.join(sorted(self.orchestrations))}"
                )
            rng = random.Random(f"{self.scenario.seed}:arrivals:{name}")
            for day in arrivals.at:
                self.at(self.start + dt.timedelta(days=day), "arrive", (name, rng.random()))
            if arrivals.per_day > 0:
                t = rng.expovariate(arrivals.per_day)
                while t < self.scenario.days:
                    self.at(self.start + dt.timedelta(days=t), "arrive", (name, rng.random()))
                    t += rng.expovariate(arrivals.per_day)

    def _arrive(self, arg: tuple[str, float]) -> None:
        name, draw = arg
        orch = self.orchestrations[name]
        arrivals = self.scenario.arrivals.get(name, Arrivals())
        rng = random.Random(draw)  # the arrival's own data: equal across variants
        self.report.per_orchestration[name] = self.report.per_orchestration.get(name, 0) + 1
        try:
            if isinstance(orch.start, RecordTrigger):
                created, updated = trigger_values(orch.start)
                create = {**created, **{k: d.draw(rng) for k, d in arrivals.create.items()}}
                update = {**updated, **{k: d.draw(rng) for k, d in arrivals.update.items()}}
                change = self.engine.create_record(orch.start.object, create, by=SYSTEM)
                if update:
                    self.engine.update_record(change.id, update, by=SYSTEM)
            else:
                inputs = {
                    v.name: arrivals.inputs[v.name].draw(rng)
                    if v.name in arrivals.inputs
                    else _default_input(v.type, rng, self.report.started + 1)
                    for v in orch.variables
                    if v.is_input
                }
                self.engine.start_run(name, _typed(orch, inputs), by=SYSTEM)
        except OrchlabError as error:
            raise OrchlabError(f"simulation: an arrival of {name} was refused: {error}") from None

    # --- what each call did --------------------------------------------------------------------

    def _react(self) -> None:
        engine, now = self.engine, self.clock.now()
        rows = engine.recent(self.seen)
        if not rows:
            return
        self.seen = rows[-1].seq
        for row in rows:
            kind = row.kind
            if row.instance_id is not None:
                self.progressed[row.instance_id] = now
            if kind == Kind.START_WORK_ITEM or kind == Kind.REASSIGN_WORK_ITEM:
                self._assign(row.work_item_id, row.assignee, row.step_name)
            elif kind == Kind.START_STEP and row.payload and row.payload.get("async"):
                timing = self.scenario.steps.get(row.step_name or "")
                hours = timing.duration.draw(self.people_rng) if timing and timing.duration else 0.1
                self.at(now + hours * _HOUR, "finish", (row.instance_id, row.step_name))
            elif kind == Kind.START_INSTANCE:
                self.report.started += 1
                admins = self.scenario.admins
                if admins.hold_rate and self.admin_rng.random() < admins.hold_rate:
                    delay = self.admin_rng.uniform(0.5, 6.0) * _HOUR
                    self.at(now + delay, "hold", row.instance_id)
            elif kind == Kind.END_INSTANCE:
                self.report.completed += 1
                self._forget(row.instance_id)
            elif kind == Kind.CANCEL_INSTANCE:
                self.report.canceled += 1
                self._forget(row.instance_id)
            elif kind == Kind.FAIL_INSTANCE:
                self.report.errors += 1
                after = self.scenario.admins.resume_after
                if after is not None:
                    self.at(now + after * _HOUR, "resume", row.instance_id)

    def _forget(self, run_id: str | None) -> None:
        self.progressed.pop(run_id or "", None)

    def _assign(self, item_id: str | None, assignee: str | None, step: str | None) -> None:
        """Book the item with the person who can start on it first; they answer when done.

        People work on `capacity` items at a time, in working hours: an item waits for a
        free person, so a queue with too few people builds a backlog.
        """
        item = self.engine.state.work_items.get(item_id or "")
        if item is None:
            return
        version = self.versions.get(item.id, 0) + 1
        self.versions[item.id] = version
        now = self.clock.now()
        self.assigned_at[item.id] = now
        if item.owner or item.assignee_type == "User":
            candidates = [item.owner or item.assignee]
        else:
            candidates = list(self.engine.directory.members_of(item.assignee, item.assignee_type))  # type: ignore[arg-type]
        if not candidates:
            return  # a team with no one in it: the item waits (an admin may reassign it)
        best_start: dt.datetime | None = None
        best_person = ""
        capacity, slots_of, absent = self.scenario.people.capacity, self.slots, self.absent
        for person in candidates:  # the earliest start wins; ties: the first listed
            slots = slots_of.get(person)
            if slots is None:
                slots = slots_of[person] = [now] * capacity  # equal values: already a heap
            free = slots[0]  # a heap: the slot that frees first, without a min() per person
            start = free if free > now else now
            if person in absent:
                start = self._available(person, start)
            if best_start is None or start < best_start:
                best_start, best_person = start, person
        person, start = best_person, best_start
        hours = self.scenario.response_for(step or "", assignee).draw(self.people_rng)
        done = self._after_working(start, hours)  # type: ignore[arg-type]
        heapq.heapreplace(slots_of[person], done)  # the earliest slot now frees at `done`
        self.at(done, "answer", (item.id, version, person))

    def _available(self, person: str, when: dt.datetime) -> dt.datetime:
        """When the person can next work at or after `when` (back from an absence)."""
        for _ in range(20):
            back = self._back(person, when)
            if back == when:
                return when
            when = back
        return when

    # --- people ------------------------------------------------------------------------------

    def _working_at(self, when: dt.datetime) -> bool:
        if self.working is None:
            return True
        people = self.scenario.people
        hour = when.hour + when.minute / 60
        return when.weekday() in self.working and people.day_start <= hour < people.day_end

    def _after_working(self, start: dt.datetime, hours: float) -> dt.datetime:
        """`start` plus `hours` of working time (off-hours and days off do not count)."""
        if self.working is None:
            return start + hours * _HOUR
        working, to_open, to_close = self.working, self._opens, self._closes
        t, left = start, hours
        for _ in range(10_000):  # a bound: ~27 years of working days
            day_open = t.replace(hour=0, minute=0, second=0, microsecond=0)
            opens = day_open + to_open
            closes = day_open + to_close
            if t.weekday() not in working or t >= closes:
                t = day_open + _DAY + to_open
                continue
            t = max(t, opens)
            room = (closes - t).total_seconds() / 3600
            if left <= room:
                return t + left * _HOUR
            left -= room
            t = day_open + _DAY + to_open
        return t

    def _present(self, person: str, when: dt.datetime) -> bool:
        return not any(a <= when < b for a, b in self.absent.get(person, ()))

    def _back(self, person: str, when: dt.datetime) -> dt.datetime:
        ends = [b for a, b in self.absent.get(person, ()) if a <= when < b]
        return max(ends) if ends else when

    def _answer(self, arg: tuple[str, int, str]) -> None:
        item_id, version, person = arg
        engine = self.engine
        item = engine.state.work_items.get(item_id)
        if item is None or item.status is not WorkItemStatus.ASSIGNED:
            return
        if self.versions.get(item_id) != version:
            return  # reassigned since: the new assignee's answer is scheduled
        run = engine.state.runs[item.run_id]
        if run.stage is None or run.stage.steps[item.step_name].status is not Status.IN_PROGRESS:
            return
        screen = run.plan.screens[item.screen]
        engine.complete_work_item(item_id, person, self._values(screen, item.step_name))
        self.report.answered += 1

    def _values(self, screen: Screen, step: str) -> dict[str, Any]:
        rng, given = self.answer_rng, self.scenario.answers.get(step, {})
        values: dict[str, Any] = {}
        for f in screen.fields:
            if f.name in given:
                values[f.name] = given[f.name].draw(rng)
            elif f.kind is FieldKind.CHECKBOX:
                values[f.name] = f.required or rng.random() >= self.scenario.reject
            elif f.kind is FieldKind.PICKLIST:
                rejected = "Rejected" in f.choices and rng.random() < self.scenario.reject
                values[f.name] = "Rejected" if rejected else f.choices[0]
            elif f.kind is FieldKind.MULTI_SELECT:
                values[f.name] = list(f.choices[:1]) if f.required else []
            elif f.kind in (FieldKind.NUMBER, FieldKind.CURRENCY):
                low = float(f.min) if f.min is not None else 0.0
                high = float(f.max) if f.max is not None else max(low, 0.0) + 100_000.0
                values[f.name] = round(rng.uniform(low, high))
            elif f.kind is FieldKind.DATE:
                values[f.name] = self.clock.now().date()
            elif f.kind is FieldKind.DATETIME:
                values[f.name] = self.clock.now()
            elif f.kind is FieldKind.EMAIL:
                values[f.name] = "someone@example.com"
            elif f.regex:
                values[f.name] = matching_text(f.regex, rng)
            elif f.required:
                low = f.min_length or 4
                values[f.name] = ("done " * (low // 5 + 1))[: max(low, 4)].strip() or "done"
        return values

    # --- steps and admins ----------------------------------------------------------------------

    def _finish(self, arg: tuple[str, str]) -> None:
        run_id, step = arg
        run = self.engine.state.runs.get(run_id)
        if run is None or run.stage is None or step not in run.stage.steps:
            return
        step_run = run.stage.steps[step]
        if step_run.pending is None or step_run.status is not Status.IN_PROGRESS:
            return
        self.engine.run_step(run_id, step, by=SYSTEM)
        self.report.steps_finished += 1

    def _resume(self, run_id: str) -> None:
        run = self.engine.state.runs.get(run_id)
        if run is not None and run.status is RunStatus.ERROR:
            self.engine.resume_run(run_id, by=ADMIN)
            self.report.resumed += 1

    def _hold(self, run_id: str) -> None:
        run = self.engine.state.runs.get(run_id)
        if run is not None and run.status is RunStatus.IN_PROGRESS:
            self.engine.suspend_run(run_id, by=ADMIN)
            self.report.held += 1
            self.at(self.clock.now() + self.scenario.admins.hold_for * _HOUR, "unhold", run_id)

    def _unhold(self, run_id: str) -> None:
        run = self.engine.state.runs.get(run_id)
        if run is not None and run.status is RunStatus.SUSPENDED:
            self.engine.resume_run(run_id, by=ADMIN)

    def _sweep(self, _: Any) -> None:
        """An admin's round: reassign items that wait too long, cancel abandoned runs."""
        engine, admins, now = self.engine, self.scenario.admins, self.clock.now()
        self.at(now + admins.every * _HOUR, "sweep")
        if admins.reassign_after is not None:
            limit = now - admins.reassign_after * _HOUR
            for item in list(engine.state.work_items.values()):
                if item.status is not WorkItemStatus.ASSIGNED:
                    continue
                if self.assigned_at.get(item.id, now) > limit:
                    continue
                target = self._stand_in_for(item, now)
                if target is not None:
                    engine.reassign_work_item(item.id, target, by=ADMIN)
                    self.report.reassigned += 1
                    self._react()
        if admins.cancel_after is not None:
            limit = now - admins.cancel_after * _HOUR
            for run_id in [r for r, t in self.progressed.items() if t <= limit]:
                run = engine.state.runs.get(run_id)
                if run is not None and run.status is not RunStatus.ERROR:
                    engine.cancel_run(run_id, by=ADMIN)
                    self._react()

    def _stand_in_for(self, item: Any, now: dt.datetime) -> str | None:
        """A present member of the item's team other than the one it waits on, if any."""
        directory = self.engine.directory
        waiting_on = item.owner or (item.assignee if item.assignee_type == "User" else None)
        if item.assignee_type == "User":
            teams = [
                q
                for q in (*directory.queues.values(), *directory.groups.values())
                if item.assignee in q.members
            ]
            members = [m for q in teams for m in q.members]
        else:
            if item.owner is None:
                return None  # a pool item: any member who is there takes it anyway
            members = list(directory.members_of(item.assignee, item.assignee_type))
        choices = [m for m in dict.fromkeys(members) if m != waiting_on and self._present(m, now)]
        if waiting_on is not None and self._present(waiting_on, now):
            return None  # the person is here: the item is just slow
        return self.admin_rng.choice(choices) if choices else None


def _default_input(vtype: ValueType, rng: random.Random, n: int) -> Any:
    if vtype in (ValueType.NUMBER, ValueType.CURRENCY):
        return rng.randint(100, 100_000)
    if vtype is ValueType.BOOLEAN:
        return rng.random() < 0.5
    if vtype is ValueType.DATE:
        return dt.date(2026, 1, 1) + dt.timedelta(days=rng.randint(0, 365))
    if vtype is ValueType.DATETIME:
        return dt.datetime(2026, 1, 1) + dt.timedelta(minutes=rng.randint(0, 525_600))
    return f"SIM-{n:06d}"


def _typed(orch: Orchestration, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Inputs in their variables' types (currency as Decimal, numbers rounded sensibly)."""
    from decimal import Decimal

    types = {v.name: v.type for v in orch.variables}
    out = {}
    for name, value in inputs.items():
        if types.get(name) is ValueType.CURRENCY and isinstance(value, int | float):
            value = Decimal(str(round(value, 2)))
        out[name] = value
    return out
