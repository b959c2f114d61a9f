"""Check an orchestration definition before it runs, and report every problem at once.

    >>> from orchlab.builder import orchestration, stage, background
    >>> from orchlab.registry import Registry
    >>> for p in validate(orchestration("Demo", stage("One", background("Hi", flow="hi"))), Registry()):
    ...     print(p)
    step 'Hi' in stage 'One': flow: flow 'hi' is not registered; expected a flow registered with @flow

Each `Problem` names the element, the field and what was expected. Condition numbers in
fields such as `entry.conditions[2]` count from 1, as in custom logic text. Errors make a
definition unusable; warnings point at traps (a step reading a parallel step's outputs,
a work item with no context record) that Salesforce would accept.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from orchlab.conditions import DEFAULT_MAX_CONDITIONS, Condition, Conditions, Operator, check
from orchlab.conditions import check_types as _check_types
from orchlab.forms import check_form
from orchlab.model import (
    AfterSteps,
    AllStepsComplete,
    AssigneeKind,
    Autolaunched,
    BackgroundStep,
    Connector,
    Decision,
    End,
    EvaluationFlow,
    ExternalStep,
    Field,
    FieldKind,
    InteractiveStep,
    Orchestration,
    RecordTrigger,
    Requirements,
    Screen,
    Stage,
    Step,
)
from orchlab.references import Resolver, Target, UnresolvedReference, listing
from orchlab.refs import Ref
from orchlab.registry import FlowKind, FlowSpec, Registry
from orchlab.registry import registry as default_registry
from orchlab.values import ValueType, comparable, conforms, type_of_value

__all__ = ["Severity", "Problem", "InvalidOrchestration", "validate", "errors", "require_valid"]


class Severity(StrEnum):
    ERROR = "error"  # the definition cannot be used as it is
    WARNING = "warning"  # allowed, but probably not what was meant


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding: `element` ("stage 'Work'"), `field` ("next") and what was expected."""

    element: str
    field: str
    message: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        text = f"{self.element}: {self.field}: {self.message}"
        return f"warning: {text}" if self.severity is Severity.WARNING else text


class InvalidOrchestration(ValueError):
    """Raised by `require_valid`; `problems` holds every error, then every warning."""

    def __init__(self, name: str, problems: Iterable[Problem]) -> None:
        self.name = name
        self.problems = tuple(problems)
        count = len(errors(self.problems))
        head = f"orchestration {name!r} has {count} error{'' if count == 1 else 's'}:"
        super().__init__("\n".join([head, *(str(p) for p in self.problems)]))


def errors(problems: Iterable[Problem]) -> list[Problem]:
    """Only the errors."""
    return [p for p in problems if p.severity is Severity.ERROR]


def validate(
    orch: Orchestration,
    registry: Registry | None = None,
    *,
    max_conditions: int = DEFAULT_MAX_CONDITIONS,
) -> list[Problem]:
    """Every problem of `orch`: errors first, then warnings, each group in definition order.

    Args:
        orch: the definition.
        registry: where its flows, actions and evaluation flows are registered
            (default: `orchlab.registry.registry`).
        max_conditions: the most conditions a requirement or outcome may have.
    """
    checker = _Checker(orch, default_registry if registry is None else registry, max_conditions)
    problems = list(dict.fromkeys(checker.run()))  # the same finding twice says nothing new
    return sorted(problems, key=lambda p: p.severity is Severity.WARNING)  # stable


def require_valid(orch: Orchestration, registry: Registry | None = None, **kw: Any) -> None:
    """Raise InvalidOrchestration listing every problem if `orch` has any error."""
    problems = validate(orch, registry, **kw)
    if errors(problems):
        raise InvalidOrchestration(orch.name, problems)


# --- helpers -------------------------------------------------------------------------------------

_MAX_NAME = 80
_UNARY = frozenset({Operator.IS_NULL, Operator.IS_BLANK, Operator.IS_CHANGED, Operator.WAS_SET})
_KINDS = {  # what each kind of step or rule calls: (noun, with article, how it is registered)
    FlowKind.FLOW: ("flow", "a flow", "@flow"),
    FlowKind.ACTION: ("action", "an action", "@action"),
    FlowKind.EVALUATION: ("evaluation flow", "an evaluation flow", "@evaluation"),
}
_MERGE_FIELD = re.compile(r"\{!(.*?)\}")
_REFERENCE_TYPES = (ValueType.TEXT, ValueType.ANY)  # assignees and context records: names or Ids


def _name_problem(name: Any) -> str | None:
    """Why `name` is not a Salesforce API name, or None."""
    if not isinstance(name, str) or not name:
        return f"is {name!r}; expected an API name: a letter, then letters, digits or underscores"
    if len(name) > _MAX_NAME:
        return f"{name!r} is {len(name)} characters long; an API name has at most {_MAX_NAME}"
    if not (name[0].isascii() and name[0].isalpha()):
        return f"{name!r} starts with {name[0]!r}; an API name starts with a letter"
    bad = next((c for c in name if not (c.isascii() and (c.isalnum() or c == "_"))), None)
    if bad is not None:
        return f"{name!r} contains {bad!r}; an API name has only letters, digits and underscores"
    if "__" in name:
        return f"{name!r} contains '__'; an API name has no two underscores in a row"
    if name.endswith("_"):
        return f"{name!r} ends with '_'; an API name does not end with an underscore"
    return None


def _label(element: Stage | Decision | End) -> str:
    return f"{element.element_type} {element.name!r}"


def _step_label(stage: Stage, step: Step) -> str:
    return f"step {step.name!r} in stage {stage.name!r}"


def _reach(edges: Mapping[str, Sequence[str]]) -> dict[str, set[str]]:
    """Node -> the nodes reachable from it by one or more edges."""
    result = {}
    for start in edges:
        seen: set[str] = set()
        todo = list(edges[start])
        while todo:
            node = todo.pop()
            if node not in seen and node in edges:
                seen.add(node)
                todo.extend(edges[node])
        result[start] = seen
    return result


def _loops(edges: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """Groups of nodes on a common cycle (strongly connected, with a cycle), in key order."""
    reach = _reach(edges)
    loops: list[list[str]] = []
    done: set[str] = set()
    for node in edges:
        if node in reach[node] and node not in done:
            group = [n for n in edges if n == node or (n in reach[node] and node in reach[n])]
            done.update(group)
            loops.append(group)
    return loops


def _cycle(group: Sequence[str], edges: Mapping[str, Sequence[str]]) -> list[str]:
    """A shortest cycle through group[0] within the group, as [a, b, ..., a]."""
    start = group[0]
    parent: dict[str, str] = {}
    queue = [start]
    for node in queue:
        for following in edges[node]:
            if following == start:
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return [*reversed(path), start]
            if following in group and following not in parent:
                parent[following] = node
                queue.append(following)
    return [start, start]  # not reached for a group from _loops


def _completed_check(c: Condition) -> bool:
    """`Step.Status equals "Completed"`: how Salesforce stores "start after that step"."""
    right = c.right
    return (
        c.operator is Operator.EQUALS
        and c.left.parts[1:] == ("Status",)
        and isinstance(right, str)
        and right.casefold() == "completed"
    )


def _waits_for(step: Step, siblings: set[str]) -> set[str]:
    """The sibling steps `step` is sure to wait for before it starts."""
    entry = step.entry
    if isinstance(entry, AfterSteps):
        found = set(entry.steps)
    elif isinstance(entry, Requirements) and (
        entry.conditions.logic == "and" or len(entry.conditions.items) == 1
    ):
        found = {c.left.root for c in entry.conditions.items if _completed_check(c)}
    else:
        found = set()
    return (found & siblings) - {step.name}


@dataclass(frozen=True, slots=True)
class _Where:
    """Who reads a reference: a stage or decision (`node`; None for the start) and maybe a step."""

    node: str | None = None
    step: Step | None = None


def _connectors(e: Stage | Decision | End) -> list[tuple[str, str, Connector | None, bool]]:
    """(element, field, connector, is fault path) for each arrow leaving `e`."""
    if isinstance(e, Stage):
        return [(_label(e), "next", e.next, False), (_label(e), "on_fault", e.on_fault, True)]
    if isinstance(e, Decision):
        outs = [
            (f"decision {e.name!r} outcome {o.name!r}", "next", o.next, False) for o in e.outcomes
        ]
        return [*outs, (_label(e), "default", e.default, False)]
    return []


# --- the checks ------------------------------------------------------------------------------------


class _Checker:
    def __init__(self, orch: Orchestration, registry: Registry, max_conditions: int) -> None:
        self.orch = orch
        self.registry = registry
        self.max_conditions = max_conditions
        self.problems: list[Problem] = []
        self.refs = Resolver(orch, registry)
        self.kinds = {e.name: e.element_type for e in reversed(orch.elements)}  # first one wins
        # Arrows between existing elements; a missing target is reported where it is named.
        self.normal: dict[str, list[tuple[str, bool]]] = {name: [] for name in self.kinds}
        self.fault: dict[str, list[str]] = {name: [] for name in self.kinds}
        for e in orch.elements:
            for _, _, c, is_fault in _connectors(e):
                if c is not None and c.target in self.kinds:
                    if is_fault:
                        self.fault[e.name].append(c.target)
                    else:
                        self.normal[e.name].append((c.target, c.goto))
        every = {n: [t for t, _ in self.normal[n]] + self.fault[n] for n in self.kinds}
        self.reach = _reach(every)
        # Per stage: step -> the sibling steps it waits for, and all it transitively waits for.
        self.waits: dict[str, dict[str, list[str]]] = {}
        self.ancestors: dict[tuple[str, str], set[str]] = {}
        for st in orch.stages:
            siblings = {s.name for s in st.steps}
            waits = {s.name: sorted(_waits_for(s, siblings)) for s in st.steps}
            self.waits.setdefault(st.name, waits)
            for name, before in _reach(waits).items():
                self.ancestors.setdefault((st.name, name), before)

    def error(self, element: str, field: str, message: str) -> None:
        self.problems.append(Problem(element, field, message))

    def warn(self, element: str, field: str, message: str) -> None:
        self.problems.append(Problem(element, field, message, Severity.WARNING))

    def run(self) -> list[Problem]:
        self._names()
        self._shape()
        self._start()
        for v in self.orch.variables:
            if v.default is not None and not conforms(v.default, v.type, v.is_collection):
                shape = f"a list of {v.type} values" if v.is_collection else f"a {v.type} value"
                self.error(
                    f"variable {v.name!r}",
                    "default",
                    f"{v.default!r} is not {shape}; expected {shape}",
                )
        for e in self.orch.elements:
            for element, field, connector, is_fault in _connectors(e):
                self._connector(e, element, field, connector, is_fault)
            if isinstance(e, Stage):
                self._stage(e)
            elif isinstance(e, Decision):
                self._decision(e)
        self._paths()
        for screen in self.orch.screens:
            self._screen(screen)
        return self.problems

    # --- names and overall shape -----------------------------------------------------------------

    def _names(self) -> None:
        o = self.orch
        if problem := _name_problem(o.name):
            self.error(f"orchestration {o.name!r}", "name", problem)
        owners: dict[str, tuple[str, str]] = {}  # casefolded name -> (first owner, its name)

        def claim(label: str, name: str, scope: str, table: dict[str, tuple[str, str]]) -> None:
            if problem := _name_problem(name):
                self.error(label, "name", problem)
            if not isinstance(name, str) or not name:
                return
            if name.casefold() not in table:
                table[name.casefold()] = (label, name)
                return
            first, spelled = table[name.casefold()]
            case = " (Salesforce compares names ignoring case)" if spelled != name else ""
            self.error(label, "name", f"{name!r} is also the name of {first}{case}; {scope}")

        unique = (
            "elements, steps, outcomes and variables need unique names "
            "(references such as Name.Status would be ambiguous)"
        )
        for e in o.elements:
            claim(_label(e), e.name, unique, owners)
            for s in e.steps if isinstance(e, Stage) else ():
                claim(_step_label(e, s), s.name, unique, owners)
            for out in e.outcomes if isinstance(e, Decision) else ():
                claim(f"decision {e.name!r} outcome {out.name!r}", out.name, unique, owners)
        for v in o.variables:
            claim(f"variable {v.name!r}", v.name, unique, owners)
        screens: dict[str, tuple[str, str]] = {}
        for sc in o.screens:
            claim(f"screen {sc.name!r}", sc.name, "screens need unique names", screens)
            fields: dict[str, tuple[str, str]] = {}
            for f in sc.fields:
                label = f"screen {sc.name!r} field {f.name!r}"
                claim(label, f.name, "fields of a screen need unique names", fields)

    def _shape(self) -> None:
        o = self.orch
        label = f"orchestration {o.name!r}"
        if not o.elements:
            self.error(
                label, "elements", "has no elements; an orchestration needs at least one stage"
            )
            return
        if not o.stages:
            self.error(label, "elements", "has no stage; an orchestration needs at least one stage")
        if o.first not in self.kinds:
            self.error(
                label,
                "first",
                f"{o.first!r} is not an element; expected one of: {listing(self.kinds)}",
            )

    def _connector(
        self, e: Stage | Decision | End, label: str, field: str, c: Connector | None, fault: bool
    ) -> None:
        if c is None:
            return
        if c.target not in self.kinds:
            what = "Go To target" if c.goto else "fault path target" if fault else "target"
            self.error(
                label,
                field,
                f"{what} {c.target!r} does not exist; expected one of the "
                f"elements: {listing(self.kinds)}",
            )
        elif c.target == e.name and not c.goto:
            self.error(
                label,
                field,
                "connects to itself; expected a Go To connector (goto=True) for a loop back",
            )
        elif fault and self.kinds[c.target] == "end":
            self.error(
                label,
                field,
                f"fault path goes to end {c.target!r}; expected a stage or a "
                "decision that handles the error",
            )

    def _paths(self) -> None:
        """Reachability and loops over the connectors between existing elements."""
        o = self.orch
        label = f"orchestration {o.name!r}"
        if o.first in self.kinds:
            reached = self.reach[o.first] | {o.first}
            for e in o.elements:
                if e.name not in reached:
                    self.error(
                        _label(e),
                        "path",
                        f"is not reachable from the start (the path "
                        f"begins at {o.first!r}); expected a connector, decision outcome or "
                        "fault path leading to it",
                    )
        normal = {n: [t for t, _ in self.normal[n]] for n in self.kinds}
        for group in _loops(normal):
            inside = set(group)
            leaves = any(self._ends_or_leaves(self.orch.element(n), inside) for n in group)
            if not leaves:
                names = listing(repr(n) for n in group)
                self.error(
                    label,
                    "path",
                    f"the loop through {names} has no way out: every "
                    "connector stays inside it; expected an outcome or connector that "
                    "leaves the loop or ends the run",
                )
        # Loops of decisions alone would go round at once, without waiting for anything.
        decisions = {
            n: [t for t, goto in self.normal[n] if self.kinds[t] == "decision" and (goto or t != n)]
            for n, kind in self.kinds.items()
            if kind == "decision"
        }
        for group in _loops(decisions):
            path = " -> ".join(map(repr, _cycle(group, decisions)))
            self.error(
                label,
                "path",
                f"decisions loop {path} without passing a stage, so the "
                "run would go round forever at once; expected a stage in the loop",
            )
        # Salesforce draws every jump back as a Go To connector; self-loops are reported above.
        plain = {n: [t for t, goto in self.normal[n] if not goto and t != n] for n in self.kinds}
        for group in _loops(plain):
            path = " -> ".join(map(repr, _cycle(group, plain)))
            self.error(
                label,
                "path",
                f"the path loops back ({path}) without a Go To connector; "
                "expected goto=True on the connector that jumps back",
            )

    def _ends_or_leaves(self, e: Stage | Decision | End, inside: set[str]) -> bool:
        arrows = [c for _, _, c, fault in _connectors(e) if not fault]
        return any(c is None or c.target not in inside for c in arrows)

    def _start(self) -> None:
        start = self.orch.start
        if isinstance(start, Autolaunched) or not isinstance(start, RecordTrigger):
            return
        if not start.object:
            self.error(
                "start",
                "object",
                "is empty; expected the API name of the object whose "
                "records start a run, such as 'Case'",
            )
        if start.conditions is not None:
            self._conditions("start", "conditions", start.conditions, _Where())
        elif start.only_when_changed:
            self.warn(
                "start",
                "only_when_changed",
                "has no effect without conditions; expected "
                "start conditions, or only_when_changed=False",
            )

    # --- stages, steps and decisions ----------------------------------------------------------

    def _stage(self, st: Stage) -> None:
        label = _label(st)
        if not st.steps and isinstance(st.exit, AllStepsComplete):
            self.warn(
                label,
                "steps",
                "has no steps, so it completes as soon as it starts; expected "
                "at least one step (or an exit rule that waits for something)",
            )
        self._rule(label, "exit", st.exit, _Where(st.name))
        waits = self.waits.get(st.name, {})
        for group in _loops(waits):
            first = next(s for s in st.steps if s.name == group[0])
            cycle = " -> ".join(_cycle(group, waits))
            self.error(
                _step_label(st, first),
                "entry",
                f"steps wait for each other in a cycle "
                f"(each waits for the next): {cycle}; none of them can ever start",
            )
        for step in st.steps:
            self._step(st, step)

    def _step(self, st: Stage, step: Step) -> None:
        label, where = _step_label(st, step), _Where(st.name, step)
        if isinstance(step.entry, AfterSteps):
            self._after(st, step, label)
        else:
            self._rule(label, "entry", step.entry, where)
        if isinstance(step, BackgroundStep | ExternalStep):
            kind, field = (
                (FlowKind.FLOW, "flow")
                if isinstance(step, BackgroundStep)
                else (FlowKind.ACTION, "action")
            )
            spec = self._flow(label, field, getattr(step, field), kind)
            self._inputs(label, "inputs", spec, step.inputs, where)
            if isinstance(step, ExternalStep) and not step.timeout > 0:
                self.error(
                    label, "timeout", f"is {step.timeout!r}; expected a positive number of seconds"
                )
        else:
            self._interactive(st, step, label, where)
        self._outputs(step, label)

    def _after(self, st: Stage, step: Step, label: str) -> None:
        names = step.entry.steps  # type: ignore[union-attr]  # checked by the caller
        siblings = [s.name for s in st.steps if s.name != step.name]
        if not names:
            self.error(
                label,
                "entry",
                f"waits for no step; expected steps of stage {st.name!r}: {listing(siblings)}",
            )
        for name in names:
            if name == step.name:
                self.error(
                    label,
                    "entry",
                    f"waits for itself; expected other steps of its stage: {listing(siblings)}",
                )
            elif name in self.refs.steps and self.refs.steps[name][0].name != st.name:
                other = self.refs.steps[name][0].name
                self.error(
                    label,
                    "entry",
                    f"step {name!r} is in stage {other!r}; a step can only "
                    f"wait for steps of its own stage ({st.name!r})",
                )
            elif name not in self.refs.steps:
                self.error(
                    label,
                    "entry",
                    f"waits for step {name!r}, which does not exist; "
                    f"expected a step of stage {st.name!r}: {listing(siblings)}",
                )

    def _interactive(self, st: Stage, step: InteractiveStep, label: str, where: _Where) -> None:
        a = step.assignee
        if a is None:
            self.error(
                label,
                "assignee",
                "is missing; expected a user, group, queue or a reference "
                "such as assignee_from('$Record.OwnerId')",
            )
        elif not a.name:
            self.error(
                label,
                "assignee",
                f"the {a.kind} assignee has no name; expected a username, "
                "a group or queue API name, or a reference",
            )
        elif a.kind is AssigneeKind.REFERENCE:
            self._reference_value(
                label, "assignee", a.name, where, "a username, group or queue name"
            )
        screens = listing(s.name for s in self.orch.screens)
        if not step.screen:
            self.error(label, "screen", f"is empty; expected one of the screens: {screens}")
        elif step.screen not in self.refs.screens:
            self.error(
                label,
                "screen",
                f"screen {step.screen!r} does not exist; expected one of the screens: {screens}",
            )
        self._rule(label, "exit", step.exit, where)
        for key, value in step.inputs:
            self._value(label, f"inputs.{key}", value, where)
        context = step.context_record
        if context is None:
            example = (
                "ref('$Record.Id')"
                if isinstance(self.orch.start, RecordTrigger)
                else ("a reference to an input variable holding the record Id")
            )
            self.warn(
                label,
                "context_record",
                "context record is missing: the Work Guide can't "
                f"show the item on a record page; expected a record Id such as {example}",
            )
        elif isinstance(context, Ref):
            self._reference_value(label, "context_record", context.path, where, "a record Id")
        elif not isinstance(context, str):
            self.error(
                label,
                "context_record",
                f"is {context!r}; expected a record Id (text) or "
                "a reference such as ref('$Record.Id')",
            )
        for part in ("subject", "body"):
            text = getattr(step.notification, part, "") or ""
            for match in _MERGE_FIELD.finditer(text):
                self._reference_value(label, f"notification.{part}", match.group(1), where, None)

    def _reference_value(
        self, label: str, field: str, path: str, where: _Where, text_for: str | None
    ) -> None:
        """A reference written as text; `text_for` says what it must name if it must be text."""
        try:
            ref = Ref(path.strip())
        except ValueError as problem:
            self.error(label, field, f"{problem}; expected a reference such as $Record.Name")
            return
        target = self._read(label, field, ref, where)
        if text_for and target is not None and target.type not in _REFERENCE_TYPES:
            self.error(label, field, f"{ref} is {target.type}; expected text: {text_for}")

    def _decision(self, d: Decision) -> None:
        if not d.outcomes:
            self.error(
                _label(d), "outcomes", "has none; expected at least one outcome besides the default"
            )
        for o in d.outcomes:
            label = f"decision {d.name!r} outcome {o.name!r}"
            self._conditions(label, "conditions", o.conditions, _Where(d.name))

    # --- rules, flows and data --------------------------------------------------------------------

    def _rule(self, label: str, field: str, rule: Any, where: _Where) -> None:
        if isinstance(rule, Requirements):
            self._conditions(label, f"{field}.conditions", rule.conditions, where)
        elif isinstance(rule, EvaluationFlow):
            spec = self._flow(label, f"{field}.flow", rule.flow, FlowKind.EVALUATION)
            self._inputs(label, f"{field}.inputs", spec, rule.inputs, where)

    def _flow(self, label: str, field: str, name: str, kind: FlowKind) -> FlowSpec | None:
        noun, a_noun, decorator = _KINDS[kind]
        expected = f"{a_noun} registered with {decorator}"
        if not name:
            self.error(label, field, f"is empty; expected {expected}")
            return None
        if name not in self.registry:
            same_kind = [s.name for s in self.registry if s.kind is kind]
            close = difflib.get_close_matches(name, same_kind, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            self.error(
                label, field, f"{noun} {name!r} is not registered; expected {expected}{hint}"
            )
            return None
        spec = self.registry.get(name)
        if spec.kind is not kind:
            registered = _KINDS[spec.kind][1]
            self.error(label, field, f"{name!r} is registered as {registered}; expected {expected}")
            return None
        return spec

    def _inputs(
        self,
        label: str,
        field: str,
        spec: FlowSpec | None,
        pairs: Iterable[tuple[str, Any]],
        where: _Where,
    ) -> None:
        declared = spec.inputs if spec is not None else None
        given = set()
        for key, value in pairs:
            given.add(key)
            at = f"{field}.{key}"
            vtype = self._value(label, at, value, where)
            if declared is None:
                continue
            if key not in declared:
                noun = _KINDS[spec.kind][0]  # type: ignore[union-attr]
                self.error(
                    label,
                    at,
                    f"{noun} {spec.name!r} has no input {key!r}; it declares: "  # type: ignore[union-attr]
                    f"{listing(declared)}",
                )
            elif vtype is not None and not comparable(vtype, declared[key]):
                self.error(
                    label,
                    at,
                    f"gets {vtype} from {value}; {spec.name!r} expects "  # type: ignore[union-attr]
                    f"{declared[key]} for input {key!r}",
                )
        for key, vtype in (declared or {}).items():
            if key not in given:
                self.warn(
                    label,
                    f"{field}.{key}",
                    f"{spec.name!r} declares input {key!r} ({vtype}) "  # type: ignore[union-attr]
                    "but it is not given, so it will be null; expected a value or reference",
                )

    def _outputs(self, step: Step, label: str) -> None:
        declared = self.refs.outputs_of(step)
        for out, name in step.outputs:
            at = f"outputs.{out}"
            if declared is not None and out not in declared:
                self.error(label, at, self.refs.no_output(step, out))
            variable = self.refs.variables.get(name)
            if variable is None:
                self.error(
                    label,
                    at,
                    f"variable {name!r} does not exist; expected one of the "
                    f"variables: {listing(self.refs.variables)}",
                )
            elif declared and out in declared and not comparable(declared[out][0], variable.type):
                self.error(
                    label,
                    at,
                    f"output {out!r} is {declared[out][0]}, but variable "
                    f"{name!r} is {variable.type}; expected a {declared[out][0]} variable",
                )

    def _conditions(self, label: str, field: str, conditions: Conditions, where: _Where) -> None:
        for message in check(conditions, self.max_conditions):
            self.error(label, field, message)
        for number, c in enumerate(conditions.items, 1):
            at = f"{field}[{number}]"
            left = self._read(label, at, c.left, where, in_condition=True)
            right: ValueType | None = None
            if isinstance(c.right, Ref):
                target = self._read(label, at, c.right, where, in_condition=True)
                right = target.type if target is not None else None
            elif c.operator in _UNARY:
                continue  # a literal beside a unary operator is reported by check()
            if left is not None and (message := _check_types(c, left.type, right)):
                self.error(label, at, f"condition {number} ({c}): {message}")

    def _value(self, label: str, field: str, value: Any, where: _Where) -> ValueType | None:
        """The type of a literal or a reference; None when unknown or null."""
        if isinstance(value, Ref):
            target = self._read(label, field, value, where)
            return target.type if target is not None else None
        return type_of_value(value)

    def _read(
        self, label: str, field: str, ref: Ref, where: _Where, *, in_condition: bool = False
    ) -> Target | None:
        try:
            target = self.refs.resolve(ref)
        except UnresolvedReference as problem:
            self.error(label, field, str(problem))
            return None
        if target.step is not None:
            self._order(label, field, ref, target, where, in_condition)
        return target

    def _order(
        self, label: str, field: str, ref: Ref, target: Target, where: _Where, in_condition: bool
    ) -> None:
        """A step's outputs exist only once it completed: is that sure to happen before `where`?"""
        owner = self.refs.steps[target.step][0].name  # type: ignore[index]
        if where.node is None:
            if target.output:
                self.error(
                    label,
                    field,
                    f"reads {ref}, but no step has run when the run starts; "
                    "expected $Record or $Record__Prior fields",
                )
            return
        if owner != where.node:
            if target.output and where.node not in self.reach[owner]:
                self.error(
                    label,
                    field,
                    f"reads {ref}, but step {target.step!r} is in stage "
                    f"{owner!r}, which never runs before {self.kinds[where.node]} "
                    f"{where.node!r}; a step's outputs exist only after it completes",
                )
            return
        step = where.step
        if step is None or step.name == target.step or (in_condition and not target.output):
            return  # a status in entry/exit conditions is how a step waits for another
        if target.step in self.ancestors.get((owner, step.name), set()):
            return
        if isinstance(step.entry, Requirements):
            fix = f"add the entry condition {target.step}.Status equals 'Completed'"
        else:
            before = list(step.entry.steps) if isinstance(step.entry, AfterSteps) else []
            fix = f"add after={[*before, target.step]!r}"
        self.warn(
            label,
            field,
            f"reads {ref} but does not wait for step {target.step!r}: "
            f"parallel steps have no ordering guarantee; {fix}",
        )

    # --- screens -----------------------------------------------------------------------------------

    def _screen(self, screen: Screen) -> None:
        used = {s.screen for _, s in self.orch.steps() if isinstance(s, InteractiveStep)}
        if screen.name not in used:
            self.warn(
                f"screen {screen.name!r}",
                "name",
                "is not used by any interactive step; expected a step that shows it, or remove it",
            )
        for f in screen.fields:
            self._field(screen, f)

    def _field(self, screen: Screen, f: Field) -> None:
        label = f"screen {screen.name!r} field {f.name!r}"
        if f.kind in (FieldKind.PICKLIST, FieldKind.MULTI_SELECT) and not f.choices:
            self.error(
                label,
                "choices",
                f"a {f.kind} field has no choices; expected choices=('A', 'B', ...)",
            )
        if f.min is not None and f.max is not None and f.min > f.max:
            self.error(label, "min", f"{f.min} is greater than max {f.max}; expected min <= max")
        for name in ("min_length", "max_length"):
            if (length := getattr(f, name)) is not None and length < 0:
                self.error(label, name, f"is {length}; expected a length of 0 or more")
        if f.min_length is not None and f.max_length is not None and f.min_length > f.max_length:
            self.error(
                label,
                "min_length",
                f"{f.min_length} is greater than max_length "
                f"{f.max_length}; expected min_length <= max_length",
            )
        regex_ok = True
        if f.regex is not None:
            try:
                re.compile(f.regex)
            except re.error as problem:
                regex_ok = False
                self.error(
                    label,
                    "regex",
                    f"{f.regex!r} is not a valid regular expression "
                    f"({problem}); expected a Python regular expression",
                )
        if f.default is None:
            return
        if not conforms(f.default, f.value_type, f.is_collection):
            shape = (
                f"a list of {f.value_type} values" if f.is_collection else f"a {f.value_type} value"
            )
            self.error(
                label, "default", f"{f.default!r} does not fit a {f.kind} field; expected {shape}"
            )
            return
        # The same rules the engine applies to a submitted form (required is about submitting).
        alone = replace(f, required=False, regex=f.regex if regex_ok else None)
        _, problems = check_form(Screen(screen.name, (alone,)), {f.name: f.default})
        if f.name in problems:
            self.error(label, "default", f"{f.default!r} is not allowed: {problems[f.name]}")
