"""The run engine: commands in, log rows out, driven to a fixpoint within one call.

Every change is a log row that is applied to the in-memory `State` and appended
to the `HistoryStore` in the same call's transaction. If anything fails before the
commit, the touched runs are rebuilt from the store, so memory never claims more
than the file holds.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from orchlab.clock import Clock, Ids, SystemClock
from orchlab.directory import Directory, Routing
from orchlab.engine.errors import (
    EngineError,
    NotFound,
    PermissionDenied,
    WorkItemClosed,
)
from orchlab.engine.plan import Plan, Scope
from orchlab.engine.state import Row, Run, StageRun, State, WorkItem
from orchlab.engine.status import TERMINAL_RUN, Kind, RunStatus, Status, WorkItemStatus
from orchlab.forms import clean_form
from orchlab.model import (
    AfterSteps,
    AllStepsComplete,
    AssigneeKind,
    Decision,
    End,
    EvaluationFlow,
    ExternalStep,
    FormSubmitted,
    InteractiveStep,
    OnStageStart,
    Orchestration,
    RecordTrigger,
    Requirements,
    Stage,
    Step,
    TriggerEvent,
)
from orchlab.notify import Mailer, SmtpConfig
from orchlab.registry import FlowKind, Registry
from orchlab.registry import registry as default_registry
from orchlab.store.history import HistoryStore

__all__ = ["Engine"]

_EXECUTOR: cf.ThreadPoolExecutor | None = None


def _executor() -> cf.ThreadPoolExecutor:
    global _EXECUTOR
    if _EXECUTOR is None:
        _EXECUTOR = cf.ThreadPoolExecutor(max_workers=4, thread_name_prefix="orchlab-action")
    return _EXECUTOR


class _StepFailed(Exception):
    """A flow, action or evaluation failed: the step goes to Error (or the fault path)."""


class Engine:
    """Runs orchestrations, keeps work items, and records everything in a HistoryStore.

    Args:
        store: where history goes; an in-memory store when None.
        registry: flows, evaluation flows and actions by name (the default registry if None).
        clock: the wall clock by default; pass a `VirtualClock` in tests and simulations.
        max_visits: how often one run may enter the same element before a Go To loop is stopped.
        smtp: where to deliver notification emails; without it they are only kept in the outbox.
    """

    def __init__(
        self,
        store: HistoryStore | None = None,
        *,
        registry: Registry | None = None,
        clock: Clock | None = None,
        max_visits: int = 100,
        smtp: SmtpConfig | None = None,
    ) -> None:
        self.store = store if store is not None else HistoryStore()
        self.registry = registry if registry is not None else default_registry
        self.clock = clock or SystemClock()
        self.max_visits = max_visits
        self.mailer = Mailer(smtp) if smtp is not None else None
        self.directory = Directory()
        self.plans: dict[tuple[str, int], Plan] = {}
        self.active: dict[str, int] = {}
        self.state = State(lambda name, version: self.plans[(name, version)])
        self._pending: list[Row] = []
        self._extra: list[tuple[str, list[Any]]] = []
        self._now = self.clock.now()  # one timestamp per engine call: its rows share it
        self._depth = 0
        self._batch = 0
        self._call_scope = _Call(self)
        self._load()
        self.ids = Ids("R", self.store.run_count())
        self._record_ids = Ids("REC", len(self.state.records))

    # --- loading and saving ----------------------------------------------------------------------

    def _load(self) -> None:
        from orchlab.serialize import from_dict

        for name, version, status, data in self.store.definitions():
            self.plans[(name, version)] = Plan(from_dict(data))
            if status == "Active":
                self.active[name] = version
        users, groups, members = self.store.directory_rows()
        for username, name, email, admin in users:
            self.directory.add_user(username, name, email, admin=admin)
        members_of: dict[str, list[str]] = {}
        for group, username in members:
            members_of.setdefault(group, []).append(username)
        for name, label, kind, routing, email in groups:
            if kind == "Queue":
                self.directory.add_queue(
                    name, members_of.get(name, []), routing, label, email or ""
                )
            else:
                self.directory.add_group(name, members_of.get(name, []), label)
        for row in self.store.record_rows():
            self.state.apply(row)
        for row in self.store.open_run_rows():
            self.state.apply(row)
        self.state.seq = self.store.max_seq()

    def _call(self) -> _Call:
        """One engine call = one transaction (or part of an enclosing `batch()`)."""
        return self._call_scope

    def flush(self) -> None:
        """Commit what is pending; on failure, rebuild memory from the store and raise."""
        if not self._pending and not self._extra:
            return
        try:
            self.store.append(self._pending, self._extra)
        except BaseException:
            self._discard()
            raise
        if self.mailer is not None:  # only what is committed is mailed
            self.mailer.send(
                r.payload["notify"]
                for r in self._pending
                if r.kind in (Kind.START_WORK_ITEM, Kind.REASSIGN_WORK_ITEM)
            )
        self._pending = []
        self._extra = []

    def _discard(self) -> None:
        # Forget uncommitted rows and rebuild the runs they touched from what is stored.
        pending, self._pending, self._extra = self._pending, [], []
        state = self.state
        if any(r.kind in (Kind.CREATE_RECORD, Kind.UPDATE_RECORD) for r in pending):
            state.records.clear()
            for row in self.store.record_rows():
                state.apply(row)
        state.seq = self.store.max_seq()
        self.ids.counter = self.store.run_count()
        touched = {r.instance_id for r in pending if r.instance_id}
        for run_id in touched:
            run = state.runs.pop(run_id, None)
            for item_id in run.items if run is not None else ():
                state.work_items.pop(item_id, None)
        for run_id in touched:
            for row in self.store.rows("WHERE instance_id = ?", [run_id]):
                state.apply(row)
        state.recount_routing()

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Group many calls into one transaction (simulations, bulk loads)."""
        self._batch += 1
        try:
            yield
        except BaseException:
            self._batch -= 1
            if not self._batch:
                self._discard()
            raise
        self._batch -= 1
        if not self._batch:
            self.flush()

    def _emit(self, kind: str, run: Run | None = None, **fields: Any) -> Row:
        state = self.state
        state.seq += 1
        if run is None:
            row = Row(state.seq, self._now, kind, **fields)
        else:
            row = Row(state.seq, self._now, kind, run.id, run.name, run.version, **fields)
        state.apply(row)
        self._pending.append(row)
        return row

    # --- definitions and directory ---------------------------------------------------------------

    def deploy(self, orch: Orchestration, *, activate: bool = True) -> Orchestration:
        """Save a definition as a new version (refused if invalid) and make it the active one."""
        from orchlab.serialize import to_dict
        from orchlab.validate import require_valid

        require_valid(orch, self.registry)
        current = self.active.get(orch.name)
        if current is not None:  # re-deploying the active definition unchanged is a no-op
            same = replace(orch, version=current)
            if to_dict(same) == to_dict(self.plans[(orch.name, current)].orch):
                return self.plans[(orch.name, current)].orch
        versions = [v for (n, v) in self.plans if n == orch.name]
        orch = replace(orch, version=max(versions, default=0) + 1)
        steps = [
            (
                orch.name,
                orch.version,
                st.name,
                st.label or st.name,
                i + 1,
                j + 1,
                s.name,
                s.label or s.name,
                s.step_type,
                getattr(s, "assignee", None) and s.assignee.name,
                getattr(s, "assignee", None) and s.assignee.kind.value,
            )
            for i, st in enumerate(orch.stages)
            for j, s in enumerate(st.steps)
        ]
        extra: list[tuple[str, list[Any]]] = []
        if activate:
            extra.append(("UPDATE definitions SET status = 'Inactive' WHERE name = ?", [orch.name]))
        extra.append(
            (
                "INSERT INTO definitions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    orch.name,
                    orch.version,
                    orch.label,
                    "Active" if activate else "Inactive",
                    orch.is_template,
                    orch.source_template,
                    self.clock.now(),
                    json.dumps(to_dict(orch)),
                ],
            )
        )
        for step_row in steps:
            extra.append(
                ("INSERT INTO definition_steps VALUES (?,?,?,?,?,?,?,?,?,?,?)", list(step_row))
            )
        self.store.append([], extra)
        self.plans[(orch.name, orch.version)] = Plan(orch)
        if activate:
            self.active[orch.name] = orch.version
        return orch

    def activate(self, name: str, version: int) -> None:
        if (name, version) not in self.plans:
            raise NotFound(f"orchestration {name!r} has no version {version}")
        self.store.append(
            [],
            [
                (
                    "UPDATE definitions SET status = CASE WHEN version = ? THEN 'Active' "
                    "ELSE 'Inactive' END WHERE name = ?",
                    [version, name],
                ),
            ],
        )
        self.active[name] = version

    def definition(self, name: str, version: int | None = None) -> Orchestration:
        version = version or self.active.get(name)
        if version is None or (name, version) not in self.plans:
            raise NotFound(
                f"no deployed orchestration {name!r}" + (f" v{version}" if version else "")
            )
        return self.plans[(name, version)].orch

    def add_user(
        self, username: str, name: str = "", email: str = "", *, admin: bool = False
    ) -> None:
        user = self.directory.add_user(username, name, email, admin=admin)
        self.store.append(
            [],
            [
                (
                    "INSERT OR REPLACE INTO users VALUES (?, ?, ?, ?)",
                    [user.username, user.name, user.email, user.is_admin],
                )
            ],
        )

    def add_group(
        self, name: str, members: list[str] | tuple[str, ...] = (), label: str = ""
    ) -> None:
        group = self.directory.add_group(name, members, label)
        self._save_members(name, "Group", group.label, None, "", group.members)

    def add_queue(
        self,
        name: str,
        members: list[str] | tuple[str, ...] = (),
        routing: Routing | str = Routing.POOL,
        label: str = "",
        email: str = "",
    ) -> None:
        queue = self.directory.add_queue(name, members, routing, label, email)
        self._save_members(name, "Queue", queue.label, queue.routing.value, email, queue.members)

    def _save_members(
        self,
        name: str,
        kind: str,
        label: str,
        routing: str | None,
        email: str,
        members: tuple[str, ...],
    ) -> None:
        extra: list[tuple[str, list[Any]]] = [
            (
                "INSERT OR REPLACE INTO directory_groups VALUES (?, ?, ?, ?, ?)",
                [name, label, kind, routing, email],
            ),
            ("DELETE FROM members WHERE group_name = ?", [name]),
        ]
        extra += [("INSERT INTO members VALUES (?, ?)", [name, m]) for m in members]
        self.store.append([], extra)

    # --- records and triggers --------------------------------------------------------------------

    def create_record(
        self, object: str, fields: Mapping[str, Any] | None = None, id: str | None = None
    ) -> str:
        """Create a record; record-triggered orchestrations on its object may start."""
        with self._call():
            rid = id or self._record_ids.next()
            if rid in self.state.records:
                raise EngineError(f"record {rid!r} already exists; expected a new id")
            data = dict(fields or {})
            self._emit(
                Kind.CREATE_RECORD,
                None,
                context=rid,
                payload=({"id": rid, "object": object, "fields": data}),
            )
            self._trigger(rid, object, data, None, TriggerEvent.CREATE)
        return rid

    def update_record(self, record_id: str, fields: Mapping[str, Any]) -> None:
        """Change fields of a record: triggers fire and runs that use the record re-evaluate."""
        with self._call():
            record = self.state.records.get(record_id)
            if record is None:
                raise NotFound(f"record {record_id!r} does not exist")
            prior = record["fields"]
            new = {**prior, **fields}
            changed = frozenset(k for k in fields if prior.get(k) != fields[k])
            self._emit(
                Kind.UPDATE_RECORD,
                None,
                context=record_id,
                payload=(
                    {
                        "id": record_id,
                        "object": record["object"],
                        "fields": new,
                        "changed": sorted(changed),
                    }
                ),
            )
            self._trigger(record_id, record["object"], new, prior, TriggerEvent.UPDATE, changed)
            for run_id in sorted(self.state.record_runs.get(record_id, ())):
                run = self.state.runs.get(run_id)
                if run is not None and run.status is RunStatus.IN_PROGRESS:
                    self._advance(run, changed)

    def record(self, record_id: str) -> dict[str, Any]:
        found = self.state.records.get(record_id)
        if found is None:
            raise NotFound(f"record {record_id!r} does not exist")
        return {"Id": record_id, **found["fields"]}

    def _trigger(
        self,
        rid: str,
        object: str,
        fields: dict[str, Any],
        prior: dict[str, Any] | None,
        event: TriggerEvent,
        changed: frozenset[str] = frozenset(),
    ) -> None:
        for name, version in sorted(self.active.items()):
            plan = self.plans[(name, version)]
            start = plan.orch.start
            if not isinstance(start, RecordTrigger) or start.object != object:
                continue
            if start.on is not TriggerEvent.CREATE_OR_UPDATE and start.on is not event:
                continue
            if start.conditions is not None:
                probe: Any = _Probe(rid, prior)
                if not plan.check(
                    start.conditions, Scope(plan, probe, self.state.records, changed)
                ):
                    continue
                if start.only_when_changed and prior is not None:
                    before = {rid: {"object": object, "fields": prior}}
                    if plan.check(start.conditions, Scope(plan, probe, before, changed)):
                        continue  # it held before the update too
            self._start(plan, {}, rid, object, prior)

    # --- starting runs ---------------------------------------------------------------------------

    def start_run(
        self,
        name: str,
        inputs: Mapping[str, Any] | None = None,
        *,
        version: int | None = None,
        record_id: str | None = None,
    ) -> Run:
        """Start a run of the active (or given) version with input variables."""
        orch = self.definition(name, version)
        plan = self.plans[(orch.name, orch.version)]
        given = dict(inputs or {})
        unknown = sorted(
            k for k in given if k not in plan.variables or not plan.variables[k].is_input
        )
        if unknown:
            expected = sorted(v.name for v in orch.variables if v.is_input)
            raise EngineError(
                f"orchestration {name!r}: unknown input variables {unknown}; "
                f"expected some of {expected}"
            )
        with self._call():
            record = self.state.records.get(record_id or "")
            run = self._start(plan, given, record_id, record["object"] if record else None, None)
        return run

    def _start(
        self,
        plan: Plan,
        inputs: dict[str, Any],
        record_id: str | None,
        record_type: str | None,
        prior: dict[str, Any] | None,
    ) -> Run:
        variables = {v.name: v.default for v in plan.orch.variables}
        variables.update(inputs)
        run_id = self.ids.next()
        payload = {"variables": variables, "record_id": record_id, "record_type": record_type}
        if prior is not None:
            payload["prior"] = prior
        self._emit(
            Kind.START_INSTANCE,
            None,
            instance_id=run_id,
            orchestration_name=plan.name,
            orchestration_version=plan.version,
            status=RunStatus.IN_PROGRESS,
            context=record_id,
            payload=(payload),
        )
        run = self.state.runs[run_id]
        self._advance(run)
        return run

    # --- the evaluation loop ---------------------------------------------------------------------

    def _advance(self, run: Run, changed: frozenset[str] = frozenset()) -> None:
        """Drive a run until it waits for a person, an event, or ends."""
        plan = run.plan
        scope = Scope(plan, run, self.state.records, changed)
        in_progress = RunStatus.IN_PROGRESS
        while run.status is in_progress:
            stage_run = run.stage
            if stage_run is None:
                if not self._enter_next(plan, run, scope):
                    return
            elif stage_run.status is not Status.IN_PROGRESS or not self._evaluate_stage(
                plan, run, stage_run, scope
            ):
                return

    def _enter_next(self, plan: Plan, run: Run, scope: Scope) -> bool:
        name = run.next_element
        element = plan.elements.get(name) if name else None
        if element is None or isinstance(element, End):
            duration = (self._now - run.started).total_seconds()
            self._emit(Kind.END_INSTANCE, run, status=RunStatus.COMPLETED, duration=duration)
            return False
        if run.visits.get(element.name, 0) >= self.max_visits:
            loop = " -> ".join([*run.path[-6:], element.name])
            self._fail_run(
                run,
                f"Go To loop stopped: element {element.name!r} was entered "
                f"{self.max_visits} times (path {loop}); raise max_visits or fix "
                "the loop's exit condition",
            )
            return False
        if isinstance(element, Decision):
            chosen, target = None, element.default
            for outcome in element.outcomes:
                if plan.check(outcome.conditions, scope):
                    chosen, target = outcome.name, outcome.next
                    break
            self._emit(
                Kind.TAKE_OUTCOME,
                run,
                status="Completed",
                comments=chosen,
                payload=(
                    {
                        "decision": element.name,
                        "outcome": chosen,
                        "next": target.target if target else None,
                    }
                ),
            )
            return True
        self._start_stage(plan, run, element)
        return True

    def _start_stage(self, plan: Plan, run: Run, stage: Stage) -> None:
        stage_id = f"{run.id}-S{run.stage_count + 1}"
        self._emit(
            Kind.START_STAGE,
            run,
            stage_instance_id=stage_id,
            stage_name=stage.name,
            status=Status.IN_PROGRESS,
            payload=(
                {
                    "position": plan.position[stage.name],
                    "label": stage.label or stage.name,
                    "steps": [s.name for s in stage.steps],
                }
            ),
        )

    def _evaluate_stage(self, plan: Plan, run: Run, stage_run: StageRun, scope: Scope) -> bool:
        """One pass over the current stage; True if something moved (evaluate again)."""
        stage: Stage = plan.elements[stage_run.name]  # type: ignore[assignment]
        moved = False
        not_started, in_progress = Status.NOT_STARTED, Status.IN_PROGRESS
        step_runs = stage_run.steps
        for step, watch_exit in plan.stage_steps[stage.name]:
            status = step_runs[step.name].status
            try:
                if status is not_started:
                    if self._entry_holds(plan, step, stage_run, scope):
                        self._start_step(plan, run, stage_run, step, scope)
                        moved = True
                elif (
                    watch_exit
                    and status is in_progress
                    and self._rule_holds(plan, step.exit, scope, f"step {step.name!r} exit")
                ):  # type: ignore[union-attr]
                    self._end_interactive(run, stage_run, step, None, {})  # type: ignore[arg-type]
                    moved = True
            except _StepFailed as exc:
                self._fail_step(plan, run, stage_run, stage, step, str(exc))
                return run.status is RunStatus.IN_PROGRESS
            if run.stage is not stage_run:
                return True
        if isinstance(stage.exit, AllStepsComplete):
            completed = Status.COMPLETED
            done = all(s.status is completed for s in step_runs.values())
        else:
            try:
                done = self._rule_holds(plan, stage.exit, scope, f"stage {stage.name!r} exit")
            except _StepFailed as exc:
                self._fail_stage(plan, run, stage_run, stage, str(exc))
                return run.status is RunStatus.IN_PROGRESS
        if done:
            self._close_stage(
                run,
                stage_run,
                Kind.END_STAGE,
                Status.COMPLETED,
                stage.next.target if stage.next else None,
            )
            return True
        return moved

    def _entry_holds(self, plan: Plan, step: Step, stage_run: StageRun, scope: Scope) -> bool:
        entry = step.entry
        if isinstance(entry, OnStageStart):
            return True
        if isinstance(entry, AfterSteps):
            steps = stage_run.steps
            return all(steps[name].status is Status.COMPLETED for name in entry.steps)
        return self._rule_holds(plan, entry, scope, f"step {step.name!r} entry")

    def _rule_holds(self, plan: Plan, rule: Any, scope: Scope, where: str) -> bool:
        if isinstance(rule, Requirements):
            try:
                return plan.check(rule.conditions, scope)
            except Exception as exc:
                raise _StepFailed(f"{where}: {exc}") from None
        if isinstance(rule, EvaluationFlow):
            result = self._call_flow(
                rule.flow, FlowKind.EVALUATION, plan.inputs(rule.inputs, scope), where
            )
            if isinstance(result, Mapping):
                result = result.get("isOrchestrationConditionMet")
            return bool(result)
        return True

    def _call_flow(
        self,
        name: str,
        kind: FlowKind,
        inputs: dict[str, Any],
        where: str,
        timeout: float | None = None,
    ) -> Any:
        try:
            spec = self.registry.get(name)
        except KeyError as exc:
            raise _StepFailed(f"{where}: {exc.args[0]}") from None
        try:
            if timeout is None:
                return spec.fn(**inputs)
            future = _executor().submit(spec.fn, **inputs)
            return future.result(timeout=timeout)
        except cf.TimeoutError:
            raise _StepFailed(
                f"{where}: {kind.value} {name!r} timed out after {timeout:g} s"
            ) from None
        except Exception as exc:
            raise _StepFailed(
                f"{where}: {kind.value} {name!r} raised {type(exc).__name__}: {exc}"
            ) from None

    def _start_step(
        self, plan: Plan, run: Run, stage_run: StageRun, step: Step, scope: Scope
    ) -> None:
        step_id = stage_run.steps[step.name].id
        ids = {
            "stage_instance_id": stage_run.id,
            "stage_name": stage_run.name,
            "step_instance_id": step_id,
            "step_name": step.name,
        }
        try:
            inputs = plan.inputs(step.inputs, scope)
        except Exception as exc:
            raise _StepFailed(f"step {step.name!r} inputs: {exc}") from None
        self._emit(Kind.START_STEP, run, status=Status.IN_PROGRESS, **ids)
        if isinstance(step, InteractiveStep):
            self._create_work_item(plan, run, stage_run, step, scope, inputs)
            return
        where = f"step {step.name!r}"
        if isinstance(step, ExternalStep):
            result = self._call_flow(step.action, FlowKind.ACTION, inputs, where, step.timeout)
        else:
            result = self._call_flow(step.flow, FlowKind.FLOW, inputs, where)
        outputs = dict(result or {})
        variables = {var: outputs.get(out) for out, var in step.outputs}
        started = stage_run.steps[step.name].started or self._now
        self._emit(
            Kind.END_STEP,
            run,
            status=Status.COMPLETED,
            actor="automated-process",
            duration=(self._now - started).total_seconds(),
            payload=({"outputs": outputs, "variables": variables}),
            **ids,
        )

    # --- work items ------------------------------------------------------------------------------

    def _resolve_assignee(self, step: InteractiveStep, scope: Scope) -> tuple[str, str]:
        assignee = step.assignee
        if assignee is None:
            raise _StepFailed(f"step {step.name!r}: no assignee")
        name = assignee.name
        if assignee.kind is AssigneeKind.REFERENCE:
            value = scope.plan.resolver(name)(scope)
            kind = self.directory.kind_of(str(value)) if value else None
            if kind is None:
                raise _StepFailed(
                    f"step {step.name!r}: assignee reference {name!r} resolved to "
                    f"{value!r}, which is not a user, group or queue"
                )
            return str(value), kind
        kind = {
            AssigneeKind.USER: "User",
            AssigneeKind.GROUP: "Group",
            AssigneeKind.QUEUE: "Queue",
        }[assignee.kind]
        if self.directory.kind_of(name) != kind:
            raise _StepFailed(
                f"step {step.name!r}: assignee {kind.lower()} {name!r} is not in the directory"
            )
        return name, kind

    def _route(self, queue_name: str) -> str | None:
        queue = self.directory.queues[queue_name]
        if queue.routing is Routing.POOL or not queue.members:
            return None
        if queue.routing is Routing.ROUND_ROBIN:
            last = self.state.last_routed.get(queue_name)
            members = queue.members
            i = members.index(last) + 1 if last in members else 0
            return members[i % len(members)]
        counts = self.state.open_by_owner
        return min(queue.members, key=lambda m: (counts.get(m, 0), queue.members.index(m)))

    def _create_work_item(
        self,
        plan: Plan,
        run: Run,
        stage_run: StageRun,
        step: InteractiveStep,
        scope: Scope,
        inputs: dict[str, Any],
    ) -> None:
        name, kind = self._resolve_assignee(step, scope)
        owner = name if kind == "User" else (self._route(name) if kind == "Queue" else None)
        context = scope.get(step.context_record)
        item_id = f"{run.id}-W{run.work_count + 1}"
        label = step.label or step.name
        notify = self._notification(step, scope, item_id, name, kind, owner, context)
        self._emit(
            Kind.START_WORK_ITEM,
            run,
            stage_instance_id=stage_run.id,
            stage_name=stage_run.name,
            step_instance_id=stage_run.steps[step.name].id,
            step_name=step.name,
            work_item_id=item_id,
            status=WorkItemStatus.ASSIGNED,
            assignee=name,
            assignee_type=kind,
            context=None if context is None else str(context),
            payload={
                "label": label,
                "screen": step.screen,
                "owner": owner,
                "inputs": inputs,
                "notify": notify,
            },
        )

    def _notification(
        self,
        step: InteractiveStep,
        scope: Scope,
        item_id: str,
        name: str,
        kind: str,
        owner: str | None,
        context: Any,
    ) -> dict[str, Any]:
        """The email to the assignees; it lands in the outbox with the work item's log row."""
        to = (
            [self.directory.users[owner].email]
            if owner
            else list(self.directory.emails(name, kind))
        )
        label = step.label or step.name
        note = step.notification
        try:
            subject = scope.fill(note.subject) if note else f"New work item: {label}"
            body = scope.fill(note.body) if note and note.body else ""
        except Exception as exc:
            raise _StepFailed(f"step {step.name!r} notification: {exc}") from None
        body = (body + "\n\n" if body else "") + (
            f"Step: {label}\nRecord: {context or '-'}\nWork item: {item_id}"
        )
        return {"to": to, "subject": subject, "body": body}

    def work_item(self, item_id: str) -> WorkItem:
        item = self.state.work_items.get(item_id)
        if item is None:
            raise NotFound(f"work item {item_id!r} does not exist (or its run is closed)")
        return item

    def can_act(self, item: WorkItem, username: str) -> bool:
        """Only an assignee, a member of the group or queue (or the routed owner), or an admin."""
        if self.directory.is_admin(username):
            return True
        if item.owner:
            return item.owner == username
        if item.assignee_type == "User":
            return item.assignee == username
        return username in self.directory.members_of(item.assignee, item.assignee_type)  # type: ignore[arg-type]

    def work_items(self, user: str | None = None, *, open_only: bool = True) -> list[WorkItem]:
        """A person's inbox (or every item when `user` is None), oldest first."""
        items = [
            w
            for w in self.state.work_items.values()
            if not open_only or w.status is WorkItemStatus.ASSIGNED
        ]
        if user is not None:
            items = [w for w in items if self._is_for(w, user)]
        return sorted(items, key=lambda w: (w.created, w.id))

    def _is_for(self, item: WorkItem, username: str) -> bool:
        if item.owner:
            return item.owner == username
        if item.assignee_type == "User":
            return item.assignee == username
        return username in self.directory.members_of(item.assignee, item.assignee_type)  # type: ignore[arg-type]

    def complete_work_item(
        self,
        item_id: str,
        user: str,
        values: Mapping[str, Any] | None = None,
        *,
        comments: str | None = None,
    ) -> WorkItem:
        """Submit a work item's form as `user`: checked first, then stored, then the run moves."""
        item = self.work_item(item_id)
        if item.status is WorkItemStatus.COMPLETED:
            raise WorkItemClosed(
                f"work item {item_id!r} is already Completed (by "
                f"{item.completed_by or 'the system'} at {item.completed}); "
                "it can be completed only once"
            )
        if user not in self.directory.users:
            raise PermissionDenied(f"user {user!r} is not in the directory")
        if not self.can_act(item, user):
            who = f"{item.assignee_type} {item.assignee!r}" + (
                f" (routed to {item.owner!r})" if item.owner else ""
            )
            raise PermissionDenied(
                f"user {user!r} may not complete work item {item_id!r}: it is "
                f"assigned to {who}; only assignees, members or admins may"
            )
        run = self.state.runs[item.run_id]
        if run.status in TERMINAL_RUN:
            raise WorkItemClosed(f"work item {item_id!r}: its run {run.id} is {run.status}")
        plan = self.plans[(run.name, run.version)]
        step: InteractiveStep = plan.steps[item.step_name]  # type: ignore[assignment]
        clean = clean_form(plan.screens[step.screen], values or {})
        stage_run = run.latest[plan.stage_of[step.name].name]
        with self._call():
            self._end_interactive(run, stage_run, step, user, clean, comments)
            self._advance(run)
        return item

    def _end_interactive(
        self,
        run: Run,
        stage_run: StageRun,
        step: InteractiveStep,
        user: str | None,
        values: dict[str, Any],
        comments: str | None = None,
    ) -> None:
        step_run = stage_run.steps[step.name]
        ids = {
            "stage_instance_id": stage_run.id,
            "stage_name": stage_run.name,
            "step_instance_id": step_run.id,
            "step_name": step.name,
        }
        item = self.state.work_items.get(step_run.work_item or "")
        now = self._now
        if item is not None and item.status is WorkItemStatus.ASSIGNED:
            self._emit(
                Kind.END_WORK_ITEM,
                run,
                work_item_id=item.id,
                status=WorkItemStatus.COMPLETED,
                actor=user,
                assignee=item.assignee,
                assignee_type=item.assignee_type,
                context=item.context,
                duration=(now - item.created).total_seconds(),
                comments=comments,
                payload=({"values": values}),
                **ids,
            )
        if step_run.status is not Status.IN_PROGRESS:
            return  # completed while the stage was being closed; keep the values only
        if user is not None and not isinstance(step.exit, FormSubmitted):
            return  # exit requirements decide; the item's values are the step's outputs already
        variables = {var: values.get(out) for out, var in step.outputs}
        self._emit(
            Kind.END_STEP,
            run,
            status=Status.COMPLETED,
            actor=user,
            duration=(now - (step_run.started or now)).total_seconds(),
            payload=({"outputs": values, "variables": variables}),
            **ids,
        )

    def reassign_work_item(self, item_id: str, to: str, *, by: str) -> WorkItem:
        """Give an open work item to another user, group or queue (admins only)."""
        item = self.work_item(item_id)
        if not self.directory.is_admin(by):
            raise PermissionDenied(
                f"user {by!r} may not reassign work item {item_id!r}: only admins may reassign"
            )
        if item.status is not WorkItemStatus.ASSIGNED:
            raise WorkItemClosed(
                f"work item {item_id!r} is {item.status}; only Assigned items can be reassigned"
            )
        kind = self.directory.kind_of(to)
        if kind is None:
            raise NotFound(f"reassign {item_id!r}: {to!r} is not a user, group or queue")
        run = self.state.runs[item.run_id]
        plan = self.plans[(run.name, run.version)]
        step: InteractiveStep = plan.steps[item.step_name]  # type: ignore[assignment]
        with self._call():
            owner = to if kind == "User" else (self._route(to) if kind == "Queue" else None)
            scope = Scope(plan, run, self.state.records)
            stage_run = run.latest[plan.stage_of[item.step_name].name]
            self._emit(
                Kind.REASSIGN_WORK_ITEM,
                run,
                work_item_id=item.id,
                stage_instance_id=stage_run.id,
                stage_name=stage_run.name,
                step_name=item.step_name,
                step_instance_id=item.step_id,
                status=WorkItemStatus.ASSIGNED,
                actor=by,
                assignee=to,
                assignee_type=kind,
                context=item.context,
                payload={
                    "owner": owner,
                    "from": item.assignee,
                    "notify": self._notification(
                        step, scope, item.id, to, kind, owner, item.context
                    ),
                },
            )
        return item

    # --- errors and admin actions ----------------------------------------------------------------

    def _fail_step(
        self, plan: Plan, run: Run, stage_run: StageRun, stage: Stage, step: Step, message: str
    ) -> None:
        step_run = stage_run.steps[step.name]
        if step_run.status is Status.NOT_STARTED:
            self._emit(
                Kind.START_STEP,
                run,
                stage_instance_id=stage_run.id,
                stage_name=stage_run.name,
                step_instance_id=step_run.id,
                step_name=step.name,
                status=Status.IN_PROGRESS,
            )
        self._emit(
            Kind.FAIL_STEP,
            run,
            stage_instance_id=stage_run.id,
            stage_name=stage_run.name,
            step_instance_id=step_run.id,
            step_name=step.name,
            status=Status.ERROR,
            comments=message,
        )
        self._fail_stage(plan, run, stage_run, stage, message)

    def _fail_stage(
        self, plan: Plan, run: Run, stage_run: StageRun, stage: Stage, message: str
    ) -> None:
        self._stop_steps(run, stage_run)
        handled = stage.on_fault is not None
        self._emit(
            Kind.FAIL_STAGE,
            run,
            stage_instance_id=stage_run.id,
            stage_name=stage_run.name,
            status=Status.ERROR,
            comments=message,
            payload=(
                {"handled": handled, "next": stage.on_fault.target if stage.on_fault else None}
            ),
        )
        if not handled:
            self._fail_run(run, message)

    def _fail_run(self, run: Run, message: str) -> None:
        self._emit(
            Kind.FAIL_INSTANCE,
            run,
            status=RunStatus.ERROR,
            comments=message,
            duration=(self._now - run.started).total_seconds(),
        )

    def _stop_steps(
        self,
        run: Run,
        stage_run: StageRun,
        kind: str = Kind.DISCONTINUE_STEP,
        status: Status = Status.DISCONTINUED,
    ) -> None:
        """Discontinue running steps; their open work items are closed (Salesforce: Completed)."""
        for step_run in stage_run.steps.values():
            ids = {
                "stage_instance_id": stage_run.id,
                "stage_name": stage_run.name,
                "step_instance_id": step_run.id,
                "step_name": step_run.name,
            }
            item = self.state.work_items.get(step_run.work_item or "")
            if item is not None and item.status is WorkItemStatus.ASSIGNED:
                self._emit(
                    Kind.END_WORK_ITEM,
                    run,
                    work_item_id=item.id,
                    status=WorkItemStatus.COMPLETED,
                    assignee=item.assignee,
                    assignee_type=item.assignee_type,
                    comments="closed by the system",
                    **ids,
                )
            if step_run.status is Status.IN_PROGRESS:
                self._emit(kind, run, status=status, **ids)

    def _close_stage(
        self, run: Run, stage_run: StageRun, kind: str, status: Status, next_element: str | None
    ) -> None:
        self._stop_steps(run, stage_run)
        self._emit(
            kind,
            run,
            stage_instance_id=stage_run.id,
            stage_name=stage_run.name,
            status=status,
            duration=(self._now - stage_run.started).total_seconds(),
            payload=({"next": next_element}),
        )

    def run(self, run_id: str) -> Run:
        found = self.state.runs.get(run_id)
        if found is None:
            raise NotFound(
                f"run {run_id!r} is not open in this engine (query the history for finished runs)"
            )
        return found

    def _admin(self, by: str, what: str) -> None:
        if not self.directory.is_admin(by):
            raise PermissionDenied(f"user {by!r} may not {what}: only admins may")

    def cancel_run(self, run_id: str, *, by: str) -> Run:
        run = self.run(run_id)
        self._admin(by, f"cancel run {run_id!r}")
        if run.status in TERMINAL_RUN:
            raise EngineError(f"run {run_id!r} is already {run.status}")
        with self._call():
            if run.stage is not None:
                self._stop_steps(run, run.stage, Kind.DISCONTINUE_STEP, Status.CANCELED)
            self._emit(
                Kind.CANCEL_INSTANCE,
                run,
                status=RunStatus.CANCELED,
                actor=by,
                duration=(self._now - run.started).total_seconds(),
            )
        return run

    def suspend_run(self, run_id: str, *, by: str) -> Run:
        run = self.run(run_id)
        self._admin(by, f"suspend run {run_id!r}")
        if run.status is not RunStatus.IN_PROGRESS:
            raise EngineError(
                f"run {run_id!r} is {run.status}; only InProgress runs can be suspended"
            )
        with self._call():
            self._emit(Kind.SUSPEND_INSTANCE, run, status=RunStatus.SUSPENDED, actor=by)
        return run

    def resume_run(self, run_id: str, *, by: str) -> Run:
        """Resume a suspended run, or retry an errored one (failed steps start again)."""
        run = self.run(run_id)
        self._admin(by, f"resume run {run_id!r}")
        if run.status not in (RunStatus.SUSPENDED, RunStatus.ERROR):
            raise EngineError(
                f"run {run_id!r} is {run.status}; only Suspended or Error runs can be resumed"
            )
        restart: list[str] = []
        if run.status is RunStatus.ERROR and run.stage is not None:
            restart = [
                s.name
                for s in run.stage.steps.values()
                if s.status in (Status.ERROR, Status.DISCONTINUED)
            ]
        with self._call():
            self._emit(
                Kind.RESUME_INSTANCE,
                run,
                status=RunStatus.IN_PROGRESS,
                actor=by,
                payload=({"restart": restart}),
            )
            self._advance(run)
        return run

    def publish_event(self, run_id: str) -> Run:
        """An orchestration event: the run re-checks its conditions now."""
        run = self.run(run_id)
        with self._call():
            self._emit(Kind.PUBLISH_EVENT, run)
            if run.status is RunStatus.IN_PROGRESS:
                self._advance(run)
        return run


class _Call:
    """The context of one engine call: commit on the way out, forget on an error.

    A plain class rather than @contextmanager: every engine call enters one.
    """

    __slots__ = ("engine",)

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __enter__(self) -> None:
        engine = self.engine
        if not engine._depth:
            engine._now = engine.clock.now()
        engine._depth += 1

    def __exit__(self, kind: type[BaseException] | None, exc: object, tb: object) -> None:
        engine = self.engine
        engine._depth -= 1
        if engine._depth or engine._batch:
            return
        if kind is not None:
            engine._discard()
        else:
            engine.flush()


class _Probe:
    """What trigger conditions see of a run that has not started: $Record and $Record__Prior."""

    __slots__ = ("prior", "record_id")
    id = None
    latest: dict[str, Any] = {}  # noqa: RUF012 - read-only empty defaults
    outputs: dict[str, Any] = {}  # noqa: RUF012
    outcomes: frozenset[str] = frozenset()
    variables: dict[str, Any] = {}  # noqa: RUF012

    def __init__(self, record_id: str, prior: dict[str, Any] | None) -> None:
        self.record_id = record_id
        self.prior = prior
