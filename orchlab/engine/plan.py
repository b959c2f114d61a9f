"""A definition prepared for running: lookups by name, references and conditions compiled once.

The engine evaluates conditions on every step completion; compiling them here
keeps that hot path to dictionary lookups and closure calls.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from orchlab.definition.conditions import Conditions, compile_conditions
from orchlab.definition.model import (
    FormSubmitted,
    InteractiveStep,
    Orchestration,
    Stage,
    Step,
    label_of,
)
from orchlab.definition.ref import Ref
from orchlab.definition.values import ValueType
from orchlab.engine.state import Run, record_id_of

__all__ = ["Plan", "Scope", "MERGE_FIELD"]

MERGE_FIELD = re.compile(r"\{!([^}]+)\}")
Resolver = Callable[["Scope"], Any]


class Scope:
    """What a condition or input map sees of one run at one moment."""

    __slots__ = ("changed_fields", "flows", "plan", "records", "run")

    def __init__(
        self,
        plan: Plan,
        run: Run,
        records: dict[str, dict[str, Any]],
        changed_fields: frozenset[str] = frozenset(),
    ) -> None:
        self.plan = plan
        self.run = run
        self.records = records
        self.changed_fields = changed_fields
        self.flows = True  # may evaluation flows be called (not on a record change)

    def value(self, ref: Ref) -> Any:
        return self.plan.resolver(ref.path)(self)

    def changed(self, ref: Ref) -> bool:
        parts = ref.parts
        return parts[0] == "$Record" and len(parts) > 1 and parts[1] in self.changed_fields

    def get(self, value: Any) -> Any:
        """A literal stays itself; a reference is resolved."""
        return self.value(value) if isinstance(value, Ref) else value

    def fill(self, template: str) -> str:
        """Fill `{!ref}` merge fields in a notification template."""

        def one(match: re.Match[str]) -> str:
            value = self.plan.resolver(match.group(1).strip())(self)
            return "" if value is None else str(value)

        return MERGE_FIELD.sub(one, template)


def _member(value: Any, names: list[str]) -> Any:
    """`value.a.b` through nested records (dicts); None where a link is missing.

    A polymorphic link such as `Owner:User` (Salesforce's syntax) reads the field `Owner`.
    """
    for name in names:
        if not isinstance(value, dict):
            return None
        value = value[name] if name in value else value.get(name.split(":", 1)[0])
    return value


def _record_field(field: str) -> Resolver:
    def resolve(scope: Scope) -> Any:
        if field == "Id":
            return scope.run.record_id
        record = scope.records.get(scope.run.record_id or "")
        return record["fields"].get(field) if record else None

    return resolve


def _held_record_field(variable: str, field: str) -> Resolver:
    def resolve(scope: Scope) -> Any:
        value = scope.run.variables.get(variable)
        rid = record_id_of(value)
        if field == "Id":
            return rid
        live = scope.records.get(rid) if rid is not None else None
        if live is not None:
            return live["fields"].get(field)
        return value.get(field) if isinstance(value, dict) else None

    return resolve


class Plan:
    """An `Orchestration` indexed for the engine."""

    def __init__(self, orch: Orchestration) -> None:
        self.orch = orch
        self.name = orch.name
        self.version = orch.version
        self.elements = {e.name: e for e in orch.elements}
        self.stage_of: dict[str, Stage] = {}
        self.steps: dict[str, Step] = {}
        self.position: dict[str, int] = {}
        for i, stage in enumerate(orch.stages):
            self.position[stage.name] = i + 1
            for step in stage.steps:
                self.stage_of[step.name] = stage
                self.steps[step.name] = step
        # Per stage: its steps, and whether each is an interactive step whose exit must be watched.
        self.stage_steps: dict[str, tuple[tuple[Step, bool], ...]] = {
            stage.name: tuple(
                (s, isinstance(s, InteractiveStep) and not isinstance(s.exit, FormSubmitted))
                for s in stage.steps
            )
            for stage in orch.stages
        }
        # What a StartStage row carries: shared, never changed (rows are read-only).
        self.stage_payload: dict[str, dict[str, Any]] = {
            stage.name: {
                "position": self.position[stage.name],
                "label": label_of(stage),
                "steps": [s.name for s in stage.steps],
            }
            for stage in orch.stages
        }
        self.outcome_names = {o.name for d in orch.decisions for o in d.outcomes}
        self.variables = {v.name: v for v in orch.variables}
        # Record variables are read from the record store as it is now (Salesforce re-queries
        # referenced records), so a change to that record can move the run.
        self.record_variables = frozenset(
            v.name for v in orch.variables if v.type is ValueType.RECORD and not v.is_collection
        )
        self.screens = {s.name: s for s in orch.screens}
        self._resolvers: dict[str, Resolver] = {}
        self._compiled: dict[int, Callable[[Scope], bool]] = {}

    # --- references ------------------------------------------------------------------------------

    def resolver(self, path: str) -> Resolver:
        found = self._resolvers.get(path)
        if found is None:
            found = self._resolvers[path] = self._make_resolver(path)
        return found

    def _make_resolver(self, path: str) -> Resolver:
        parts = path.split(".")
        head, rest = parts[0], parts[1:]
        if head == "$Record" and len(rest) == 1:
            return _record_field(rest[0])
        if head == "$Record" and len(rest) > 1:  # a related record's field: $Record.Owner.Name

            def related(s: Scope) -> Any:
                record = s.records.get(s.run.record_id or "")
                return _member(record["fields"], rest) if record else None

            return related
        if head == "$Record__Prior" and len(rest) == 1:
            return lambda s: (s.run.prior or {}).get(rest[0])
        if path == "$Orchestration.Instance":
            return lambda s: s.run.id
        if head in self.steps:
            stage = self.stage_of[head].name
            if rest == ["Status"]:

                def step_status(s: Scope) -> Any:
                    sr = s.run.latest.get(stage)
                    return str(sr.steps[head].status) if sr else None

                return step_status
            if len(rest) == 2 and rest[0] == "Outputs":
                return lambda s: s.run.outputs.get(head, {}).get(rest[1])
            if len(rest) > 2 and rest[0] == "Outputs":  # a field of a record output
                return lambda s: _member(s.run.outputs.get(head, {}), rest[1:])
        if head in self.position:
            if rest == ["Status"]:
                return lambda s: str(s.run.latest[head].status) if head in s.run.latest else None
            if not rest:  # a stage used as a Boolean: ran without error?
                return lambda s: (
                    None if head not in s.run.latest else str(s.run.latest[head].status) != "Error"
                )
        if head in self.outcome_names and not rest:
            return lambda s: head in s.run.outcomes
        if head in self.variables:
            if not rest:
                return lambda s: s.run.variables.get(head)
            if len(rest) == 1:
                if head in self.record_variables:
                    return _held_record_field(head, rest[0])
                return lambda s: (s.run.variables.get(head) or {}).get(rest[0])
            return lambda s: _member(s.run.variables.get(head), rest)
        raise KeyError(f"orchestration {self.name!r}: unknown reference {path!r}")

    def inputs(self, mapping: tuple[tuple[str, Any], ...], scope: Scope) -> dict[str, Any]:
        return {name: scope.get(value) for name, value in mapping}

    # --- conditions ------------------------------------------------------------------------------

    def check(self, conditions: Conditions, scope: Scope) -> bool:
        fn = self._compiled.get(id(conditions))
        if fn is None:  # the plan holds the definition, so ids stay valid
            fn = self._compiled[id(conditions)] = compile_conditions(conditions)
        return fn(scope)
