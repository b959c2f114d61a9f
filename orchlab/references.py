"""What a reference points at, decided against one definition and one registry.

`Resolver.resolve` classifies `Ref.parts` the way Salesforce's resource picker does:

- `$Record.<Field>` / `$Record__Prior.<Field>` (record-triggered orchestrations only; the prior
  record only when the trigger fires on update), `$Orchestration.Instance`;
- `<Stage>.Status`, `<Stage>` alone (a Boolean: the stage ran without error), `<Step>.Status`,
  `<Step>.Outputs.<name>` (declared by the step's flow or action, or a field of its screen);
- `<Outcome>` (a decision outcome, a Boolean), `<variable>` and `<record variable>.<Field>`.

Anything else raises `UnresolvedReference`, whose message says what was expected.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from orchlab.model import (
    BackgroundStep,
    Decision,
    ExternalStep,
    InteractiveStep,
    Orchestration,
    RecordTrigger,
    Stage,
    Step,
    TriggerEvent,
    Variable,
)
from orchlab.refs import INSTANCE, PRIOR, RECORD, Ref
from orchlab.registry import Registry
from orchlab.values import ValueType

__all__ = ["Target", "UnresolvedReference", "Resolver", "listing"]

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
        self.screens = {s.name: s for s in reversed(orch.screens)}  # first one wins

    # --- what steps produce ----------------------------------------------------------------

    def source(self, step: Step) -> str:
        """Where a step's outputs are declared: "flow 'x'", "action 'x'" or "screen 'x'"."""
        if isinstance(step, BackgroundStep):
            return f"flow {step.flow!r}"
        if isinstance(step, ExternalStep):
            return f"action {step.action!r}"
        return f"screen {step.screen!r}"

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
        return f"{self.source(step)} has no output {name!r}; it declares: {declared}"

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
        close = difflib.get_close_matches(root, self._names(), n=1)
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
