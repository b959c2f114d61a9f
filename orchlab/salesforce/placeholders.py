"""Stand-ins for the flows and screen flows a metadata file only names.

An orchestration file calls step flows, screen flows and evaluation flows by API name; their
own files may be elsewhere. `placeholder_registry` registers a `Placeholder` for each, with
the inputs the file passes and the outputs it reads, so the orchestration validates and runs;
`bind` swaps in a real Python function. `placeholder_screens` makes a form for each screen
flow, with one field per output read (typed from how conditions compare it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import suppress
from typing import Any

from orchlab.definition.conditions import Conditions
from orchlab.definition.model import (
    AssigneeKind,
    BackgroundStep,
    Decision,
    EvaluationFlow,
    ExternalStep,
    Field,
    FieldKind,
    InteractiveStep,
    Orchestration,
    Requirements,
    Screen,
    Stage,
    Step,
)
from orchlab.definition.ref import Ref
from orchlab.definition.registry import FlowKind, FlowSpec, Registry
from orchlab.definition.values import ValueType, type_of_value

__all__ = ["Placeholder", "bind", "placeholder_registry", "placeholder_screens"]

_FIELD_KINDS = {
    ValueType.BOOLEAN: FieldKind.CHECKBOX,
    ValueType.NUMBER: FieldKind.NUMBER,
    ValueType.CURRENCY: FieldKind.CURRENCY,
    ValueType.DATE: FieldKind.DATE,
    ValueType.DATETIME: FieldKind.DATETIME,
}


class Placeholder:
    """Stands in for a flow: records each call and returns `returns`.

    `returns` is a dict of outputs for step flows and actions (all None at first; set the
    values a test or simulation needs) and a bool for evaluation flows (True at first, so
    runs move on).
    """

    # A simulation draws plausible outputs in its place (orchlab.simulate.stand_ins) rather
    # than calling it: its own outputs are all None until someone sets them.
    stands_in = True

    def __init__(self, name: str, kind: FlowKind, outputs: tuple[str, ...] = ()) -> None:
        self.name, self.kind, self.outputs = name, kind, outputs
        self.returns: Any = True if kind is FlowKind.EVALUATION else dict.fromkeys(outputs)
        self.calls: list[dict[str, Any]] = []

    def __call__(self, **inputs: Any) -> Any:
        self.calls.append(inputs)
        return dict(self.returns) if isinstance(self.returns, dict) else self.returns

    def __repr__(self) -> str:
        return f"Placeholder({self.name!r}, {self.kind.value})"


def _refs(value: Any) -> Iterator[Ref]:
    if isinstance(value, Ref):
        yield value


def _condition_refs(block: Conditions | None) -> Iterator[tuple[Ref, Any]]:
    """(reference, the literal it is compared with or None) for each side of each condition."""
    for c in block.items if block is not None else ():
        literal = None if isinstance(c.right, Ref) else c.right
        yield c.left, literal
        if isinstance(c.right, Ref):
            yield c.right, None


def _rule_refs(rule: Any) -> Iterator[tuple[Ref, Any]]:
    if isinstance(rule, Requirements):
        yield from _condition_refs(rule.conditions)
    elif isinstance(rule, EvaluationFlow):
        for _, value in rule.inputs:
            yield from ((r, None) for r in _refs(value))


def _step_refs(step: Step) -> Iterator[tuple[Ref, Any]]:
    yield from _rule_refs(step.entry)
    for _, value in step.inputs:
        yield from ((r, None) for r in _refs(value))
    if isinstance(step, InteractiveStep):
        yield from _rule_refs(step.exit)
        yield from ((r, None) for r in _refs(step.context_record))
        if step.assignee is not None and step.assignee.kind is AssigneeKind.REFERENCE:
            with suppress(ValueError):  # validation reports a malformed reference
                yield Ref(step.assignee.name), None


def read_references(orch: Orchestration) -> Iterator[tuple[Ref, Any]]:
    """Every reference the orchestration reads, in element order, with a compared literal."""
    if orch.start.kind == "record":
        yield from _condition_refs(orch.start.conditions)  # type: ignore[union-attr]
    for e in orch.elements:
        if isinstance(e, Stage):
            yield from _rule_refs(e.exit)
            for step in e.steps:
                yield from _step_refs(step)
        elif isinstance(e, Decision):
            for outcome in e.outcomes:
                yield from _condition_refs(outcome.conditions)


def _outputs_read(orch: Orchestration) -> dict[str, dict[str, Any]]:
    """Step name -> output name -> the first literal it is compared with (None: unknown)."""
    steps = {s.name for _, s in orch.steps()}
    found: dict[str, dict[str, Any]] = {}
    for ref, literal in read_references(orch):
        parts = ref.parts
        if len(parts) >= 3 and parts[0] in steps and parts[1] == "Outputs":
            outputs = found.setdefault(parts[0], {})
            if outputs.get(parts[2]) is None:
                outputs[parts[2]] = literal
    for _, step in orch.steps():
        for out, _ in step.outputs:
            found.setdefault(step.name, {}).setdefault(out, None)
    return found


def placeholder_screens(orch: Orchestration) -> tuple[Screen, ...]:
    """A form per screen flow the interactive steps call: a field per output read.

    A field's kind follows the literal a condition compares it with (a number, true/false,
    a date), else text; no field is required, so a work item can be completed empty.
    """
    read = _outputs_read(orch)
    fields: dict[str, dict[str, Field]] = {}
    for _, step in orch.steps():
        if not isinstance(step, InteractiveStep):
            continue
        if not step.screen:
            continue
        screen = fields.setdefault(step.screen, {})
        for name, literal in read.get(step.name, {}).items():
            vtype = type_of_value(literal)
            kind = _FIELD_KINDS.get(vtype, FieldKind.TEXT) if vtype else FieldKind.TEXT
            screen.setdefault(name, Field(name, kind))
    return tuple(Screen(name, tuple(f.values())) for name, f in fields.items())


def _calls(orch: Orchestration) -> Iterator[tuple[str, FlowKind, tuple[tuple[str, Any], ...]]]:
    for stage in orch.stages:
        rules = [stage.exit]
        for step in stage.steps:
            rules.append(step.entry)
            if isinstance(step, InteractiveStep):
                rules.append(step.exit)
            elif isinstance(step, BackgroundStep):
                yield step.flow, FlowKind.FLOW, step.inputs
            elif isinstance(step, ExternalStep):
                yield step.action, FlowKind.ACTION, step.inputs
        for rule in rules:
            if isinstance(rule, EvaluationFlow):
                yield rule.flow, FlowKind.EVALUATION, rule.inputs


def placeholder_registry(*orchestrations: Orchestration, base: Registry | None = None) -> Registry:
    """A registry with a `Placeholder` for every flow, action and evaluation flow named.

    Inputs are the names the orchestrations pass and outputs the names they read, all of
    type ANY (metadata does not say the types). Names `base` registers keep their real
    function and are copied as they are.
    """
    kinds: dict[str, FlowKind] = {}
    inputs: dict[str, dict[str, None]] = {}
    outputs: dict[str, dict[str, None]] = {}
    for orch in orchestrations:
        read = _outputs_read(orch)
        flow_of = {
            s.name: s.flow if isinstance(s, BackgroundStep) else s.action
            for _, s in orch.steps()
            if isinstance(s, BackgroundStep | ExternalStep)
        }
        for name, kind, pairs in _calls(orch):
            if not name:
                continue  # a step that calls nothing yet (validation reports it)
            kinds.setdefault(name, kind)  # a name used as two kinds: validation reports it
            inputs.setdefault(name, {}).update(dict.fromkeys(k for k, _ in pairs))
            outputs.setdefault(name, {})
        for step, names in read.items():
            if flow_of.get(step):
                outputs[flow_of[step]].update(dict.fromkeys(names))
    registry = Registry()
    for spec in base or ():
        registry.add(spec.name, spec.fn, spec.kind, inputs=spec.inputs, outputs=spec.outputs)
    for name, kind in kinds.items():
        if base is not None and name in base:
            continue
        outs = tuple(outputs[name])
        registry.add(
            name,
            Placeholder(name, kind, outs),
            kind,
            inputs=dict.fromkeys(inputs[name], ValueType.ANY),
            outputs=dict.fromkeys(outs, ValueType.ANY),
            description=f"placeholder for the {kind.value} {name!r} the metadata names",
        )
    return registry


def bind(registry: Registry, name: str, fn: Callable[..., Any]) -> FlowSpec:
    """Put a real function in place of a placeholder, keeping its declared inputs and outputs.

    Raises:
        KeyError: nothing named `name` is registered.
    """
    spec = registry.get(name)
    return registry.add(name, fn, spec.kind, inputs=spec.inputs, outputs=spec.outputs)
