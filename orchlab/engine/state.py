"""Run state, and the one function that changes it: `State.apply(row)`.

The engine never mutates state directly: it appends a log row and applies it.
Reopening a history file applies the same rows again, so a run continues
exactly where it stopped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from orchlab.engine.status import RUN_STATUS_OF, STATUS_OF, Kind, RunStatus, Status, WorkItemStatus
from orchlab.store.row import COLUMNS, Row

__all__ = [
    "COLUMNS",
    "Records",
    "record_id_of",
    "Row",
    "Run",
    "StageRun",
    "State",
    "StepRun",
    "WorkItem",
]


class WorkItem:
    """FlowOrchestrationWorkItem: a person's task."""

    __slots__ = (
        "assignee",
        "assignee_type",
        "completed",
        "completed_by",
        "context",
        "created",
        "id",
        "label",
        "owner",
        "run_id",
        "screen",
        "status",
        "step_id",
        "step_name",
        "values",
    )

    def __init__(self, id: str, run_id: str, step_name: str, step_id: str, row: Row) -> None:
        self.id = id
        self.run_id = run_id
        self.step_name = step_name
        self.step_id = step_id
        self.status = WorkItemStatus.ASSIGNED
        self.assignee = row.assignee
        self.assignee_type = row.assignee_type
        self.context = row.context
        self.created = row.timestamp
        payload = row.payload or {}
        self.label = payload.get("label", step_name)
        self.screen = payload.get("screen")
        self.owner: str | None = payload.get("owner")
        self.completed: dt.datetime | None = None
        self.completed_by: str | None = None
        self.values: dict[str, Any] = {}

    def __repr__(self) -> str:
        who = f"{self.assignee_type}:{self.assignee}"
        return f"<WorkItem {self.id} {self.label!r} {self.status} for {who}>"


class StepRun:
    __slots__ = (
        "ended",
        "error",
        "id",
        "name",
        "outputs",
        "pending",
        "started",
        "status",
        "work_item",
    )

    def __init__(self, id: str, name: str) -> None:
        self.id = id
        self.name = name
        self.status = Status.NOT_STARTED
        self.started: dt.datetime | None = None
        self.ended: dt.datetime | None = None
        self.outputs: dict[str, Any] = {}
        self.error: str | None = None
        self.work_item: str | None = None
        # An asynchronous step waiting to finish: the inputs it started with (else None).
        self.pending: dict[str, Any] | None = None


class StageRun:
    __slots__ = ("ended", "id", "name", "position", "started", "status", "steps")

    def __init__(self, id: str, name: str, position: int, started: dt.datetime) -> None:
        self.id = id
        self.name = name
        self.position = position
        self.status = Status.IN_PROGRESS
        self.started = started
        self.ended: dt.datetime | None = None
        self.steps: dict[str, StepRun] = {}


class Run:
    """FlowOrchestrationInstance with what the engine needs to continue it."""

    __slots__ = (
        "ended",
        "error",
        "held",
        "id",
        "items",
        "latest",
        "name",
        "next_element",
        "outcomes",
        "outputs",
        "path",
        "plan",
        "prior",
        "record_id",
        "record_type",
        "stage",
        "stage_count",
        "started",
        "status",
        "variables",
        "version",
        "visits",
        "work_count",
    )

    def __init__(self, row: Row, payload: dict[str, Any], plan: Any = None) -> None:
        self.id: str = row.instance_id  # type: ignore[assignment]
        self.name: str = row.orchestration_name  # type: ignore[assignment]
        self.version: int = row.orchestration_version  # type: ignore[assignment]
        self.status = RunStatus.IN_PROGRESS
        self.started = row.timestamp
        self.ended: dt.datetime | None = None
        self.variables: dict[str, Any] = dict(payload.get("variables", {}))
        self.record_id: str | None = payload.get("record_id")
        self.record_type: str | None = payload.get("record_type")
        self.prior: dict[str, Any] | None = payload.get("prior")
        self.stage: StageRun | None = None
        self.latest: dict[str, StageRun] = {}  # stage name -> its latest stage run
        self.outputs: dict[str, dict[str, Any]] = {}  # step name -> latest outputs
        self.outcomes: set[str] = set()
        self.path: list[str] = []  # elements in the order the run entered them
        self.plan = plan  # the engine's Plan of the pinned version
        self.next_element = plan.orch.first if plan is not None else None
        self.items: dict[str, WorkItem] = {}  # this run's work items, oldest first
        self.visits: dict[str, int] = {}
        self.stage_count = 0
        self.work_count = 0
        self.error: str | None = None
        self.held: set[str] = set()  # ids of records its record variables hold

    def picture(self) -> Any:
        """The run as a `RunPicture` for the diagram (see orchlab.render)."""
        from orchlab.render.run_state import picture

        return picture(self, self.plan, self.items)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from orchlab.render.jupyter import mimebundle

        picture = self.picture()
        bundle = mimebundle(self.plan.orch, include, exclude, picture=picture)
        if "text/plain" in bundle and "image/svg+xml" in bundle:
            bundle["text/plain"] = f"{picture.title}: {bundle['text/plain']}"
        return bundle

    def __repr__(self) -> str:
        where = f" at {self.stage.name}" if self.stage else ""
        return f"<Run {self.id} {self.name} v{self.version} {self.status}{where}>"


def record_id_of(value: Any) -> str | None:
    """The record a record variable holds: its value's "Id", or the value when it is an id."""
    if isinstance(value, dict):
        rid = value.get("Id")
        return rid if isinstance(rid, str) and rid else None
    return value if isinstance(value, str) and value else None


class Records(dict[str, dict[str, Any]]):
    """The records the engine holds: those its open runs use, any other read from the store.

    Memory holds what can still move: a record no open run uses leaves memory once the call
    that last touched it has committed (`State.release_records`), and is read again on demand.
    """

    def __init__(
        self,
        load: Callable[[str], dict[str, Any] | None] = lambda rid: None,
        initial: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(initial or {})
        self._load = load

    def get(self, rid: str, default: Any = None) -> Any:  # type: ignore[override]
        found = dict.get(self, rid)
        if found is None and rid:
            found = self._load(rid)
            if found is not None:
                self[rid] = found
        return default if found is None else found

    def __contains__(self, rid: object) -> bool:
        return isinstance(rid, str) and self.get(rid) is not None


class State:
    """Everything the engine holds in memory: runs, work items, records."""

    def __init__(self, plan_of: Callable[[str, int], Any], *, keep_closed: bool = False) -> None:
        self._plan_of = plan_of
        self._keep_closed = keep_closed  # a replay for a picture keeps the run it ends
        self.runs: dict[str, Run] = {}
        self.work_items: dict[str, WorkItem] = {}
        self.records: Records = Records()  # id -> {"object":..., "fields": {...}}
        self._released: set[str] = set()  # records whose use may have ended in this call
        self.record_runs: dict[str, set[str]] = {}  # record id -> runs that reference it
        self.open_by_owner: dict[
            str, int
        ] = {}  # username -> open routed items (least-open routing)
        self.last_routed: dict[str, str] = {}  # queue -> last member routed to (round robin)
        self.seq = 0
        self._apply: dict[str, Callable[[Row], None]] = {
            Kind.START_INSTANCE: self._start_instance,
            Kind.START_STAGE: self._start_stage,
            Kind.START_STEP: self._step_status,
            Kind.END_STEP: self._end_step,
            Kind.FAIL_STEP: self._step_status,
            Kind.DISCONTINUE_STEP: self._step_status,
            Kind.START_WORK_ITEM: self._start_work_item,
            Kind.END_WORK_ITEM: self._end_work_item,
            Kind.REASSIGN_WORK_ITEM: self._reassign,
            Kind.END_STAGE: self._end_stage,
            Kind.DISCONTINUE_STAGE: self._end_stage,
            Kind.FAIL_STAGE: self._end_stage,
            Kind.TAKE_OUTCOME: self._take_outcome,
            Kind.END_INSTANCE: self._run_status,
            Kind.CANCEL_INSTANCE: self._run_status,
            Kind.FAIL_INSTANCE: self._run_status,
            Kind.SUSPEND_INSTANCE: self._run_status,
            Kind.RESUME_INSTANCE: self._resume,
            Kind.CREATE_RECORD: self._record,
            Kind.UPDATE_RECORD: self._record,
        }

    def apply(self, row: Row) -> None:
        self.seq = row.seq
        handler = self._apply.get(row.kind)
        if handler is not None:  # PublishEvent changes nothing
            handler(row)

    # --- runs ------------------------------------------------------------------------------------

    def _start_instance(self, row: Row) -> None:
        payload = row.payload or {}
        run = Run(row, payload, self._plan_of(row.orchestration_name, row.orchestration_version))  # type: ignore[arg-type]
        self.runs[run.id] = run
        if run.record_id:
            self.record_runs.setdefault(run.record_id, set()).add(run.id)
        self._index_record_variables(run)

    def _index_record_variables(self, run: Run) -> None:
        """Records the run's record variables hold: a change to one re-evaluates the run."""
        plan = run.plan
        if plan is None or not plan.record_variables:
            return
        for name in plan.record_variables:
            rid = record_id_of(run.variables.get(name))
            if rid is not None:
                self.record_runs.setdefault(rid, set()).add(run.id)
                run.held.add(rid)

    def _run_status(self, row: Row) -> None:
        run = self.runs[row.instance_id]  # type: ignore[index]
        status = (
            row.status
        )  # an enum member when live, text when read back (hashing a member is slow)
        run.status = status if status.__class__ is RunStatus else RUN_STATUS_OF[status]
        if row.kind in (Kind.END_INSTANCE, Kind.CANCEL_INSTANCE):
            run.ended = row.timestamp
            if run.stage is not None and row.kind == Kind.CANCEL_INSTANCE:
                run.stage.status = Status.CANCELED
                for step in run.stage.steps.values():
                    if step.status is Status.IN_PROGRESS:
                        step.status = Status.CANCELED
            run.stage = None
            if row.payload and "end" in row.payload:
                run.path.append(row.payload["end"])  # the End element it reached
            self._forget(run)
        elif row.kind == Kind.FAIL_INSTANCE:
            run.error = row.comments
        elif row.kind == Kind.SUSPEND_INSTANCE and run.stage is not None:
            run.stage.status = Status.SUSPENDED

    def _forget(self, run: Run) -> None:
        """A closed run leaves memory (its history stays): memory holds what can still move."""
        if self._keep_closed:
            return
        del self.runs[run.id]
        for item_id in run.items:
            del self.work_items[item_id]
        for rid in {run.record_id, *run.held} - {None}:
            self.record_runs.get(rid, set()).discard(run.id)  # type: ignore[arg-type]
            self._released.add(rid)  # type: ignore[arg-type]

    def release_records(self) -> None:
        """After a commit: records that no open run uses leave memory (the store has them)."""
        for rid in self._released:
            if not self.record_runs.get(rid):
                self.record_runs.pop(rid, None)
                self.records.pop(rid, None)
        self._released.clear()

    def _resume(self, row: Row) -> None:
        run = self.runs[row.instance_id]  # type: ignore[index]
        run.status = RunStatus.IN_PROGRESS
        run.error = None
        stage = run.stage
        if stage is not None:
            stage.status = Status.IN_PROGRESS
            for name in (row.payload or {}).get("restart", []):
                step = stage.steps[name]
                step.status = Status.NOT_STARTED
                step.error = None
                step.work_item = None

    # --- stages and steps ------------------------------------------------------------------------

    def _start_stage(self, row: Row) -> None:
        run = self.runs[row.instance_id]  # type: ignore[index]
        payload = row.payload or {}
        stage = StageRun(row.stage_instance_id, row.stage_name, payload["position"], row.timestamp)  # type: ignore[arg-type]
        prefix = stage.id + "-"
        steps = stage.steps
        for i, name in enumerate(payload["steps"], 1):
            steps[name] = StepRun(prefix + str(i), name)
        run.stage = stage
        run.latest[stage.name] = stage
        run.path.append(stage.name)
        run.visits[stage.name] = run.visits.get(stage.name, 0) + 1
        run.stage_count += 1
        run.next_element = None

    def _step(self, row: Row) -> StepRun:
        return self.runs[row.instance_id].latest[row.stage_name].steps[row.step_name]  # type: ignore[index]

    def _step_status(self, row: Row) -> None:
        step = self._step(row)
        status = row.status
        step.status = status if status.__class__ is Status else STATUS_OF[status]
        if row.kind == Kind.START_STEP:
            step.started = row.timestamp
            payload = row.payload
            if payload is not None and payload.get("async"):
                step.pending = payload.get("inputs", {})
        else:
            step.ended = row.timestamp
            step.pending = None
            if row.kind == Kind.FAIL_STEP:
                step.error = row.comments

    def _end_step(self, row: Row) -> None:
        step = self._step(row)
        step.status = Status.COMPLETED
        step.ended = row.timestamp
        step.pending = None
        payload = row.payload or {}
        step.outputs = payload.get("outputs", {})
        run = self.runs[row.instance_id]  # type: ignore[index]
        run.outputs[step.name] = step.outputs
        if "variables" in payload:
            run.variables.update(payload["variables"])
            self._index_record_variables(run)

    def _end_stage(self, row: Row) -> None:
        run = self.runs[row.instance_id]  # type: ignore[index]
        stage = run.latest[row.stage_name]  # type: ignore[index]
        status = row.status
        stage.status = status if status.__class__ is Status else STATUS_OF[status]
        stage.ended = row.timestamp
        payload = row.payload or {}
        if row.kind == Kind.FAIL_STAGE and not payload.get("handled"):
            return  # the run stops here, in Error, until resumed
        run.stage = None
        run.next_element = payload.get("next")

    def _take_outcome(self, row: Row) -> None:
        run = self.runs[row.instance_id]  # type: ignore[index]
        payload = row.payload or {}
        if payload.get("outcome"):
            run.outcomes.add(payload["outcome"])
        run.path.append(payload["decision"])
        run.visits[payload["decision"]] = run.visits.get(payload["decision"], 0) + 1
        run.next_element = payload.get("next")

    # --- work items ------------------------------------------------------------------------------

    def _start_work_item(self, row: Row) -> None:
        run = self.runs[row.instance_id]  # type: ignore[index]
        item = WorkItem(row.work_item_id, run.id, row.step_name, row.step_instance_id, row)  # type: ignore[arg-type]
        self.work_items[item.id] = item
        run.items[item.id] = item
        self._step(row).work_item = item.id
        run.work_count += 1
        self._own(item, +1)

    def _own(self, item: WorkItem, delta: int) -> None:
        if item.owner:
            count = self.open_by_owner.get(item.owner, 0) + delta
            if count:
                self.open_by_owner[item.owner] = count
            else:
                del self.open_by_owner[item.owner]
            if delta > 0 and item.assignee_type == "Queue":
                self.last_routed[item.assignee] = item.owner  # type: ignore[index]

    def _end_work_item(self, row: Row) -> None:
        item = self.work_items[row.work_item_id]  # type: ignore[index]
        item.status = WorkItemStatus.COMPLETED
        item.completed = row.timestamp
        item.completed_by = row.actor
        item.values = (row.payload or {}).get("values", {})
        self._own(item, -1)
        if row.actor is not None:  # a person's values are the step's outputs at once
            self._step(row).outputs = item.values
            self.runs[item.run_id].outputs[item.step_name] = item.values

    def _reassign(self, row: Row) -> None:
        item = self.work_items[row.work_item_id]  # type: ignore[index]
        self._own(item, -1)
        item.assignee = row.assignee
        item.assignee_type = row.assignee_type
        item.owner = (row.payload or {}).get("owner")
        self._own(item, +1)

    def recount_open_items(self) -> None:
        """Open routed items per person, from the work items in memory (after a rollback)."""
        self.open_by_owner = {}
        for item in self.work_items.values():
            if item.owner and item.status is WorkItemStatus.ASSIGNED:
                self.open_by_owner[item.owner] = self.open_by_owner.get(item.owner, 0) + 1

    # --- records ---------------------------------------------------------------------------------

    def _record(self, row: Row) -> None:
        payload = row.payload or {}
        self.records[payload["id"]] = {"object": payload["object"], "fields": payload["fields"]}
        self._released.add(payload["id"])
