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
import os
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

from orchlab.definition.model import InteractiveStep, Orchestration, Step, label_of
from orchlab.definition.registry import Registry
from orchlab.definition.registry import registry as default_registry
from orchlab.engine import snapshot
from orchlab.engine.arguments import name_arg
from orchlab.engine.clock import Clock, Ids, SystemClock
from orchlab.engine.errors import (
    EngineError,
    NotFound,
)
from orchlab.engine.plan import Plan
from orchlab.engine.records import Starts
from orchlab.engine.state import Records, Row, Run, State
from orchlab.engine.status import Kind, RunStatus, Status
from orchlab.errors import DirectoryError
from orchlab.people.directory import Directory, Group, Queue, Routing, User
from orchlab.people.directory_file import DirectoryFile, load_directory
from orchlab.people.notify import Mailer, SmtpConfig
from orchlab.people.rights import Right, require
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
        work_guide_url: a link to the Work Guide that emails end with; `{item}` is replaced by
            the work item's id (e.g. "http://host:8866/voila/render/work_guide.ipynb?item={item}").
        snapshots: start from the open runs' state that the last engine on this file wrote when
            its store closed, and write it again on close (see orchlab.engine.snapshot); with
            False, every open run is replayed from its first log row and nothing is written.
    """

    def __init__(
        self,
        store: HistoryStore | None = None,
        *,
        registry: Registry | None = None,
        clock: Clock | None = None,
        max_visits: int = 100,
        smtp: SmtpConfig | None = None,
        work_guide_url: str | None = None,
        snapshots: bool = True,
    ) -> None:
        self.store = store if store is not None else HistoryStore()
        self._snapshots = snapshots
        self.registry = registry if registry is not None else default_registry
        self.clock = clock or SystemClock()
        self.max_visits = max_visits
        self.mailer = Mailer(smtp) if smtp is not None else None
        self.work_guide_url = work_guide_url
        self.directory = Directory()
        self.plans: dict[tuple[str, int], Plan] = {}
        self.active: dict[str, int] = {}
        self._triggers: dict[str, list[Plan]] = {}  # object -> active record-triggered plans
        self.state = State(lambda name, version: self.plans[(name, version)])
        self._pending: list[Row] = []
        self._committed: list[Row] = []  # the rows of the last commit (see `recent`)
        self._extra: list[tuple[str, list[Any]]] = []
        self._now = self.clock.now()  # one timestamp per engine call: its rows share it
        self._depth = 0
        self._batch = 0
        self._call_scope = _Call(self)
        self._load()
        if snapshots and not self.store.read_only and self.store.path is not None:
            self.store.before_close("engine snapshot", self._write_snapshot)
        self.ids = Ids("R", self.store.run_count())
        self._record_ids = Ids("REC", self.store.record_count())

    # --- loading and saving ----------------------------------------------------------------------

    def _load(self) -> None:
        # Replay allocates many objects and makes no cycles: the cyclic collector would only
        # scan them over and over (as in `batch()`).
        paused = gc.isenabled()
        gc.disable()
        try:
            self._replay_open_runs()
        finally:
            if paused:
                gc.enable()

    def _replay_open_runs(self) -> None:
        self._load_definitions()
        self._load_directory()
        state = self.state
        state.records = Records(self.store.record, self.store.open_run_records())
        after = 0
        if self._snapshots:  # the open runs as of seq `after`; then only the rows since
            after, documents = self.store.engine_snapshot(snapshot.FORMAT)
            try:
                snapshot.restore(state, documents, lambda n, v: self.plans[(n, v)])
            except (ValueError, TypeError, KeyError, IndexError) as exc:
                # A damaged cache costs time, never state: replay everything from the log.
                warnings.warn(
                    f"{self.store}: engine_snapshot is unreadable ({type(exc).__name__}: "
                    f"{exc}); replaying the open runs from the log instead",
                    RuntimeWarning,
                    stacklevel=4,
                )
                after = 0
                state.runs.clear()
                state.work_items.clear()
                state.record_runs.clear()
                state.open_by_owner.clear()
        for row in self.store.open_run_rows(after):
            state.apply(row)
        self._snapshot_seq = after
        # Closed runs are not replayed, but round robin must go on where it was.
        self.state.last_routed = self.store.last_routed()
        self.state.seq = self.store.max_seq()

    def _write_snapshot(self) -> None:
        """On close: the open runs as the next engine needs them; not when the snapshot is the
        one this engine started from (nothing moved since), nor while memory holds rows not
        yet committed (a snapshot describes the file only)."""
        if self._pending or self._batch or self.state.seq == self._snapshot_seq:
            return
        self.store.write_engine_snapshot(
            snapshot.FORMAT, self.state.seq, snapshot.encode(self.state)
        )

    def _load_definitions(self) -> None:
        from orchlab.definition.serialize import from_dict

        self.plans, self.active = {}, {}
        for name, version, status, data in self.store.definitions():
            self.plans[(name, version)] = Plan(from_dict(data))
            if status == "Active":
                self.active[name] = version
        self._index_triggers()

    def _load_directory(self) -> None:
        directory = Directory()
        users, groups, members = self.store.directory_rows()
        for username, name, email, admin in users:
            directory.put(User(username, name, email, bool(admin)))
        members_of: dict[str, list[str]] = {}
        for group, username in members:
            members_of.setdefault(group, []).append(username)
        for name, label, kind, routing, email in groups:
            found = tuple(members_of.get(name, ()))
            if kind == "Queue":
                directory.put(Queue(name, found, Routing(routing), label, email or ""))
            else:
                directory.put(Group(name, found, label))
        self.directory = directory

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
        self._committed, self._pending = self._pending, []
        self._extra = []
        self.state.release_records()

    def recent(self, after: int) -> list[Row]:
        """The rows this engine emitted after seq `after`, while it still holds them: those of
        the calls since the last commit (inside `batch()`) and of that commit. A simulation
        reads what each call did from here, without querying the store."""
        rows = self._pending if self._pending else self._committed
        if not rows or rows[0].seq > after + 1:
            rows = [*self._committed, *self._pending]
        start = len(rows)
        while start > 0 and rows[start - 1].seq > after:
            start -= 1
        return rows[start:]

    def _discard(self) -> None:
        # Forget uncommitted rows and rebuild the runs they touched from what is stored.
        pending, self._pending, self._extra = self._pending, [], []
        kinds = {r.kind for r in pending}
        if kinds & {Kind.DEPLOY, Kind.ACTIVATE}:
            self._load_definitions()
        if Kind.CHANGE_DIRECTORY in kinds:
            self._load_directory()
        state = self.state
        if kinds & {Kind.CREATE_RECORD, Kind.UPDATE_RECORD}:
            state.records.clear()  # read again from the store when needed
        state.seq = self.store.max_seq()
        self.ids.counter = self.store.run_count()
        self._record_ids.counter = self.store.record_count()
        touched = {r.instance_id for r in pending if r.instance_id}
        for run_id in touched:
            run = state.runs.pop(run_id, None)
            for item_id in run.items if run is not None else ():
                state.work_items.pop(item_id, None)
        for run_id in touched:
            for row in self.store.run_rows(run_id):
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

    def deploy(self, orch: Orchestration, *, by: str, activate: bool = True) -> Orchestration:
        """Save a definition as a new version (refused if invalid) and make it the active one.

        Re-deploying the active definition unchanged is a no-op that returns it.
        """
        from orchlab.definition.serialize import to_dict
        from orchlab.definition.validate import require_valid

        require(self.directory, by, Right.DEPLOY)
        if not isinstance(orch, Orchestration):
            raise EngineError(
                f"deploy: got {type(orch).__name__} {orch!r:.60}; expected an Orchestration "
                "(build one with orchlab.orchestration, or read a file with orchlab.load)"
            )
        require_valid(orch, self.registry)
        current = self.active.get(orch.name)
        if current is not None:
            same = replace(orch, version=current)
            if to_dict(same) == to_dict(self.plans[(orch.name, current)].orch):
                return self.plans[(orch.name, current)].orch
        versions = [v for (n, v) in self.plans if n == orch.name]
        orch = replace(orch, version=max(versions, default=0) + 1)
        data = to_dict(orch)
        definition_text = _json_text(data, f"orchestration {orch.name!r}")
        with self._call():
            self._emit(
                Kind.DEPLOY,
                None,
                orchestration_name=orch.name,
                orchestration_version=orch.version,
                status="Active" if activate else "Inactive",
                actor=by,
            )
            if activate:
                self._extra.append(
                    ("UPDATE definitions SET status = 'Inactive' WHERE name = ?", [orch.name])
                )
            self._extra.append(
                (
                    "INSERT INTO definitions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        orch.name,
                        orch.version,
                        orch.label,
                        "Active" if activate else "Inactive",
                        orch.is_template,
                        orch.source_template,
                        self._now,
                        definition_text,
                    ],
                )
            )
            for i, st in enumerate(orch.stages):
                for j, step in enumerate(st.steps):
                    row = [orch.name, orch.version, st.name, label_of(st), i + 1, j + 1]
                    row += [step.name, label_of(step), step.step_type, *_assignee_columns(step)]
                    self._extra.append(
                        ("INSERT INTO definition_steps VALUES (?,?,?,?,?,?,?,?,?,?,?)", row)
                    )
            self.plans[(orch.name, orch.version)] = Plan(orch)
            if activate:
                self.active[orch.name] = orch.version
                self._index_triggers()
        return orch

    def activate(self, name: str, version: int, *, by: str) -> None:
        """Make a deployed version the active one (new runs start on it; running ones stay)."""
        require(self.directory, by, Right.DEPLOY)
        if (name, version) not in self.plans:
            raise NotFound(f"orchestration {name!r} has no version {version}")
        with self._call():
            self._emit(
                Kind.ACTIVATE,
                None,
                orchestration_name=name,
                orchestration_version=version,
                status="Active",
                actor=by,
            )
            self._extra.append(
                (
                    "UPDATE definitions SET status = CASE WHEN version = ? THEN 'Active' "
                    "ELSE 'Inactive' END WHERE name = ?",
                    [version, name],
                )
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
        self, username: str, name: str = "", email: str = "", *, admin: bool = False, by: str
    ) -> User:
        """Add (or replace) a user; admins may change the directory and act on any run."""
        require(self.directory, by, Right.DIRECTORY)
        user = self.directory.user(username, name, email, admin=admin)
        with self._call():
            self._change_directory(user, by)
        return user

    def add_group(
        self, name: str, members: Iterable[str] = (), label: str = "", *, by: str
    ) -> Group:
        """Add (or replace) a group: any member may take the group's work items."""
        require(self.directory, by, Right.DIRECTORY)
        group = self.directory.group(name, members, label)
        with self._call():
            self._change_directory(group, by)
        return group

    def add_queue(
        self,
        name: str,
        members: Iterable[str] = (),
        routing: Routing | str = Routing.POOL,
        label: str = "",
        email: str = "",
        *,
        by: str,
    ) -> Queue:
        """Add (or replace) a queue; `routing` is pool, round_robin or least_open."""
        require(self.directory, by, Right.DIRECTORY)
        queue = self.directory.queue(name, members, routing, label, email)
        with self._call():
            self._change_directory(queue, by)
        return queue

    def load_directory(self, source: str | os.PathLike[str] | DirectoryFile, *, by: str) -> int:
        """Add every user, group and queue of a directory file in one transaction.

        The whole file is checked first (every problem at once); nothing is stored if any
        entry is wrong. Returns how many entries were added or replaced.
        """
        require(self.directory, by, Right.DIRECTORY)
        entries = source if isinstance(source, DirectoryFile) else load_directory(source)
        trial = self.directory.copy()
        # Check in file order against a trial copy, so members may name users of the same file.
        checked: list[User | Group | Queue] = []
        problems: list[str] = []
        for entry in (*entries.users, *entries.groups, *entries.queues):
            try:
                if isinstance(entry, User):
                    made: User | Group | Queue = trial.user(
                        entry.username, entry.name, entry.email, admin=entry.is_admin
                    )
                elif isinstance(entry, Group):
                    made = trial.group(entry.name, entry.members, entry.label)
                else:
                    made = trial.queue(
                        entry.name, entry.members, entry.routing, entry.label, entry.email
                    )
            except DirectoryError as error:
                problems.append(str(error))
                continue
            trial.put(made)
            checked.append(made)
        if problems:
            head = [f"{len(problems)} problems:"] if len(problems) > 1 else []
            raise DirectoryError("\n  ".join([*head, *problems]))
        with self._call():
            for made in checked:
                self._change_directory(made, by)
        return len(checked)

    def _change_directory(self, entry: User | Group | Queue, by: str) -> None:
        """One ChangeDirectory row and the table rows, in the current call's transaction."""
        if isinstance(entry, User):
            payload: dict[str, Any] = {"user": entry.username, "admin": entry.is_admin}
            self._extra.append(
                (
                    "INSERT OR REPLACE INTO users VALUES (?, ?, ?, ?)",
                    [entry.username, entry.name, entry.email, entry.is_admin],
                )
            )
        else:
            kind = "Queue" if isinstance(entry, Queue) else "Group"
            routing = entry.routing.value if isinstance(entry, Queue) else None
            email = entry.email if isinstance(entry, Queue) else ""
            payload = {kind.lower(): entry.name, "members": list(entry.members)}
            self._extra += [
                (
                    "INSERT OR REPLACE INTO directory_groups VALUES (?, ?, ?, ?, ?)",
                    [entry.name, entry.label, kind, routing, email],
                ),
                ("DELETE FROM members WHERE group_name = ?", [entry.name]),
                *(("INSERT INTO members VALUES (?, ?)", [entry.name, m]) for m in entry.members),
            ]
        self._emit(Kind.CHANGE_DIRECTORY, None, actor=by, payload=payload)
        self.directory.put(entry)

    def run(self, run_id: str) -> Run:
        """A run, open or closed: open runs are the engine's own; a closed one is rebuilt from
        the history (a read-only copy, for its picture and its state)."""
        found = self.state.runs.get(run_id) if isinstance(run_id, str) else None
        if found is not None:
            return found
        name_arg(run_id, "run", "run_id")
        rows = self.store.run_rows(run_id)
        if not rows:
            raise NotFound(f"run {run_id!r} does not exist")
        replay = State(lambda name, version: self.plans[(name, version)], keep_closed=True)
        replay.records = self.state.records
        for row in rows:
            replay.apply(row)
        return replay.runs[run_id]

    def _open_run(self, run_id: str, what: str) -> Run:
        """An open run to act on; a closed one is refused with its status."""
        name_arg(run_id, what, "run_id")
        found = self.state.runs.get(run_id)
        if found is None:
            closed = self.run(run_id)  # raises NotFound when there is no such run
            raise EngineError(
                f"cannot {what} run {run_id!r}: it is {closed.status}; closed runs stay as they are"
            )
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

    def cancel_run(self, run_id: str, *, by: str) -> Run:
        require(self.directory, by, Right.CANCEL)
        run = self._open_run(run_id, "cancel")
        with self._call():
            if run.stage is not None:
                self._stop_steps(run, run.stage, Kind.DISCONTINUE_STEP, Status.CANCELED)
            self._emit(
                Kind.CANCEL_INSTANCE,
                run,
                status=RunStatus.CANCELED,
                actor=by,
                duration=(self._now - run.started).total_seconds(),
                **_stage_of(run),
            )
        return run

    def suspend_run(self, run_id: str, *, by: str) -> Run:
        require(self.directory, by, Right.SUSPEND)
        run = self._open_run(run_id, "suspend")
        if run.status is not RunStatus.IN_PROGRESS:
            raise EngineError(
                f"run {run_id!r} is {run.status}; only InProgress runs can be suspended"
            )
        with self._call():
            self._emit(
                Kind.SUSPEND_INSTANCE, run, status=RunStatus.SUSPENDED, actor=by, **_stage_of(run)
            )
        return run

    def resume_run(self, run_id: str, *, by: str) -> Run:
        """Resume a suspended run, or retry an errored one (failed steps start again)."""
        require(self.directory, by, Right.RESUME)
        run = self._open_run(run_id, "resume")
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
                **_stage_of(run),
            )
            self._advance(run)
        return run

    def publish_event(self, run_id: str, *, by: str) -> Run:
        """An orchestration event: the run re-checks its conditions now."""
        require(self.directory, by, Right.EVENTS)
        run = self._open_run(run_id, "publish an event to")
        with self._call():
            self._emit(Kind.PUBLISH_EVENT, run, actor=by)
            if run.status is RunStatus.IN_PROGRESS:
                self._advance(run)
        return run


def _stage_of(run: Run) -> dict[str, Any]:
    """The current stage's columns for a suspend, resume or cancel row: the stage's status in
    the stage_runs table follows the run's (as it does in memory), rather than staying
    InProgress in a canceled run."""
    stage = run.stage
    if stage is None:
        return {}
    return {"stage_instance_id": stage.id, "stage_name": stage.name}


def _json_text(data: Any, what: str) -> str:
    """JSON for the store; text DuckDB cannot hold (a lone surrogate) is refused by name."""
    text = json.dumps(data, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        bad = text[max(0, error.start - 20) : error.end + 20]
        raise EngineError(
            f"{what}: text {bad!r} holds a character that is not valid Unicode "
            f"(a lone surrogate at position {error.start}); expected valid text"
        ) from None
    return text


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
