"""References: what they point at, and whether each place that reads data can read it.

`Resolver.resolve` classifies `Ref.parts` the way Salesforce's resource picker does:

- `$Record.<Field>` / `$Record__Prior.<Field>` (record-triggered orchestrations only; the prior
  record only when the trigger fires on update), `$Orchestration.Instance`;
- `<Stage>.Status`, `<Stage>` alone (a Boolean: the stage ran without error), `<Step>.Status`,
  `<Step>.Outputs.<name>` (declared by the step's flow or action, or a field of its screen);
- `<Outcome>` (a decision outcome, a Boolean), `<variable>` and `<record variable>.<Field>`.

Anything else raises `UnresolvedReference`, whose message says what was expected.

`DataChecks` checks each place a definition reads data (conditions, input maps, output
maps, assignees, context records, merge fields): the references resolve, the types fit,
and a step's outputs are read only where they can exist. It reports to
`orchlab.definition.validate`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from orchlab.definition.conditions import Conditions, Operator, check, check_types
from orchlab.definition.model import (
    AfterSteps,
    BackgroundStep,
    Decision,
    InteractiveStep,
    Orchestration,
    RecordTrigger,
    Requirements,
    Screen,
    Stage,
    Step,
    TriggerEvent,
    Variable,
)
from orchlab.definition.ref import INSTANCE, PRIOR, RECORD, Ref
from orchlab.definition.registry import FlowKind, FlowSpec, Registry
from orchlab.definition.values import ValueType, comparable, type_of_value

__all__ = [
    "Target",
    "UnresolvedReference",
    "Resolver",
    "Reporter",
    "Place",
    "DataChecks",
    "listing",
]

_FIELDED = (ValueType.RECORD, ValueType.ANY)  # types whose values have fields (`x.Name`)
_EXPECTED = (
    "expected $Record.Field, a variable, Stage.Status, Step.Status, Step.Outputs.name "
    "or a decision outcome"
)


def listing(names: Iterable[object]) -> str:
    """Names for a message: "a, b, c", or "none"."""
    return ", ".join(str(n) for n in names) or "none"


class UnresolvedReference(ValueError):
    """A reference that points at nothing in the definition; the message says what was expected."""


@dataclass(frozen=True, slots=True)
class Target:
    """What a reference resolved to.

    Attributes:
        type: the value type (`ValueType.ANY` when only known at run time).
        collection: whether the value is a list (collection variables, multi-select fields).
        step: the step whose `Status` or `Outputs` the reference reads, if any.
        output: whether it reads `Outputs` (which exist only once the step has completed).
    """

    type: ValueType
    collection: bool = False
    step: str | None = None
    output: bool = False


class Resolver:
    """Resolves references against `orch`; flows' output types come from `registry`."""

    def __init__(self, orch: Orchestration, registry: Registry) -> None:
        self.orch = orch
        self.registry = registry
        # With duplicate names (reported by validation) the first definition wins.
        self.stages: dict[str, Stage] = {}
        self.decisions: dict[str, Decision] = {}
        self.steps: dict[str, tuple[Stage, Step]] = {}
        self.outcomes: dict[str, Decision] = {}
        for element in orch.elements:
            if isinstance(element, Stage):
                self.stages.setdefault(element.name, element)
                for step in element.steps:
                    self.steps.setdefault(step.name, (element, step))
            elif isinstance(element, Decision):
                self.decisions.setdefault(element.name, element)
                for outcome in element.outcomes:
                    self.outcomes.setdefault(outcome.name, element)
        self.variables: dict[str, Variable] = {}
        for variable in orch.variables:
            self.variables.setdefault(variable.name, variable)
        self.screens: dict[str, Screen] = {}
        for screen in orch.screens:
            self.screens.setdefault(screen.name, screen)

    # --- what steps produce ----------------------------------------------------------------

    def outputs_of(self, step: Step) -> dict[str, tuple[ValueType, bool]] | None:
        """Output name -> (type, is collection); None when the flow or screen is unknown."""
        if isinstance(step, InteractiveStep):
            screen = self.screens.get(step.screen)
            if screen is None:
                return None
            return {f.name: (f.value_type, f.is_collection) for f in screen.fields}
        name = step.flow if isinstance(step, BackgroundStep) else step.action
        if name not in self.registry:
            return None
        return {k: (t, False) for k, t in self.registry.get(name).outputs.items()}

    def no_output(self, step: Step, name: str) -> str:
        """The message for a step output that its flow, action or screen doesn't declare."""
        declared = listing(self.outputs_of(step) or ())
        if isinstance(step, InteractiveStep):
            return f"screen {step.screen!r} has no field {name!r}; it has: {declared}"
        what = (
            f"flow {step.flow!r}" if isinstance(step, BackgroundStep) else f"action {step.action!r}"
        )
        return f"{what} has no output {name!r}; it declares: {declared}"

    # --- resolution --------------------------------------------------------------------------

    def resolve(self, ref: Ref) -> Target:
        """What `ref` points at; raises UnresolvedReference saying what was expected."""
        root = ref.root
        if root in (RECORD, PRIOR):
            return self._record(ref)
        if ref.path == INSTANCE:
            return Target(ValueType.TEXT)
        if root.startswith("$"):
            raise UnresolvedReference(
                f"unknown global reference {ref.path!r}: expected $Record.Field, "
                f"$Record__Prior.Field or {INSTANCE}"
            )
        if root in self.steps:
            return self._step(ref)
        if root in self.stages:
            return self._stage(ref)
        if root in self.outcomes:
            if len(ref.parts) > 1:
                raise UnresolvedReference(
                    f"{ref.path!r}: decision outcome {root!r} is a Boolean with no fields; "
                    f"expected {root!r} alone"
                )
            return Target(ValueType.BOOLEAN)
        if root in self.decisions:
            outcomes = listing(o.name for o in self.decisions[root].outcomes)
            raise UnresolvedReference(
                f"{ref.path!r}: decision {root!r} has no value; expected one of its outcomes "
                f"(true when taken): {outcomes}"
            )
        if root in self.variables:
            return self._variable(ref)
        close = difflib.get_close_matches(root, self._names(), n=1, cutoff=0.8)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise UnresolvedReference(f"unknown reference {ref.path!r}{hint}: {_EXPECTED}")

    def _names(self) -> list[str]:
        return [*self.steps, *self.stages, *self.outcomes, *self.variables]

    def _record(self, ref: Ref) -> Target:
        start = self.orch.start
        if not isinstance(start, RecordTrigger):
            raise UnresolvedReference(
                f"{ref.root} is only available in record-triggered orchestrations; "
                f"this one is autolaunched (read {ref.path!r} from an input variable instead)"
            )
        if ref.root == PRIOR and start.on is TriggerEvent.CREATE:
            raise UnresolvedReference(
                f"{PRIOR} is only available when the trigger fires on update or "
                f"create_or_update; this one fires on create"
            )
        if len(ref.parts) == 1:
            return Target(ValueType.RECORD)
        # Record fields are unknown at design time, except the Id every record has.
        return Target(ValueType.TEXT if ref.parts[1:] == ("Id",) else ValueType.ANY)

    def _stage(self, ref: Ref) -> Target:
        parts = ref.parts
        if len(parts) == 1:
            return Target(ValueType.BOOLEAN)  # a stage used as a Boolean: ran without error
        if parts[1:] == ("Status",):
            return Target(ValueType.TEXT)
        raise UnresolvedReference(
            f"{ref.path!r}: expected '{parts[0]}.Status', or '{parts[0]}' alone "
            "(true when the stage ran without error)"
        )

    def _step(self, ref: Ref) -> Target:
        parts = ref.parts
        _, step = self.steps[parts[0]]
        if parts[1:] == ("Status",):
            return Target(ValueType.TEXT, step=step.name)
        if len(parts) < 3 or parts[1] != "Outputs":
            raise UnresolvedReference(
                f"{ref.path!r}: expected 'Status' or 'Outputs.<name>' after step {step.name!r}"
            )
        outputs = self.outputs_of(step)
        if outputs is None:  # the unknown flow or screen is reported where the step names it
            return Target(ValueType.ANY, step=step.name, output=True)
        if parts[2] not in outputs:
            raise UnresolvedReference(f"{ref.path!r}: {self.no_output(step, parts[2])}")
        vtype, collection = outputs[parts[2]]
        if len(parts) == 3:
            return Target(vtype, collection, step.name, output=True)
        if vtype not in _FIELDED or collection:
            raise UnresolvedReference(
                f"{ref.path!r}: output {parts[2]!r} of step {step.name!r} is {vtype}; "
                f"expected '{'.'.join(parts[:3])}' (only record outputs have fields)"
            )
        return Target(ValueType.ANY, step=step.name, output=True)

    def _variable(self, ref: Ref) -> Target:
        variable = self.variables[ref.root]
        if len(ref.parts) == 1:
            return Target(variable.type, variable.is_collection)
        if variable.type not in _FIELDED or variable.is_collection:
            kind = f"{variable.type} {'collection' if variable.is_collection else 'variable'}"
            raise UnresolvedReference(
                f"{ref.path!r}: {ref.root!r} is a {kind}; expected {ref.root!r} alone "
                "(only record variables have fields)"
            )
        return Target(ValueType.ANY)


# --- checking each place that reads data ---------------------------------------------------------

_UNARY = frozenset({Operator.IS_NULL, Operator.IS_BLANK, Operator.IS_CHANGED, Operator.WAS_SET})
_KINDS = {  # what steps and rules call: (noun, with an article, how it is registered)
    FlowKind.FLOW: ("flow", "a flow", "@flow"),
    FlowKind.ACTION: ("action", "an action", "@action"),
    FlowKind.EVALUATION: ("evaluation flow", "an evaluation flow", "@evaluation"),
}
_NAME_TYPES = (ValueType.TEXT, ValueType.ANY)  # assignees and context records are names or Ids


class Reporter(Protocol):
    """Where findings go (`orchlab.definition.validate` turns them into Problems)."""

    def error(self, element: str, field: str, message: str) -> None: ...

    def warn(self, element: str, field: str, message: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Place:
    """Who reads: a stage or decision (`node`; None for the start conditions), maybe a step."""

    node: str | None = None
    step: Step | None = None


class DataChecks:
    """Checks each place that reads data, reporting to `report`.

    Args:
        reach: element -> the elements reachable from it (by any connector).
        waits: (stage, step) -> the sibling steps it surely waits for, directly or not.
    """

    def __init__(
        self,
        resolver: Resolver,
        report: Reporter,
        reach: Mapping[str, set[str]],
        waits: Mapping[tuple[str, str], set[str]],
        max_conditions: int,
    ) -> None:
        self.refs, self.report = resolver, report
        self.reach, self.waits, self.max_conditions = reach, waits, max_conditions
        self.kinds: dict[str, str] = {}
        for e in resolver.orch.elements:
            self.kinds.setdefault(e.name, e.element_type)

    def conditions(self, label: str, field: str, conditions: Conditions, place: Place) -> None:
        """A block: its shape (`check`), its references and its types."""
        for message in check(conditions, self.max_conditions):
            self.report.error(label, field, message)
        for number, c in enumerate(conditions.items, 1):
            at = f"{field}[{number}]"
            left = self._read(label, at, c.left, place, in_condition=True)
            right = None
            if isinstance(c.right, Ref):
                target = self._read(label, at, c.right, place, in_condition=True)
                right = target.type if target is not None else None
            elif c.operator in _UNARY:
                continue  # a literal beside a unary operator is reported by check()
            if left is not None and (message := check_types(c, left.type, right)):
                self.report.error(label, at, f"condition {number} ({c}): {message}")

    def value(self, label: str, field: str, value: Any, place: Place) -> ValueType | None:
        """The type of a literal or a reference (checked); None when unknown or null."""
        if isinstance(value, Ref):
            target = self._read(label, field, value, place)
            return target.type if target is not None else None
        return type_of_value(value)

    def name_reference(self, label: str, field: str, path: str, place: Place, names: str) -> None:
        """A reference written as text that must give text: `names` says what it names."""
        try:
            ref = Ref(path.strip())
        except ValueError as problem:
            self.report.error(label, field, f"{problem}; expected a reference such as $Record.Id")
            return
        target = self._read(label, field, ref, place)
        if names and target is not None and target.type not in _NAME_TYPES:
            self.report.error(label, field, f"{ref} is {target.type}; expected text: {names}")

    def flow(self, label: str, field: str, name: str, kind: FlowKind) -> FlowSpec | None:
        """The registered flow, action or evaluation flow `name`, if it is one of `kind`."""
        noun, a_noun, decorator = _KINDS[kind]
        expected = f"{a_noun} registered with {decorator}"
        if not name:
            self.report.error(label, field, f"is empty; expected {expected}")
            return None
        registry = self.refs.registry
        if name not in registry:
            close = difflib.get_close_matches(name, [s.name for s in registry if s.kind is kind], 1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            message = f"{noun} {name!r} is not registered; expected {expected}{hint}"
            self.report.error(label, field, message)
            return None
        spec = registry.get(name)
        if spec.kind is not kind:
            message = f"{name!r} is registered as {_KINDS[spec.kind][1]}; expected {expected}"
            self.report.error(label, field, message)
            return None
        return spec

    def inputs(
        self,
        label: str,
        field: str,
        spec: FlowSpec | None,
        pairs: Sequence[tuple[str, Any]],
        place: Place,
    ) -> None:
        """An input map: values resolve; with a known `spec`, keys and types fit it."""
        types = {key: self.value(label, f"{field}.{key}", value, place) for key, value in pairs}
        if spec is None:
            return
        declared, flow = spec.inputs, f"{_KINDS[spec.kind][0]} {spec.name!r}"
        for key, value in pairs:
            at, vtype = f"{field}.{key}", types[key]
            if key not in declared:
                message = f"{flow} has no input {key!r}; it declares: {listing(declared)}"
                self.report.error(label, at, message)
            elif vtype is not None and not comparable(vtype, declared[key]):
                shown = value.path if isinstance(value, Ref) else repr(value)
                message = f"{shown} is {vtype}; expected {declared[key]}, as {flow} declares"
                self.report.error(label, at, message)
        for key, vtype in declared.items():
            if key not in types:
                message = f"{flow} declares input {key!r} ({vtype}) but it is not given, so it "
                self.report.warn(label, f"{field}.{key}", message + "will be null")

    def outputs(self, label: str, step: Step) -> None:
        """An output map: step output -> an orchestration variable of a fitting type."""
        declared = self.refs.outputs_of(step)
        variables = self.refs.variables
        for out, name in step.outputs:
            at = f"outputs.{out}"
            if declared is not None and out not in declared:
                self.report.error(label, at, self.refs.no_output(step, out))
            if name not in variables:
                message = f"variable {name!r} does not exist; expected one of the variables: "
                self.report.error(label, at, message + listing(variables))
            elif (
                declared
                and out in declared
                and not comparable(declared[out][0], variables[name].type)
            ):
                vtype = declared[out][0]
                message = (
                    f"output {out!r} is {vtype}, but variable {name!r} is {variables[name].type}"
                )
                self.report.error(label, at, f"{message}; expected a {vtype} variable")

    def _read(
        self, label: str, field: str, ref: Ref, place: Place, *, in_condition: bool = False
    ) -> Target | None:
        try:
            target = self.refs.resolve(ref)
        except UnresolvedReference as problem:
            self.report.error(label, field, str(problem))
            return None
        if target.step is not None:
            self._order(label, field, ref, target, place, in_condition)
        return target

    def _order(
        self, label: str, field: str, ref: Ref, target: Target, place: Place, in_condition: bool
    ) -> None:
        """Outputs exist once their step completed: is that sure to happen before `place`?"""
        name = target.step or ""
        owner = self.refs.steps[name][0].name
        if place.node is None:
            if target.output:
                message = f"reads {ref}, but no step has run when the run starts; expected "
                self.report.error(label, field, message + "$Record or $Record__Prior fields")
            return
        if owner != place.node:
            if target.output and place.node not in self.reach[owner]:
                where = f"{self.kinds[place.node]} {place.node!r}"
                message = f"reads {ref}, but step {name!r} is in stage {owner!r}, which never "
                message += f"runs before {where}; a step's outputs exist only after it completes"
                self.report.error(label, field, message)
            return
        step = place.step
        if step is None or step.name == name or (in_condition and not target.output):
            return  # a status in entry or exit conditions is how a step waits for another
        if name in self.waits.get((owner, step.name), ()):
            return
        if isinstance(step.entry, Requirements):
            fix = f"add the entry condition {name}.Status equals 'Completed'"
        else:
            before = list(step.entry.steps) if isinstance(step.entry, AfterSteps) else []
            fix = f"add after={[*before, name]!r}"
        message = f"reads {ref} but does not wait for step {name!r}: parallel steps have no "
        self.report.warn(label, field, f"{message}ordering guarantee; {fix}")
