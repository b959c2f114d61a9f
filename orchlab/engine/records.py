"""Records and starts: the record store, record-triggered starts, and runs started on demand."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from orchlab.definition.model import Orchestration, RecordTrigger, TriggerEvent
from orchlab.definition.values import conforms
from orchlab.engine.arguments import data_arg, name_arg
from orchlab.engine.async_steps import AsyncSteps
from orchlab.engine.clock import Ids
from orchlab.engine.errors import EngineError, NotFound
from orchlab.engine.plan import Plan, Scope
from orchlab.engine.state import Run
from orchlab.engine.status import Kind, RunStatus
from orchlab.people.rights import Right, require

__all__ = ["RecordChange", "Starts"]


class RecordChange(NamedTuple):
    """What a record change did: the record's id, the runs it started, the runs it re-checked."""

    id: str
    started: tuple[str, ...]
    rechecked: tuple[str, ...]


class Starts(AsyncSteps):
    """How runs begin, and the records that start them: a part of `Engine`."""

    plans: dict[tuple[str, int], Plan]
    active: dict[str, int]
    ids: Ids
    _record_ids: Ids
    _triggers: dict[str, list[Plan]]

    if TYPE_CHECKING:  # defined in orchlab.engine.engine, the rest of the same Engine

        def definition(self, name: str, version: int | None = None) -> Orchestration: ...

    def _index_triggers(self) -> None:
        """Which active orchestrations start on which object (read on every record change)."""
        self._triggers = {}
        for name, version in sorted(self.active.items()):
            plan = self.plans[(name, version)]
            if isinstance(plan.orch.start, RecordTrigger):
                self._triggers.setdefault(plan.orch.start.object, []).append(plan)

    # --- records and triggers --------------------------------------------------------------------

    def create_record(
        self,
        object: str,
        fields: Mapping[str, Any] | None = None,
        id: str | None = None,
        *,
        by: str,
    ) -> RecordChange:
        """Create a record; record-triggered orchestrations on its object may start."""
        require(self.directory, by, Right.RECORDS)
        name_arg(object, "create_record", "object")
        name_arg(id, "create_record", "id", optional=True)
        fields = data_arg(fields, f"create_record {object}", "fields")
        if id is not None and id in self.state.records:
            raise EngineError(f"record {id!r} already exists; expected a new id")
        first = self.ids.counter
        with self._call():
            if id is None:
                # New ids continue after the highest stored or given one: never taken.
                rid = self._record_ids.next()
            else:
                rid = id
                self._record_ids.note(id)
            data = dict(fields or {})
            self._emit(
                Kind.CREATE_RECORD,
                None,
                context=rid,
                actor=by,
                payload=({"id": rid, "object": object, "fields": data}),
            )
            self._trigger(rid, object, data, None, TriggerEvent.CREATE, by=by)
        return RecordChange(rid, self.ids.issued_since(first), ())

    def update_record(self, record_id: str, fields: Mapping[str, Any], *, by: str) -> RecordChange:
        """Change fields of a record: triggers fire and runs that use the record re-evaluate."""
        require(self.directory, by, Right.RECORDS)
        name_arg(record_id, "update_record", "record_id")
        fields = data_arg(fields, f"update_record {record_id}", "fields")
        record = self.state.records.get(record_id)
        if record is None:
            raise NotFound(f"record {record_id!r} does not exist")
        first = self.ids.counter
        with self._call():
            # Runs already using the record re-evaluate; runs this update starts just did.
            using = sorted(self.state.record_runs.get(record_id, ()))
            prior = record["fields"]
            new = {**prior, **fields}
            changed = frozenset(k for k in fields if prior.get(k) != fields[k])
            self._emit(
                Kind.UPDATE_RECORD,
                None,
                context=record_id,
                actor=by,
                payload=(
                    {
                        "id": record_id,
                        "object": record["object"],
                        "fields": new,
                        "changed": sorted(changed),
                    }
                ),
            )
            self._trigger(
                record_id, record["object"], new, prior, TriggerEvent.UPDATE, changed, by=by
            )
            checked = []
            for run_id in using:
                run = self.state.runs.get(run_id)
                if run is not None and run.status is RunStatus.IN_PROGRESS:
                    checked.append(run_id)
                    # `changed` only for the run's own $Record: is_changed is about it
                    mine = changed if run.record_id == record_id else frozenset()
                    self._advance(run, mine, flows=False)
        return RecordChange(record_id, self.ids.issued_since(first), tuple(checked))

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
        *,
        by: str,
    ) -> None:
        for plan in self._triggers.get(object, ()):
            start: RecordTrigger = plan.orch.start  # type: ignore[assignment]
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
            self._start(plan, {}, rid, object, prior, by)

    # --- starting runs ---------------------------------------------------------------------------

    def start_run(
        self,
        name: str,
        inputs: Mapping[str, Any] | None = None,
        *,
        by: str,
        version: int | None = None,
        record_id: str | None = None,
    ) -> Run:
        """Start a run of the active (or given) version with input variables."""
        require(self.directory, by, Right.START)
        name_arg(name, "start_run", "name")
        name_arg(record_id, "start_run", "record_id", optional=True)
        if version is not None and (type(version) is not int or version < 1):
            raise EngineError(f"start_run {name}: version is {version!r}; expected a whole number")
        given = data_arg(inputs, f"start_run {name}", "inputs")
        orch = self.definition(name, version)
        plan = self.plans[(orch.name, orch.version)]
        unknown = sorted(
            k for k in given if k not in plan.variables or not plan.variables[k].is_input
        )
        if unknown:
            expected = sorted(v.name for v in orch.variables if v.is_input)
            raise EngineError(
                f"orchestration {name!r}: unknown input variables {unknown}; "
                f"expected some of {expected}"
            )
        for key, value in given.items():
            var = plan.variables[key]
            if not conforms(value, var.type, var.is_collection):
                kind = f"a list of {var.type.value}" if var.is_collection else var.type.value
                raise EngineError(
                    f"orchestration {name!r}: input variable {key!r} is {var.type.value}"
                    f"{' (collection)' if var.is_collection else ''}; expected {kind}, "
                    f"got {type(value).__name__} {value!r}"
                )
        if record_id is not None and record_id not in self.state.records:
            raise NotFound(f"start_run: record {record_id!r} does not exist")
        with self._call():
            record = self.state.records.get(record_id or "")
            record_type = record["object"] if record else None
            run = self._start(plan, given, record_id, record_type, None, by)
        return run

    def _start(
        self,
        plan: Plan,
        inputs: dict[str, Any],
        record_id: str | None,
        record_type: str | None,
        prior: dict[str, Any] | None,
        by: str,
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
            actor=by,
            context=record_id,
            payload=(payload),
        )
        run = self.state.runs[run_id]
        self._advance(run)
        return run


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
