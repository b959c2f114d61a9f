"""Stand-ins for what a definition names but a simulation does not have.

- Flows, actions and evaluation flows that no registry binds get placeholder callables
  whose outputs are those the definition reads (`Step.Outputs.x`), drawn from the
  scenario's `flows:` or guessed from how the definition uses them.
- Steps with a failure rate raise now and then, so fault paths and errors are exercised.
- Record-triggered orchestrations need records whose changes fire the trigger: values that
  satisfy its conditions are derived from them.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from decimal import Decimal
from re import _parser  # type: ignore[attr-defined]  # the stdlib's own regex parser
from typing import Any

from orchlab.definition.conditions import Condition, Conditions, Operator
from orchlab.definition.model import (
    AssigneeKind,
    BackgroundStep,
    EvaluationFlow,
    ExternalStep,
    InteractiveStep,
    Orchestration,
    RecordTrigger,
    Requirements,
    Stage,
)
from orchlab.definition.ref import Ref
from orchlab.definition.registry import FlowKind, Registry
from orchlab.definition.registry import registry as default_registry
from orchlab.simulate.scenario import Dist, Scenario

__all__ = [
    "stand_in_registry",
    "with_async_steps",
    "trigger_values",
    "matching_text",
    "SimulatedFailure",
]


class SimulatedFailure(RuntimeError):
    """A failure a scenario asked for (a step's `fail` rate)."""


def _conditions_of(orch: Orchestration) -> Iterable[Conditions]:
    if isinstance(orch.start, RecordTrigger) and orch.start.conditions is not None:
        yield orch.start.conditions
    for d in orch.decisions:
        for outcome in d.outcomes:
            yield outcome.conditions
    for stage in orch.stages:
        rules = [stage.exit, *(s.entry for s in stage.steps)]
        rules += [getattr(s, "exit", None) for s in stage.steps]
        for rule in rules:
            if isinstance(rule, Requirements):
                yield rule.conditions


def read_outputs(orch: Orchestration) -> dict[str, dict[str, list[Any]]]:
    """Step -> output -> the literals the definition compares it with (maybe none)."""
    found: dict[str, dict[str, list[Any]]] = {}

    def note(ref: Ref, literal: Any = None) -> None:
        parts = ref.parts
        if len(parts) == 3 and parts[1] == "Outputs":
            values = found.setdefault(parts[0], {}).setdefault(parts[2], [])
            if literal is not None and not isinstance(literal, Ref):
                values.append(literal)

    for block in _conditions_of(orch):
        for c in block.items:
            note(c.left, c.right)
            if isinstance(c.right, Ref):
                note(c.right)
    for stage in orch.stages:
        for step in stage.steps:
            for _, value in step.inputs:
                if isinstance(value, Ref):
                    note(value)
            a = step.assignee if isinstance(step, InteractiveStep) else None
            if a is not None and a.kind is AssigneeKind.REFERENCE:
                # An output that names the assignee: a person the simulation adds.
                note(Ref(a.name), stand_in_person(orch))
    return found


def stand_in_person(orch: Orchestration) -> str:
    """The user a simulation adds for assignees that a record field or a step output names."""
    return f"{orch.name.lower()}_owner"


def _guess(literals: list[Any]) -> Dist:
    """A plausible distribution for an output the definition compares with these literals."""
    if any(isinstance(v, bool) for v in literals):
        return Dist("choice", ([True, False], [0.8, 0.2]))
    numbers = [v for v in literals if isinstance(v, int | float | Decimal)]
    if numbers:
        top = float(max(abs(float(v)) for v in numbers)) or 1.0
        return Dist("uniform", (0.0, 2 * top))
    texts = [v for v in literals if isinstance(v, str)]
    if texts:
        return Dist("choice", (sorted(set(texts)), [1.0] * len(set(texts))))
    return Dist("literal", ("ok",))


def stand_in_registry(
    orchestrations: Iterable[Orchestration],
    scenario: Scenario,
    rng: random.Random,
    base: Registry | None = None,
) -> Registry:
    """A registry with every flow the definitions name: the real ones where `base` has them
    (unless the scenario gives outputs for them), placeholders otherwise; steps with a
    failure rate wrapped so they fail now and then."""
    base = default_registry if base is None else base
    registry = Registry()
    outputs: dict[str, dict[str, Dist]] = {}  # flow -> output -> distribution
    inputs: dict[str, set[str]] = {}  # flow -> the inputs steps map to it
    fail: dict[str, float] = {}  # flow -> failure rate
    kinds: dict[str, FlowKind] = {}
    for orch in orchestrations:
        read = read_outputs(orch)
        for stage in orch.stages:
            for step in stage.steps:
                rules = [step.entry, getattr(step, "exit", None)]
                for rule in rules:
                    if isinstance(rule, EvaluationFlow):
                        kinds[rule.flow] = FlowKind.EVALUATION
                if isinstance(step, BackgroundStep | ExternalStep):
                    name = step.flow if isinstance(step, BackgroundStep) else step.action
                    background = isinstance(step, BackgroundStep)
                    kinds[name] = FlowKind.FLOW if background else FlowKind.ACTION
                    guessed = {o: _guess(v) for o, v in read.get(step.name, {}).items()}
                    outputs.setdefault(name, {}).update(guessed)
                    inputs.setdefault(name, set()).update(k for k, _ in step.inputs)
                    timing = scenario.steps.get(step.name)
                    if timing is not None and timing.fail:
                        fail[name] = max(fail.get(name, 0.0), timing.fail)
            if isinstance(stage.exit, EvaluationFlow):
                kinds[stage.exit.flow] = FlowKind.EVALUATION
    for name, kind in kinds.items():
        given = scenario.flows.get(name)
        real = base.get(name) if name in base and given is None else None
        # A placeholder (an imported flow nobody bound yet) keeps its declared inputs and
        # outputs, but the simulation draws its outputs rather than returning its Nones.
        held = real is not None and getattr(real.fn, "stands_in", False)
        if real is not None and not held:
            fn, ins, outs = real.fn, dict(real.inputs), dict(real.outputs)
        else:
            drawn = {**outputs.get(name, {}), **(given or {})}
            fn = _placeholder(kind, drawn, rng)
            ins = {i: "any" for i in sorted(inputs.get(name, ()))}
            outs = {o: "any" for o in drawn} if kind is not FlowKind.EVALUATION else {}
            if real is not None:  # held
                ins, outs = {**ins, **dict(real.inputs)}, {**dict(real.outputs), **outs}
        if fail.get(name):
            fn = _failing(fn, fail[name], rng, name)
        registry.add(name, fn, kind, inputs=ins, outputs=outs)
    for spec in base:  # what the definitions do not name stays available as it was
        if spec.name not in kinds:
            registry.add(spec.name, spec.fn, spec.kind, inputs=spec.inputs, outputs=spec.outputs)
    return registry


def _placeholder(
    kind: FlowKind, outputs: Mapping[str, Dist], rng: random.Random
) -> Callable[..., Any]:
    if kind is FlowKind.EVALUATION:
        return lambda **_: True

    def stand_in(**_: Any) -> dict[str, Any]:
        return {name: _plain(dist.draw(rng)) for name, dist in outputs.items()}

    return stand_in


def _plain(value: Any) -> Any:
    return round(value, 2) if isinstance(value, float) else value


def _failing(
    fn: Callable[..., Any], rate: float, rng: random.Random, name: str
) -> Callable[..., Any]:
    def maybe_fail(**inputs: Any) -> Any:
        if rng.random() < rate:
            raise SimulatedFailure(f"{name} failed (simulated, {rate:.0%} of calls)")
        return fn(**inputs)

    return maybe_fail


def with_async_steps(orch: Orchestration, scenario: Scenario) -> Orchestration:
    """The definition with the steps the scenario gives a duration made asynchronous."""
    timed = {name for name, t in scenario.steps.items() if t.duration is not None}
    if not timed:
        return orch
    elements = []
    for e in orch.elements:
        if isinstance(e, Stage) and any(s.name in timed for s in e.steps):
            steps = tuple(
                replace(s, asynchronous=True)
                if s.name in timed and isinstance(s, BackgroundStep | ExternalStep)
                else s
                for s in e.steps
            )
            e = replace(e, steps=steps)
        elements.append(e)
    return replace(orch, elements=tuple(elements))


# --- records that fire a trigger ---------------------------------------------------------------


def _satisfying(c: Condition) -> tuple[bool, Any]:
    """(known, value) that makes `$Record.F <op> right` hold, where one is easy to give."""
    right = c.right
    op = c.operator
    if isinstance(right, Ref):
        return False, None
    if op in (Operator.EQUALS, Operator.GREATER_OR_EQUAL, Operator.LESS_OR_EQUAL):
        return True, right
    if op is Operator.IS_NULL:
        return True, None if right in (True, None) else "x"
    if op is Operator.GREATER_THAN and isinstance(right, int | float | Decimal):
        return True, right + 1
    if op is Operator.LESS_THAN and isinstance(right, int | float | Decimal):
        return True, right - 1
    if op is Operator.NOT_EQUALS:
        return True, (right + 1) if isinstance(right, int | float) else f"not {right}"
    if op in (Operator.CONTAINS, Operator.STARTS_WITH, Operator.ENDS_WITH) and isinstance(
        right, str
    ):
        return True, right
    if isinstance(right, dt.date):
        return True, right
    return False, None


def _opposite(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float | Decimal):
        return value - 1_000_000
    return None if value is not None else "x"


def trigger_values(trigger: RecordTrigger) -> tuple[dict[str, Any], dict[str, Any]]:
    """(fields at creation, fields of the update) so that the trigger fires once.

    On create: the created record satisfies the conditions. On update (or create-or-update
    with "only when changed"): it is created not satisfying them, then updated to.
    """
    satisfied: dict[str, Any] = {}
    for c in trigger.conditions.items if trigger.conditions is not None else ():
        parts = c.left.parts
        if parts[0] == "$Record" and len(parts) == 2:
            known, value = _satisfying(c)
            if known:
                satisfied[parts[1]] = value
    if trigger.on.value == "create":
        return satisfied, {}
    if not satisfied and trigger.on.value == "update":
        # Any change fires an update trigger without conditions: make one.
        return {"LastModifiedReason": "created"}, {"LastModifiedReason": "updated"}
    return {k: _opposite(v) for k, v in satisfied.items()}, satisfied


# --- text a person could type into a field with a pattern --------------------------------------


def matching_text(pattern: str, rng: random.Random) -> str | None:
    """Text that fully matches `pattern`, drawn at random; None where it cannot tell.

    Walks the regular expression's parse tree (literals, classes, `\\d`, quantifiers, groups,
    alternatives), never running the pattern on anything but the result it checks.
    """
    try:
        tree = _parser.parse(pattern)
        text = "".join(_emit(tree, rng, 0))
    except (re.error, ValueError, RecursionError, _Unsupported):
        return None
    return text if re.fullmatch(pattern, text) else None


class _Unsupported(Exception):
    pass


_DIGITS, _WORD = "0123456789", "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"


def _emit(tree: Any, rng: random.Random, depth: int) -> list[str]:
    if depth > 20:
        raise _Unsupported
    out: list[str] = []
    for op, arg in tree:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(arg))
        elif name == "ANY":
            out.append(rng.choice(_WORD))
        elif name == "IN":
            out.append(_pick_in(arg, rng))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, high, sub = arg
            high = min(high, low + 3) if high != _parser.MAXREPEAT else low + 3
            for _ in range(rng.randint(low, max(low, high))):
                out += _emit(sub, rng, depth + 1)
        elif name == "SUBPATTERN":
            out += _emit(arg[-1], rng, depth + 1)
        elif name == "BRANCH":
            out += _emit(rng.choice(arg[1]), rng, depth + 1)
        elif name in ("AT", "ASSERT", "ASSERT_NOT"):
            continue  # anchors and lookarounds add no text; the final check decides
        else:
            raise _Unsupported(name)
    return out


def _pick_in(items: Any, rng: random.Random) -> str:
    choices: list[str] = []
    for op, arg in items:
        name = str(op)
        if name == "NEGATE":
            raise _Unsupported
        if name == "LITERAL":
            choices.append(chr(arg))
        elif name == "RANGE":
            choices += [chr(c) for c in range(arg[0], min(arg[1], arg[0] + 60) + 1)]
        elif name == "CATEGORY":
            choices += list(
                _DIGITS if "DIGIT" in str(arg) else _WORD if "WORD" in str(arg) else " "
            )
    if not choices:
        raise _Unsupported
    return rng.choice(choices)
