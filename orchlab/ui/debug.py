"""Debug, as Salesforce's Debug with rollback: run a definition on a throwaway copy, step by step.

`Debugger` deploys the orchestration being designed to an engine of its own, in memory
(nothing reaches any history file), with a copy of the directory. It starts a run with
chosen inputs or record values, acts the people's parts, and keeps every milestone (log
row). `point(i)` replays the milestones up to `i` and says what the run looked like then:
the diagram with the path taken, the variables, the step outputs, and every condition that
was decided there, with which numbered condition held and why the logic came out as it did.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from orchlab.definition.conditions import Explanation, explain
from orchlab.definition.model import (
    Decision,
    InteractiveStep,
    Orchestration,
    RecordTrigger,
    Requirements,
    Stage,
    TriggerEvent,
)
from orchlab.definition.registry import Registry
from orchlab.engine.clock import VirtualClock
from orchlab.engine.engine import Engine
from orchlab.engine.plan import Scope
from orchlab.engine.state import Row, Run, State
from orchlab.engine.status import Kind, Status
from orchlab.people.rights import SYSTEM
from orchlab.service.api import AppApi
from orchlab.service.queries import SvgCache
from orchlab.store.history import HistoryStore

__all__ = ["Check", "Debugger", "Point"]


@dataclass(frozen=True)
class Check:
    """A condition block decided at a milestone, e.g. ("outcome Large of decision Check", ...)."""

    what: str
    explanation: Explanation


@dataclass(frozen=True)
class Point:
    """The run at one milestone."""

    index: int
    row: Row
    svg: str
    status: str
    variables: dict[str, Any]
    outputs: dict[str, dict[str, Any]]
    checks: tuple[Check, ...] = field(default_factory=tuple)


class Debugger:
    """A throwaway engine for one definition: start it, act for people, step through it.

    Args:
        orch: the definition (it must validate: the engine refuses to deploy errors).
        directory: users, groups and queues as `Backend.directory()` returns them.
        registry: the flows the run calls (the default registry when None).
    """

    def __init__(
        self, orch: Orchestration, directory: dict[str, Any], registry: Registry | None = None
    ) -> None:
        self.clock = VirtualClock()
        self.engine = Engine(HistoryStore(), registry=registry, clock=self.clock)
        engine = self.engine
        with engine.batch():
            for u in directory["users"]:
                engine.add_user(u["username"], u["name"], admin=u["is_admin"], by=SYSTEM)
            for g in directory["groups"]:
                engine.add_group(g["name"], g["members"], g.get("label", ""), by=SYSTEM)
            for q in directory["queues"]:
                engine.add_queue(
                    q["name"], q["members"], q.get("routing", "pool"), q.get("label", ""), by=SYSTEM
                )
        self.orch = engine.deploy(orch, by=SYSTEM)  # InvalidOrchestration if it has errors
        self.api = AppApi(engine)
        self.run_id: str | None = None
        self.rows: list[Row] = []
        self.cursor = 0
        self._svg = SvgCache()

    @property
    def record_triggered(self) -> bool:
        return isinstance(self.orch.start, RecordTrigger)

    def start_form(self) -> dict[str, Any]:
        return self.api.start_form(self.orch.name)

    def start(
        self,
        values: dict[str, Any] | None = None,
        record: dict[str, Any] | None = None,
        update: dict[str, Any] | None = None,
    ) -> str | None:
        """Start the run: from input values (autolaunched), or by saving a record with
        `record`'s fields (and then `update`'s, for a trigger on update). Returns the run id,
        or None when the record change started nothing (its conditions did not hold)."""
        if self.run_id is not None:
            raise RuntimeError("this debugger already ran; make a new one for another run")
        start = self.orch.start
        if isinstance(start, RecordTrigger):
            change = self.engine.create_record(start.object, record or {}, by=SYSTEM)
            started = change.started
            if start.on is not TriggerEvent.CREATE and update is not None:
                started += self.engine.update_record(change.id, update, by=SYSTEM).started
            self.run_id = started[0] if started else None
        else:
            self.run_id = self.api.start_run(self.orch.name, values or {}, SYSTEM)["run_id"]
        self._reload()
        return self.run_id

    def _reload(self) -> None:
        self.rows = [
            r
            for r in self.engine.store.rows()
            if r.instance_id == self.run_id or r.kind in (Kind.CREATE_RECORD, Kind.UPDATE_RECORD)
        ]
        self.cursor = len(self.rows) - 1

    # --- the people's parts ----------------------------------------------------------------------

    def open_items(self) -> list[dict[str, Any]]:
        if self.run_id is None or self.run_id not in self.engine.state.runs:
            return []
        return self.api.run_detail(self.run_id)["open_items"]

    def people_for(self, item: dict[str, Any]) -> list[str]:
        """Who may act on an item: its user or routed owner, else its group's or queue's members."""
        if item["owner"] or item["assignee_type"] == "User":
            return [item["owner"] or item["assignee"]]
        return list(self.engine.directory.members_of(item["assignee"], item["assignee_type"]))

    def act(self, item_id: str, user: str, values: dict[str, Any]) -> dict[str, Any]:
        """Complete an item as `user` (FormInvalid and friends are raised as the engine does)."""
        self.clock.advance(minutes=5)  # people take a moment: the timeline shows who did what
        outcome = self.api.complete(item_id, user, values)
        self._reload()
        return outcome

    def work_item(self, item_id: str, user: str) -> dict[str, Any]:
        return self.api.work_item(item_id, user)

    # --- stepping --------------------------------------------------------------------------------

    def step(self, delta: int) -> None:
        if self.rows:
            self.cursor = min(max(0, self.cursor + delta), len(self.rows) - 1)

    def first(self) -> None:
        self.cursor = 0

    def last(self) -> None:
        self.cursor = max(0, len(self.rows) - 1)

    def point(self, index: int | None = None) -> Point:
        """The run after milestone `index` (the cursor by default), replayed from its rows."""
        index = self.cursor if index is None else index
        plan = self.engine.plans[(self.orch.name, self.orch.version)]
        state = State(lambda name, version: self.engine.plans[(name, version)])
        run: Run | None = None
        checks: list[Check] = []
        for i, row in enumerate(self.rows[: index + 1]):
            if i == index and run is not None:
                checks += self._decided(plan, run, state, row)  # seen as it was just before
            state.apply(row)
            if run is None and self.run_id is not None:
                run = state.runs.get(self.run_id)
        row = self.rows[index]
        if run is None:  # the record exists, the run has not started yet
            return Point(index, row, "", "NotStarted", {}, {}, ())
        if row.kind == Kind.START_INSTANCE and isinstance(self.orch.start, RecordTrigger):
            conditions = self.orch.start.conditions
            if conditions is not None:
                checks.append(
                    Check("start conditions", explain(conditions, Scope(plan, run, state.records)))
                )
        checks += self._waiting(plan, run, state)
        picture = replace(run.picture(), title="")
        return Point(
            index,
            row,
            self._svg.svg(self.orch, picture),
            str(run.status),
            dict(run.variables),
            {k: dict(v) for k, v in run.outputs.items()},
            tuple(checks),
        )

    def _decided(self, plan: Any, run: Run, state: State, row: Row) -> list[Check]:
        """The conditions the engine decided in this row, explained on the state before it."""
        scope = Scope(plan, run, state.records)
        found: list[Check] = []
        orch = self.orch
        if row.kind == Kind.TAKE_OUTCOME:
            decision = orch.element((row.payload or {})["decision"])
            assert isinstance(decision, Decision)
            for outcome in decision.outcomes:
                found.append(
                    Check(
                        f"outcome {outcome.name} of {decision.name}",
                        explain(outcome.conditions, scope),
                    )
                )
        elif row.kind == Kind.START_STEP and row.step_name:
            _, step = orch.find_step(row.step_name)
            if isinstance(step.entry, Requirements):
                found.append(
                    Check(f"entry of step {step.name}", explain(step.entry.conditions, scope))
                )
        elif row.kind in (Kind.END_STEP, Kind.END_WORK_ITEM) and row.step_name:
            _, step = orch.find_step(row.step_name)
            if isinstance(step, InteractiveStep) and isinstance(step.exit, Requirements):
                found.append(
                    Check(f"exit of step {step.name}", explain(step.exit.conditions, scope))
                )
        elif row.kind == Kind.END_STAGE and row.stage_name:
            stage_def = orch.element(row.stage_name)
            if isinstance(stage_def, Stage) and isinstance(stage_def.exit, Requirements):
                found.append(
                    Check(
                        f"exit of stage {stage_def.name}", explain(stage_def.exit.conditions, scope)
                    )
                )
        return found

    def _waiting(self, plan: Any, run: Run, state: State) -> list[Check]:
        """Conditions the run waits on now: entries of steps not started, exits still open."""
        stage_run = run.stage
        if stage_run is None:
            return []
        stage = self.orch.element(stage_run.name)
        assert isinstance(stage, Stage)
        scope = Scope(plan, run, state.records)
        found: list[Check] = []
        for step in stage.steps:
            status = stage_run.steps[step.name].status
            if status is Status.NOT_STARTED and isinstance(step.entry, Requirements):
                found.append(
                    Check(
                        f"waiting: entry of step {step.name}", explain(step.entry.conditions, scope)
                    )
                )
            if (
                status is Status.IN_PROGRESS
                and isinstance(step, InteractiveStep)
                and isinstance(step.exit, Requirements)
            ):
                found.append(
                    Check(
                        f"waiting: exit of step {step.name}", explain(step.exit.conditions, scope)
                    )
                )
        if isinstance(stage.exit, Requirements):
            found.append(
                Check(f"waiting: exit of stage {stage.name}", explain(stage.exit.conditions, scope))
            )
        return found
