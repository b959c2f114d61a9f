"""The run engine: commands in, log rows out, driven to a fixpoint within one call.

Every change is a log row that is applied to the in-memory `State` and appended
to the `HistoryStore` in the same call's transaction. If anything fails before the
commit, the touched runs are rebuilt from the store, so memory never claims more
than the file holds.

`Engine` is one class in four modules: this one (loading, transactions, definitions,
directory, admin actions), `records` (records and how runs start), `work` (work items)
and `evaluate` (how a run moves). See docs/engine.md.
"""

from __future__ import annotations

import contextlib
import gc
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from orchlab.definition.model import InteractiveStep, Orchestration, Step, label_of
from orchlab.definition.registry import Registry
from orchlab.definition.registry import registry as default_registry
from orchlab.engine.clock import Clock, Ids, SystemClock
from orchlab.engine.errors import (
    EngineError,
    NotFound,
    PermissionDenied,
)
from orchlab.engine.plan import Plan
from orchlab.engine.records import Starts
from orchlab.engine.state import Row, Run, State
from orchlab.engine.status import Kind, RunStatus, Status
from orchlab.people.directory import Directory, Routing
from orchlab.people.notify import Mailer, SmtpConfig
from orchlab.store.history import HistoryStore

__all__ = ["Engine"]


class Engine(Starts):
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
        self._triggers: dict[str, list[Plan]] = {}  # object -> active record-triggered plans
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
        from orchlab.definition.serialize import from_dict

        for name, version, status, data in self.store.definitions():
            self.plans[(name, version)] = Plan(from_dict(data))
            if status == "Active":
                self.active[name] = version
        self._index_triggers()
        self._index_triggers()
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
        self.state.records = self.store.current_records()
        for row in self.store.open_run_rows():
            self.state.apply(row)
        # Closed runs are not replayed, but round robin must go on where it was.
        self.state.last_routed = self.store.last_routed()
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
            state.records = self.store.current_records()
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
        state.recount_open_items()
        state.last_routed = self.store.last_routed()

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Group many calls into one transaction (simulations, bulk loads).

        The cyclic garbage collector is paused meanwhile: the engine makes no reference
        cycles, and scanning the batch's pending rows over and over costs about a tenth of
        a simulation's time. It is switched back on when the outermost batch ends.
        """
        self._batch += 1
        paused = self._batch == 1 and gc.isenabled()
        if paused:
            gc.disable()
        try:
            yield
        except BaseException:
            self._batch -= 1
            if not self._batch:
                self._discard()
            raise
        else:
            self._batch -= 1
            if not self._batch:
                self.flush()
        finally:
            if paused:
                gc.enable()

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
        from orchlab.definition.serialize import to_dict
        from orchlab.definition.validate import require_valid

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
                label_of(st),
                i + 1,
                j + 1,
                s.name,
                label_of(s),
                s.step_type,
                *_assignee_columns(s),
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
            self._index_triggers()
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
        self._index_triggers()

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

    def run(self, run_id: str) -> Run:
        """An open run: InProgress, Suspended or Error (closed runs live in the history)."""
        found = self.state.runs.get(run_id)
        if found is None:
            closed = self.store.execute("SELECT status FROM runs WHERE id = ?", [run_id])
            if closed:
                raise NotFound(
                    f"run {run_id!r} is {closed[0][0]}: closed runs are in the history "
                    '(engine.store.sql("SELECT * FROM runs WHERE id = ?", [run_id]))'
                )
            raise NotFound(f"run {run_id!r} does not exist")
        return found

    def run_status(self, run_id: str) -> str:
        """The status of any run, open or closed."""
        found = self.state.runs.get(run_id)
        if found is not None:
            return str(found.status)
        closed = self.store.execute("SELECT status FROM runs WHERE id = ?", [run_id])
        if not closed:
            raise NotFound(f"run {run_id!r} does not exist")
        return str(closed[0][0])

    def _admin(self, by: str, what: str) -> None:
        if not self.directory.is_admin(by):
            raise PermissionDenied(f"user {by!r} may not {what}: only admins may")

    def cancel_run(self, run_id: str, *, by: str) -> Run:
        run = self.run(run_id)
        self._admin(by, f"cancel run {run_id!r}")
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


def _assignee_columns(step: Step) -> tuple[str | None, str | None]:
    """definition_steps.assignee and .assignee_type for a step (None for automated steps)."""
    if isinstance(step, InteractiveStep) and step.assignee is not None:
        return step.assignee.name, step.assignee.kind.value
    return None, None


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
