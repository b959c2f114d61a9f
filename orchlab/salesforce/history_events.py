"""Exported records -> the log rows native history would have: one per milestone.

The entity exports (runs, stage runs, step runs, work items) say what exists, how the
entities nest and their current status; the run log (FlowOrchestrationLog) says when each
milestone happened, who did it and how long it took. Each entity gets its start row and,
when its status says it ended, its end row: from the run log when it has the milestone,
else from the entity's own dates (CreatedDate starts it; the run's Duration, else
LastModifiedDate, ends it). Run-log rows name stages and steps only by API name, so the
k-th `StartStage` of a stage name in a run is the k-th stage run of that name (by
CreatedDate); a run log exported alone makes up ids for what it names.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from orchlab.salesforce.history_fields import INSTANCE, LOG, STAGE, STEP, WORK_ITEM
from orchlab.salesforce.history_records import Rejected, Typed
from orchlab.salesforce.history_values import picklist

__all__ = ["Event", "Known", "build_events", "STEP_TYPES"]

# Salesforce StepType -> orchlab's step types (MuleSoft steps are orchlab's ExternalStep).
STEP_TYPES = {
    "InteractiveStep": "InteractiveStep",
    "ApprovalStep": "InteractiveStep",
    "BackgroundStep": "BackgroundStep",
    "AynchronousBackgroundStep": "BackgroundStep",  # sic, as the Object Reference spells it
    "AsynchronousBackgroundStep": "BackgroundStep",
    "MuleSoftStep": "ExternalStep",
}
# Within one instant: parents start before children, children end before parents.
_RANK = {
    "StartInstance": 0, "ResumeInstance": 1, "StartStage": 2, "StartStep": 3,
    "StartWorkItem": 4, "ReassignWorkItem": 5, "RunRecallPath": 5, "EndWorkItem": 6,
    "EndStep": 7, "FailStep": 7, "DiscontinueStep": 7, "SuspendStage": 8, "EndStage": 9,
    "FailStage": 9, "DiscontinueStage": 9, "SuspendInstance": 10, "EndInstance": 11,
    "FailInstance": 11, "CancelInstance": 11,
}  # fmt: skip
_STATUS_OF = {
    "Start": "InProgress", "Resume": "InProgress", "End": "Completed", "Fail": "Error",
    "Discontinue": "Discontinued", "Cancel": "Canceled", "Suspend": "Suspended",
    "Reassign": "Assigned", "RunRecallPath": "InProgress",
}  # fmt: skip
_END_KIND = {
    INSTANCE: {"Completed": "EndInstance", "Canceled": "CancelInstance", "Error": "FailInstance",
               "Suspended": "SuspendInstance"},
    STAGE: {"Completed": "EndStage", "Error": "FailStage", "Discontinued": "DiscontinueStage",
            "Canceled": "DiscontinueStage", "Suspended": "SuspendStage"},
    STEP: {"Completed": "EndStep", "Error": "FailStep", "Discontinued": "DiscontinueStep",
           "Canceled": "DiscontinueStep"},
    WORK_ITEM: {"Completed": "EndWorkItem"},
}  # fmt: skip
_LEVEL = {"Instance": INSTANCE, "Stage": STAGE, "Step": STEP, "WorkItem": WORK_ITEM}
REPEATABLE = frozenset({"ReassignWorkItem", "SuspendInstance", "ResumeInstance", "SuspendStage"})


@dataclass(slots=True)
class Event:
    """One log row to be: the log's columns (without seq and source) and a sort key."""

    timestamp: dt.datetime
    kind: str
    instance_id: str
    orchestration_name: str | None = None
    orchestration_version: int | None = None
    stage_instance_id: str | None = None
    stage_name: str | None = None
    step_instance_id: str | None = None
    step_name: str | None = None
    work_item_id: str | None = None
    status: str | None = None
    actor: str | None = None
    assignee: str | None = None
    assignee_type: str | None = None
    context: str | None = None
    duration: float | None = None
    comments: str | None = None
    payload: dict[str, Any] | None = None
    origin: str = ""  # the record it came from ("file, line 3"): for the report

    def key(self) -> tuple[Any, ...]:
        """What makes it the same milestone in a later export (idempotence)."""
        ids = (self.instance_id, self.stage_instance_id, self.step_instance_id, self.work_item_id)
        return (self.kind, *ids, self.timestamp if self.kind in REPEATABLE else None)

    def order(self) -> tuple[Any, ...]:
        return (self.timestamp, _RANK.get(self.kind, 5), self.instance_id, self.key()[1:4])


@dataclass(slots=True)
class Known:
    """What earlier imports stored: entities by id, so a newer export can refer to them."""

    runs: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> name, version, status
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> run, name, start
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> run, stage, name
    items: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> run, step


@dataclass(slots=True)
class _Entity:
    object: str
    id: str
    run: str
    created: dt.datetime | None
    record: Typed | None  # None: known from the store, or made up from the run log
    stage: str | None = None
    step: str | None = None
    name: str | None = None
    logs: list[Typed] = field(default_factory=list)


def build_events(
    typed: dict[str, list[Typed]], known: Known
) -> tuple[list[Event], list[Rejected], dict[str, set[str]]]:
    """Events of every entity the records name, the records rejected for missing parents,
    and the entity ids per object (to count added and updated)."""
    b = _Builder(known)
    b.entities(typed)
    b.stored_entities({t.get("OrchestrationInstanceId") for t in typed.get(LOG, [])})
    b.attach_logs(typed.get(LOG, []))
    return b.events(), b.rejected, b.touched


class _Builder:
    def __init__(self, known: Known) -> None:
        self.known = known
        self.rejected: list[Rejected] = []
        self.by_id: dict[str, _Entity] = {}
        self.of_run: dict[tuple[str, str], list[_Entity]] = defaultdict(list)  # (object, run)
        self.touched: dict[str, set[str]] = defaultdict(set)
        self.run_names: dict[str, str] = {}  # run Name (autonumber) -> Id
        self.runs: dict[str, Typed] = {}
        self.version: dict[str, int] = {}

    def _reject(self, t: Typed, field: str, expected: str) -> None:
        self.rejected.append(Rejected(t.file, t.where, field, expected))

    def _run_of(self, t: Typed, field: str = "OrchestrationInstanceId") -> str | None:
        rid = t.get(field) or self.run_names.get(t.get("OrchestrationInstance.Name") or "")
        if rid and (rid in self.runs or rid in self.known.runs):
            return str(rid)
        shown = rid or t.get("OrchestrationInstance.Name")
        self._reject(
            t,
            field,
            f"{shown!r}: expected the Id of a run in this export or already imported"
            if shown
            else "the run's Id (or OrchestrationInstance.Name)",
        )
        return None

    def entities(self, typed: dict[str, list[Typed]]) -> None:
        for t in typed.get(INSTANCE, []):
            self.runs[t.get("Id")] = t
            if t.get("Name"):
                self.run_names[t.get("Name")] = t.get("Id")
            self._add(_Entity(INSTANCE, t.get("Id"), t.get("Id"), t.get("CreatedDate"), t))
        for t in typed.get(STAGE, []):
            run = self._run_of(t)
            if run:
                e = _Entity(STAGE, t.get("Id"), run, t.get("CreatedDate"), t, name=t.get("Name"))
                self._add(e)
        for t in typed.get(STEP, []):
            stage = t.get("StageInstanceId") or self._stage_by_name(t)
            parent = self._stage(stage)
            if parent is None:
                self._reject(
                    t,
                    "StageInstanceId",
                    f"{stage!r}: expected the Id of a stage run in this export or already imported",
                )
                continue
            run, _stage_name = parent
            e = _Entity(STEP, t.get("Id"), run, t.get("CreatedDate"), t, stage, None, t.get("Name"))
            self._add(e)
        for t in typed.get(WORK_ITEM, []):
            step = t.get("StepInstanceId")
            parent_step = self._step(step)
            if parent_step is None:
                self._reject(
                    t,
                    "StepInstanceId",
                    f"{step!r}: expected the Id of a step run in this export or already imported",
                )
                continue
            run, stage_id, step_name = parent_step
            e = _Entity(WORK_ITEM, t.get("Id"), run, t.get("CreatedDate"), t, stage_id, step)
            e.name = step_name
            self._add(e)

    def _stage_by_name(self, t: Typed) -> str | None:
        """A step run exported without its StageInstanceId: the latest stage run of its run
        with its OrchestrationStageName that started by the step run's creation."""
        run = t.get("OrchestrationInstanceId")
        name = t.get("OrchestrationStageName")
        found = [
            e
            for e in self.of_run.get((STAGE, run), [])
            if e.name == name and (e.created or dt.datetime.min) <= t.get("CreatedDate")
        ]
        return max(found, key=lambda e: (e.created, e.id)).id if found else None

    def stored_entities(self, runs: set[str]) -> None:
        """The stage runs, step runs and work items earlier imports stored for these runs
        (that this export does not have): a newer run log's rows belong to them."""
        k = self.known
        for sid, v in k.stages.items():
            if v["run"] in runs and sid not in self.by_id:
                self._add(_Entity(STAGE, sid, v["run"], v.get("start"), None, name=v["name"]))
        for sid, v in k.steps.items():
            if v["run"] in runs and sid not in self.by_id:
                made = _Entity(STEP, sid, v["run"], v.get("start"), None, v["stage"])
                made.name = v["name"]
                self._add(made)
        for wid, v in k.items.items():
            if v["run"] in runs and wid not in self.by_id:
                step = k.steps.get(v["step"], {})
                made = _Entity(WORK_ITEM, wid, v["run"], v.get("start"), None, step.get("stage"))
                made.step, made.name = v["step"], step.get("name")
                self._add(made)

    def _add(self, e: _Entity) -> None:
        if e.id not in self.by_id:
            self.of_run[(e.object, e.run)].append(e)
        self.by_id[e.id] = e

    def _stage(self, sid: str | None) -> tuple[str, str] | None:
        if sid is None:
            return None
        e = self.by_id.get(sid)
        if e is not None and e.object == STAGE:
            return e.run, e.name or ""
        k = self.known.stages.get(sid)
        return (k["run"], k["name"]) if k else None

    def _step(self, sid: str | None) -> tuple[str, str | None, str | None] | None:
        if sid is None:
            return None
        e = self.by_id.get(sid)
        if e is not None and e.object == STEP:
            return e.run, e.stage, e.name
        k = self.known.steps.get(sid)
        return (k["run"], k["stage"], k["name"]) if k else None

    # --- the run log ---------------------------------------------------------------------------

    def attach_logs(self, logs: list[Typed]) -> None:
        """Each run-log row to the entity it is about (made up when no export has it)."""
        for t in logs:  # runs made up from their log alone need to exist before the rest
            rid = t.get("OrchestrationInstanceId")
            new = rid and rid not in self.by_id and rid not in self.known.runs
            if t.get("Kind") == "StartInstance" and new:
                self.runs[rid] = t
                self._add(_Entity(INSTANCE, rid, rid, t.get("Timestamp"), None))
        seen: dict[tuple[str, ...], int] = defaultdict(int)
        for t in sorted(logs, key=lambda t: (t.get("Timestamp"), _RANK.get(t.get("Kind"), 5))):
            run = self._run_of(t)
            if run is None:
                continue
            if t.get("OrchestrationVersion") is not None:
                self.version.setdefault(run, t.get("OrchestrationVersion"))
            level = _level(t.get("Kind"))
            if level == INSTANCE:
                self._entity_for_run(run).logs.append(t)
                continue
            stage_name, step_name = t.get("StageName"), t.get("StepName")
            needed = "StageName" if level == STAGE else "StepName"
            if not t.get(needed):
                self._reject(t, needed, f"a value for a {t.get('Kind')} row")
                continue
            kind = t.get("Kind")
            # Starts and ends come in order: the k-th of a name is the k-th entity of it.
            # Other rows (a reassignment) are about the latest one started by then.
            ends = kind.startswith(("End", "Fail", "Discontinue", "Cancel"))
            phase = "start" if kind.startswith("Start") else "end" if ends else ""
            group = (level, run, stage_name or "", step_name or "", phase)
            k = seen[group]
            seen[group] += 1
            e = self._nth(level, run, stage_name, step_name, k if phase else None, t)
            e.logs.append(t)

    def _entity_for_run(self, run: str) -> _Entity:
        e = self.by_id.get(run)
        if e is None:  # a run imported before: its new log rows still belong to it
            e = _Entity(INSTANCE, run, run, None, None)
            self._add(e)
        return e

    def _nth(
        self, level: str, run: str, stage: str | None, step: str | None, k: int | None, t: Typed
    ) -> _Entity:
        """The k-th entity of that name in the run (by CreatedDate), or a made-up one; k None:
        the latest created by the row's time."""
        target = {STAGE: (stage, None), STEP: (stage, step), WORK_ITEM: (None, step)}[level]
        same = [e for e in self.of_run[(level, run)] if self._names(e) == target]
        same.sort(key=lambda e: (e.created or dt.datetime.min, e.id))
        if k is None:
            before = [e for e in same if (e.created or dt.datetime.min) <= t.get("Timestamp")]
            if before:
                return before[-1]
            k = len(same)
        if k < len(same):
            return same[k]
        if level == STAGE:
            made = _Entity(STAGE, f"{run}.{stage}.{k + 1}", run, t.get("Timestamp"), None)
            made.name = stage
        elif level == STEP:
            stage_id = self._current_stage(run, stage, t.get("Timestamp"))
            made = _Entity(STEP, f"{stage_id}.{step}", run, t.get("Timestamp"), None, stage_id)
            made.name = step
        else:
            step_e = self._current_step(run, step)
            made = _Entity(
                WORK_ITEM, f"{step_e.id}.W{k + 1}", run, t.get("Timestamp"), None, step_e.stage
            )
            made.step, made.name = step_e.id, step
        made.record = None
        self._add(made)
        return made

    def _names(self, e: _Entity) -> tuple[str | None, str | None]:
        if e.object == STAGE:
            return e.name, None
        if e.object == STEP:
            return self._stage_name(e.stage), e.name
        return None, e.name

    def _stage_name(self, sid: str | None) -> str | None:
        found = self._stage(sid)
        return found[1] if found else None

    def _current_stage(self, run: str, stage: str | None, at: dt.datetime) -> str:
        runs = [
            e
            for e in self.of_run[(STAGE, run)]
            if e.name == stage and (e.created or dt.datetime.min) <= at
        ]
        if not runs:
            made = _Entity(STAGE, f"{run}.{stage}.1", run, at, None)
            made.name = stage
            self._add(made)
            return made.id
        return max(runs, key=lambda e: (e.created or dt.datetime.min, e.id)).id

    def _current_step(self, run: str, step: str | None) -> _Entity:
        found = [e for e in self.of_run[(STEP, run)] if e.name == step]
        if found:
            return max(found, key=lambda e: (e.created or dt.datetime.min, e.id))
        made = _Entity(STEP, f"{run}.{step}", run, None, None)
        made.name = step
        self._add(made)
        return made

    # --- events --------------------------------------------------------------------------------

    def events(self) -> list[Event]:
        out: list[Event] = []
        for e in self.by_id.values():
            if e.record is None and not e.logs:
                continue
            made = self._entity_events(e)
            if made:
                self.touched[e.object].add(e.id)
            out.extend(made)
        return out

    def _context(self, e: _Entity) -> dict[str, Any]:
        """The columns every row of the entity shares: run, stage and step it belongs to."""
        run = self.runs.get(e.run)
        known = self.known.runs.get(e.run, {})
        name = (
            (run.get("OrchestrationDeveloperName") or run.get("OrchestrationName")) if run else None
        ) or known.get("name")
        version = self.version.get(e.run, known.get("version"))
        if version is None and run is not None:
            text = str(run.get("FlowDefinitionVersionName") or "")
            version = int(text) if text.isdigit() else None
        ctx: dict[str, Any] = {
            "instance_id": e.run,
            "orchestration_name": name,
            "orchestration_version": version,
        }
        if e.object == STAGE:
            ctx.update(stage_instance_id=e.id, stage_name=e.name)
        elif e.object in (STEP, WORK_ITEM):
            sid = e.stage
            ctx.update(stage_instance_id=sid, stage_name=self._stage_name(sid))
            if e.object == STEP:
                ctx.update(step_instance_id=e.id, step_name=e.name)
            else:
                ctx.update(step_instance_id=e.step, step_name=e.name, work_item_id=e.id)
        return ctx

    def _entity_events(self, e: _Entity) -> list[Event]:
        ctx = self._context(e)
        rec = e.record
        events = [self._from_log(t, ctx, e) for t in e.logs]
        kinds = {ev.kind for ev in events}
        if rec is None:
            return events
        status = rec.get("Status")
        start = {INSTANCE: "StartInstance", STAGE: "StartStage", STEP: "StartStep"}.get(
            e.object, "StartWorkItem"
        )
        started = status != "NotStarted"
        if started and start not in kinds:
            events.append(Event(rec.get("CreatedDate"), start, origin=_origin(rec), **ctx))
        end = _END_KIND[e.object].get(status or "")
        if end and end not in kinds:
            events.append(Event(self._end_time(rec, e), end, origin=_origin(rec), **ctx))
        was = self.known.runs.get(e.id, {}).get("status") if e.object == INSTANCE else None
        if (
            was in ("Suspended", "Error")
            and status == "InProgress"
            and "ResumeInstance" not in kinds
        ):
            # Imported suspended (or failed), in progress now: resumed since, at its last change.
            moment = rec.get("LastModifiedDate") or rec.get("CreatedDate")
            events.append(Event(moment, "ResumeInstance", origin=_origin(rec), **ctx))
        for ev in events:
            self._fill(ev, rec, e, status)
        return events

    def _end_time(self, rec: Typed, e: _Entity) -> dt.datetime:
        created = rec.get("CreatedDate")
        if e.object == INSTANCE and rec.get("Duration") is not None:
            return created + dt.timedelta(seconds=rec.get("Duration"))
        return max(created, rec.get("LastModifiedDate") or created)

    def _from_log(self, t: Typed, ctx: dict[str, Any], e: _Entity) -> Event:
        kind = t.get("Kind")
        ev = Event(t.get("Timestamp"), kind, origin=_origin(t), **ctx)
        ev.status = _STATUS_OF.get(_verb(kind))
        if kind.endswith("WorkItem"):
            ev.status = "Completed" if kind == "EndWorkItem" else "Assigned"
        ev.actor = t.get("Actor")
        ev.assignee, ev.assignee_type = t.get("Assignee"), t.get("AssigneeType")
        ev.context, ev.comments = t.get("Context"), t.get("Comments")
        if t.get("Duration") is not None:
            ev.duration = float(t.get("Duration"))
        if kind == "StartInstance" and e.record is None:
            ev.orchestration_name = ev.orchestration_name or t.get("OrchestrationName")
        if ev.orchestration_name is None:
            ev.orchestration_name = t.get("OrchestrationName")
        return ev

    def _fill(self, ev: Event, rec: Typed, e: _Entity, status: str | None) -> None:
        """What the entity's own record adds to its rows (the log does not carry it)."""
        starts = ev.kind.startswith("Start")
        if ev.kind == _END_KIND[e.object].get(status or ""):
            ev.status = status  # a canceled stage's row says Canceled, not Discontinued
        elif ev.status is None:
            ev.status = _STATUS_OF.get(_verb(ev.kind))
        if e.object == INSTANCE:
            ev.orchestration_name = ev.orchestration_name or rec.get("OrchestrationName")
            if starts:
                ev.context = ev.context or rec.get("TriggeringRecord")
                ev.actor = ev.actor or rec.get("CreatedBy.Name") or rec.get("CreatedById")
                ev.payload = {
                    "record_type": rec.get("TriggeringRecordType"),
                    "name": rec.get("Name"),
                }
            elif ev.duration is None and rec.get("Duration") is not None:
                ev.duration = float(rec.get("Duration"))
        elif e.object == STAGE and starts:
            ev.payload = {"position": rec.get("Position"), "label": rec.get("Label")}
        elif e.object == STEP and starts:
            kind = picklist(rec.get("StepType") or "", tuple(STEP_TYPES)) or None
            ev.payload = {"label": rec.get("Label"), "step_type": STEP_TYPES.get(kind, kind)}
            ev.context = ev.context or rec.get("RelatedRecord")
        elif e.object == WORK_ITEM:
            if starts or ev.kind == "ReassignWorkItem":
                ev.assignee = ev.assignee or rec.get("Assignee.Name") or rec.get("AssigneeId")
                ev.assignee_type = ev.assignee_type or rec.get("Assignee.Type")
            if starts:
                ev.status = "Assigned"
                ev.context = ev.context or rec.get("RelatedRecordId")
                owner = rec.get("Owner.Name") or rec.get("OwnerId")
                routed = ev.assignee_type == "Queue" and owner and owner != ev.assignee
                ev.payload = {
                    "label": rec.get("Label"),
                    "screen": rec.get("ScreenFlow"),
                    "owner": owner if routed else None,
                }
        if ev.duration is None and not starts and ev.kind in _END_KINDS:
            ev.duration = (ev.timestamp - rec.get("CreatedDate")).total_seconds()


_END_KINDS = frozenset(k for v in _END_KIND.values() for k in v.values()) - {"SuspendInstance"}


def _verb(kind: str) -> str:
    for level in ("Instance", "Stage", "Step", "WorkItem"):
        if kind.endswith(level):
            return kind[: -len(level)]
    return kind


def _level(kind: str) -> str:
    if kind == "RunRecallPath":
        return INSTANCE
    for suffix, obj in (("WorkItem", WORK_ITEM), ("Instance", INSTANCE), ("Stage", STAGE)):
        if kind.endswith(suffix):
            return obj
    return STEP


def _origin(t: Typed) -> str:
    return f"{t.file}, {t.where}"
