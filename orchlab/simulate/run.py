"""`simulate`: one call from definitions (and a scenario) to a history of simulated runs.

Works on a definition alone: people who stand in for every user, group and queue it names,
placeholder flows for names no registry binds, a default response time, and arrivals that
create or update records so that a record trigger fires.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Iterable
from typing import Any

from orchlab.definition.model import AssigneeKind, InteractiveStep, Orchestration, RecordTrigger
from orchlab.definition.registry import Registry
from orchlab.definition.serialize import to_dict
from orchlab.engine import Engine, VirtualClock
from orchlab.people.rights import SYSTEM
from orchlab.simulate.scenario import Arrivals, Dist, Scenario
from orchlab.simulate.simulator import ADMIN, SimulationReport, Simulator
from orchlab.simulate.stand_ins import stand_in_person, stand_in_registry, with_async_steps
from orchlab.store import HistoryStore

__all__ = ["simulate", "Simulation", "scenario_for"]


@dataclasses.dataclass
class Simulation:
    """A finished simulation: the engine (its store holds the history) and what happened."""

    engine: Engine
    report: SimulationReport
    scenario: Scenario

    @property
    def store(self) -> HistoryStore:
        return self.engine.store


def scenario_for(
    orchestrations: Iterable[Orchestration],
    *,
    per_day: float = 10.0,
    days: float = 30.0,
    seed: int = 7,
    base: Scenario | None = None,
) -> Scenario:
    """A scenario with `per_day` arrivals of each orchestration (the rest from `base`)."""
    base = base or Scenario()
    arrivals = dict(base.arrivals)
    for orch in orchestrations:
        arrivals.setdefault(orch.name, Arrivals(per_day=per_day))
    return dataclasses.replace(base, days=days, seed=seed, arrivals=arrivals)


def simulate(
    orchestrations: Iterable[Orchestration],
    scenario: Scenario | None = None,
    *,
    store: HistoryStore | None = None,
    engine: Engine | None = None,
    registry: Registry | None = None,
    progress: Callable[[float], None] | None = None,
) -> Simulation:
    """Simulate `scenario` (default: 10 arrivals a day of each, 30 days) on the real engine.

    History goes to `store` (in memory by default) or to `engine`'s, marked `simulated`.
    """
    orchs = list(orchestrations)
    scenario = scenario or scenario_for(orchs)
    rng_seed = f"{scenario.seed}:flows"
    if engine is None:
        clock = VirtualClock(scenario.start)
        registry = stand_in_registry(orchs, scenario, random.Random(rng_seed), registry)
        engine = Engine(
            store if store is not None else HistoryStore(), registry=registry, clock=clock
        )
    else:
        clock = engine.clock  # type: ignore[assignment]
        if not isinstance(clock, VirtualClock):
            raise TypeError(
                "simulate: the engine needs a VirtualClock (Engine(clock=VirtualClock()))"
            )
        engine.registry = stand_in_registry(
            orchs, scenario, random.Random(rng_seed), registry or engine.registry
        )
        if clock.now() < scenario.start:
            clock.set(scenario.start)
        scenario = dataclasses.replace(scenario, start=clock.now())
    scenario = _owner_fields(orchs, scenario, engine)
    _stand_in_people(orchs, scenario, engine)
    deployed = []
    for orch in orchs:
        timed = with_async_steps(orch, scenario)
        active = engine.active.get(orch.name)
        current = engine.plans[(orch.name, active)].orch if active else None
        if current is None or to_dict(dataclasses.replace(current, version=1)) != to_dict(
            dataclasses.replace(timed, version=1)
        ):
            current = engine.deploy(timed, by=SYSTEM)
        deployed.append(current)
    report = Simulator(engine, clock, scenario, deployed, progress=progress).run()
    return Simulation(engine, report, scenario)


def _stand_in_people(orchs: list[Orchestration], scenario: Scenario, engine: Engine) -> None:
    """Everyone the definitions name, and an admin; extra members where the scenario adds them."""
    directory, people = engine.directory, scenario.people
    entries: list[Any] = []
    trial = directory.copy()

    def add(entry: Any) -> None:
        trial.put(entry)
        entries.append(entry)

    if ADMIN not in trial.users:
        add(trial.user(ADMIN, "Simulation admin", admin=True))
    for orch in orchs:
        for stage in orch.stages:
            for step in stage.steps:
                if not isinstance(step, InteractiveStep) or step.assignee is None:
                    continue
                kind, name = step.assignee.kind, step.assignee.name
                if kind is AssigneeKind.USER and name not in trial.users:
                    add(trial.user(name))
                elif (
                    kind in (AssigneeKind.GROUP, AssigneeKind.QUEUE) and trial.kind_of(name) is None
                ):
                    size = people.teams.get(name, people.team_size)
                    members = [f"{name.lower()}_{i}" for i in range(1, size + 1)]
                    for m in members:
                        if m not in trial.users:
                            add(trial.user(m))
                    make = trial.queue if kind is AssigneeKind.QUEUE else trial.group
                    add(make(name, members))
    for team, n in people.extra.items():
        if n <= 0 or trial.kind_of(team) not in ("Group", "Queue"):
            continue
        extra = [f"{team.lower()}_extra{i}" for i in range(1, n + 1)]
        for m in extra:
            if m not in trial.users:
                add(trial.user(m))
        if team in trial.queues:
            q = trial.queues[team]
            add(trial.queue(team, (*q.members, *extra), q.routing, q.label, q.email))
        else:
            g = trial.groups[team]
            add(trial.group(team, (*g.members, *extra), g.label))
    if entries:
        from orchlab.people.directory import Group, Queue, User
        from orchlab.people.directory_file import DirectoryFile

        engine.load_directory(
            DirectoryFile(
                users=tuple(e for e in entries if isinstance(e, User)),
                groups=tuple(e for e in entries if isinstance(e, Group)),
                queues=tuple(e for e in entries if isinstance(e, Queue)),
            ),
            by=SYSTEM,
        )


def _owner_fields(orchs: list[Orchestration], scenario: Scenario, engine: Engine) -> Scenario:
    """Assignees named by a record field (`$Record.Owner`, `$Record.Owner:User.Username`) or
    a step output get a stand-in person: a user, and the record field holding them."""
    arrivals = dict(scenario.arrivals)
    for orch in orchs:
        person = stand_in_person(orch)
        refs = [
            step.assignee.name
            for stage in orch.stages
            for step in stage.steps
            if isinstance(step, InteractiveStep)
            and step.assignee is not None
            and step.assignee.kind is AssigneeKind.REFERENCE
        ]
        if refs and person not in engine.directory.users:
            engine.add_user(person, by=SYSTEM)
        if not isinstance(orch.start, RecordTrigger) or orch.name not in arrivals:
            continue
        fields: dict[str, Dist] = {}
        for ref in refs:
            parts = ref.split(".")
            if parts[0] == "$Record" and len(parts) >= 2:
                # `$Record.Owner` holds the person; `$Record.Owner:User.Username` follows a
                # link: the record's Owner holds {"Username": person}.
                value: Any = person
                for name in reversed(parts[2:]):
                    value = {name: value}
                fields[parts[1].split(":", 1)[0]] = Dist("literal", (value,))
        if fields:
            a = arrivals[orch.name]
            arrivals[orch.name] = dataclasses.replace(a, create={**fields, **a.create})
    return dataclasses.replace(scenario, arrivals=arrivals)
