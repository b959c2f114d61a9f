"""Check an orchestration definition before it runs, and report every problem at once.

    >>> from orchlab.definition.builder import orchestration, stage, background
    >>> from orchlab.definition.registry import Registry
    >>> demo = orchestration("Demo", stage("One", background("Hi", "hi")))
    >>> [problem] = validate(demo, Registry())
    >>> problem.element, problem.field
    ("step 'Hi' in stage 'One'", 'flow')
    >>> problem.message
    "flow 'hi' is not registered; expected a flow registered with @flow"

Each `Problem` names the element, the field and what was expected. Condition numbers in
fields such as `entry.conditions[2]` count from 1, as in custom logic text. Errors make a
definition unusable; warnings point at traps Salesforce accepts (a step reading a parallel
step's outputs, a work item with no context record). References and the data they read are
checked by `orchlab.definition.data_checks.DataChecks`; this module checks the shape.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from html import escape
from typing import Any

from orchlab.definition import fields
from orchlab.definition.conditions import DEFAULT_MAX_CONDITIONS, Condition, Operator
from orchlab.definition.data_checks import DataChecks, Place, Resolver, listing
from orchlab.definition.model import (
    AfterSteps,
    AllStepsComplete,
    AssigneeKind,
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
from orchlab.definition.ref import Ref
from orchlab.definition.registry import FlowKind, Registry
from orchlab.definition.registry import registry as default_registry
from orchlab.definition.values import conforms
from orchlab.errors import OrchlabError
from orchlab.limits import MAX_ELEMENTS, MAX_STEPS_PER_STAGE, MAX_TEXT

__all__ = [
    "InvalidOrchestration",
    "Problem",
    "Problems",
    "Severity",
    "errors",
    "require_valid",
    "validate",
]


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


class Problems(list[Problem]):
    """The result of `validate`: a plain list of problems that also reads well in a notebook."""

    def __str__(self) -> str:
        return "\n".join(map(str, self)) if self else "no problems"

    def _repr_html_(self) -> str:
        if not self:
            return "<p>✔ no problems</p>"
        cells = "".join(
            f"<tr><td>{'⚠ warning' if p.severity is Severity.WARNING else '✖ error'}</td>"
            f"<td>{escape(p.element)}</td><td><code>{escape(p.field)}</code></td>"
            f"<td>{escape(p.message)}</td></tr>"
            for p in self
        )
        head = "<tr><th></th><th>element</th><th>field</th><th>problem</th></tr>"
        return f"<table>{head}{cells}</table>"


class InvalidOrchestration(OrchlabError, ValueError):
    """Raised by `require_valid`; `problems` holds every error, then every warning."""

    def __init__(self, name: str, problems: Iterable[Problem]) -> None:
        self.name = name
        self.problems = tuple(problems)
        count = len(errors(self.problems))
        head = f"orchestration {name!r} has {count} error{'' if count == 1 else 's'}:"
        super().__init__("\n".join([head, *(str(p) for p in self.problems)]))


def errors(problems: Iterable[Problem]) -> Problems:
    """Only the errors."""
    return [p for p in problems if p.severity is Severity.ERROR]


def validate(
    orch: Orchestration,
    registry: Registry | None = None,
    *,
    max_conditions: int = DEFAULT_MAX_CONDITIONS,
) -> list[Problem]:
    """Every problem of `orch`: errors first, then warnings, in a fixed order.

    Args:
        orch: the definition.
        registry: where its flows, actions and evaluation flows are registered
            (default: `orchlab.definition.registry.registry`).
        max_conditions: the most conditions a requirement or outcome may have (Salesforce: 10).
    """
    too_big = _size_problems(orch)
    if too_big:  # refused at once: the other checks would take long on such a definition
        return Problems(too_big)
    checker = _Checker(orch, default_registry if registry is None else registry, max_conditions)
    problems = list(dict.fromkeys(checker.run()))  # the same finding twice says nothing new
    return Problems(sorted(problems, key=lambda p: p.severity is Severity.WARNING))  # stable


def require_valid(orch: Orchestration, registry: Registry | None = None, **kw: Any) -> None:
    """Raise InvalidOrchestration listing every problem if `orch` has any error."""
    problems = validate(orch, registry, **kw)
    if errors(problems):
        raise InvalidOrchestration(orch.name, problems)


# --- helpers -------------------------------------------------------------------------------------


def _size_problems(orch: Orchestration) -> list[Problem]:
    label = f"orchestration {orch.name!r}"
    found = []
    if len(orch.elements) > MAX_ELEMENTS:
        message = f"has {len(orch.elements):,} elements; expected at most {MAX_ELEMENTS:,}"
        found.append(Problem(label, "elements", message))
    for st in orch.stages[: MAX_ELEMENTS + 1]:
        if len(st.steps) > MAX_STEPS_PER_STAGE:
            message = f"has {len(st.steps):,} steps; expected at most {MAX_STEPS_PER_STAGE}"
            found.append(Problem(_label(st), "steps", message))
    return found


def _bad_text(value: Any) -> str | None:
    """Why a piece of definition text cannot be stored, or None."""
    if not isinstance(value, str):
        return None
    if len(value) > MAX_TEXT:
        return f"is {len(value):,} characters long; expected at most {MAX_TEXT:,}"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        return (
            f"holds a character that is not valid Unicode (a lone surrogate at position "
            f"{error.start}); expected valid text"
        )
    return None


def _texts(obj: Any, label: str) -> Iterable[tuple[str, str, str]]:
    """(element, field, problem) for every text of a definition part that cannot be stored."""
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        values = value if isinstance(value, tuple) else (value,)
        for item in values:
            if (problem := _bad_text(item)) is not None:
                yield label, f.name, problem
            elif isinstance(item, tuple) and len(item) == 2:  # input/output maps
                for part in item:
                    if (problem := _bad_text(part)) is not None:
                        yield label, f.name, problem


_MAX_NAME = 80
_MERGE_FIELD = re.compile(r"\{!(.*?)\}")
_UNIQUE = (
    "elements, steps, outcomes and variables need unique names, so that references such as "
    "Name.Status are unambiguous"
)


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


def _finite_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return False
    return value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)


def _label(element: Stage | Decision | End) -> str:
    return f"{element.element_type} {element.name!r}"


def _step_label(stage: Stage, step: Step) -> str:
    return f"step {step.name!r} in stage {stage.name!r}"


def _connectors(e: Stage | Decision | End) -> list[tuple[str, str, Connector | None, bool]]:
    """(element, field, connector, is a fault path) for each arrow leaving `e`."""
    if isinstance(e, Stage):
        return [(_label(e), "next", e.next, False), (_label(e), "on_fault", e.on_fault, True)]
    if isinstance(e, Decision):
        outs = [
            (f"decision {e.name!r} outcome {o.name!r}", "next", o.next, False) for o in e.outcomes
        ]
        return [*outs, (_label(e), "default", e.default, False)]
    return []


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
    """Groups of nodes on common cycles (strongly connected sets with a cycle), in key order."""
    reach = _reach(edges)
    loops: list[list[str]] = []
    for node in edges:
        if node in reach[node] and not any(node in group for group in loops):
            loops.append([n for n in edges if n == node or (n in reach[node] and node in reach[n])])
    return loops


def _cycle(group: Sequence[str], edges: Mapping[str, Sequence[str]]) -> str:
    """A shortest cycle through group[0] within the group, as "'a' -> 'b' -> 'a'"."""
    start, parent, queue = group[0], {}, [group[0]]
    for node in queue:
        for following in edges[node]:
            if following == start:
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return " -> ".join(repr(n) for n in [*reversed(path), start])
            if following in group and following not in parent:
                parent[following] = node
                queue.append(following)
    raise AssertionError(f"{start!r} is on no cycle")  # pragma: no cover - _loops gives cycles


def _completed_check(c: Condition) -> bool:
    """`Step.Status equals "Completed"`: how Salesforce stores "start after that step"."""
    done = isinstance(c.right, str) and c.right.casefold() == "completed"
    return done and c.operator is Operator.EQUALS and c.left.parts[1:] == ("Status",)


def _waits_for(step: Step, siblings: set[str]) -> list[str]:
    """The sibling steps `step` surely waits for before it starts, in name order."""
    entry = step.entry
    found: set[str] = set()
    if isinstance(entry, AfterSteps):
        found = set(entry.steps)
    elif isinstance(entry, Requirements) and (
        entry.conditions.logic == "and" or len(entry.conditions.items) == 1
    ):
        found = {c.left.root for c in entry.conditions.items if _completed_check(c)}
    return sorted((found & siblings) - {step.name})


# --- the checks ----------------------------------------------------------------------------------


class _Checker:
    def __init__(self, orch: Orchestration, registry: Registry, max_conditions: int) -> None:
        self.orch = orch
        self.problems: list[Problem] = []
        self.refs = Resolver(orch, registry)
        self.kinds: dict[str, str] = {}  # element name -> type; with duplicates the first wins
        for e in orch.elements:
            self.kinds.setdefault(e.name, e.element_type)
        # Arrows between existing elements; a missing target is reported where it is named.
        self.arrows: dict[str, list[tuple[str, bool, bool]]] = {n: [] for n in self.kinds}
        for e in orch.elements:
            for _, _, c, fault in _connectors(e):
                if c is not None and c.target in self.kinds:
                    self.arrows[e.name].append((c.target, c.goto, fault))
        self.reach = _reach({n: [t for t, _, _ in a] for n, a in self.arrows.items()})
        # stage -> step -> the siblings it waits for; `before` adds those they wait for, and so on.
        self.waits: dict[str, dict[str, list[str]]] = {}
        for st in orch.stages:
            siblings = {s.name for s in st.steps}
            self.waits.setdefault(st.name, {s.name: _waits_for(s, siblings) for s in st.steps})
        before = {(st, n): b for st, w in self.waits.items() for n, b in _reach(w).items()}
        self.data = DataChecks(self.refs, self, self.reach, before, max_conditions)

    def error(self, element: str, field: str, message: str) -> None:
        self.problems.append(Problem(element, field, message))

    def warn(self, element: str, field: str, message: str) -> None:
        self.problems.append(Problem(element, field, message, Severity.WARNING))

    def run(self) -> list[Problem]:
        self._names()
        self._stored_as_is()
        self._start()
        for v in self.orch.variables:
            if v.default is not None and not conforms(v.default, v.type, v.is_collection):
                shape = f"a list of {v.type} values" if v.is_collection else f"a {v.type} value"
                message = f"{v.default!r} is not {shape}; expected {shape}"
                self.error(f"variable {v.name!r}", "default", message)
        for e in self.orch.elements:
            for label, field, connector, fault in _connectors(e):
                self._connector(e, label, field, connector, fault)
            if isinstance(e, Stage):
                self._stage(e)
            elif isinstance(e, Decision):
                self._decision(e)
        self._paths()
        for screen in self.orch.screens:
            self._screen(screen)
        return self.problems

    # --- names, start and paths -------------------------------------------------------------------

    def _stored_as_is(self) -> None:
        """Text the history cannot hold, and a version that cannot be one."""
        o = self.orch
        top = f"orchestration {o.name!r}"
        if type(o.version) is not int or o.version < 1:
            self.error(top, "version", f"is {o.version!r}; expected a whole number from 1")
        parts: list[tuple[Any, str]] = [(o, top)]
        for e in o.elements:
            parts.append((e, _label(e)))
            if isinstance(e, Stage):
                parts += [(s, _step_label(e, s)) for s in e.steps]
            elif isinstance(e, Decision):
                parts += [(out, f"decision {e.name!r} outcome {out.name!r}") for out in e.outcomes]
        for sc in o.screens:
            parts.append((sc, f"screen {sc.name!r}"))
            parts += [(f, f"screen {sc.name!r} field {f.name!r}") for f in sc.fields]
        parts += [(v, f"variable {v.name!r}") for v in o.variables]
        for obj, label in parts:
            for element, field, problem in _texts(obj, label):
                self.error(element, field, problem)

    def _names(self) -> None:
        o = self.orch
        if problem := _name_problem(o.name):
            self.error(f"orchestration {o.name!r}", "name", problem)
        names: list[tuple[str, Any, str, str]] = []  # (label, name, namespace, why unique)
        for e in o.elements:
            names.append((_label(e), e.name, "", _UNIQUE))
            for s in e.steps if isinstance(e, Stage) else ():
                names.append((_step_label(e, s), s.name, "", _UNIQUE))
            for out in e.outcomes if isinstance(e, Decision) else ():
                names.append((f"decision {e.name!r} outcome {out.name!r}", out.name, "", _UNIQUE))
        names += [(f"variable {v.name!r}", v.name, "", _UNIQUE) for v in o.variables]
        for sc in o.screens:
            names.append((f"screen {sc.name!r}", sc.name, "screens", "screens need unique names"))
            why, space = "fields of a screen need unique names", f"fields of {sc.name}"
            names += [
                (f"screen {sc.name!r} field {f.name!r}", f.name, space, why) for f in sc.fields
            ]
        seen: dict[tuple[str, str], tuple[str, str]] = {}  # (namespace, casefolded) -> first owner
        for label, name, space, why in names:
            if problem := _name_problem(name):
                self.error(label, "name", problem)
            if not isinstance(name, str) or not name:
                continue
            if (space, name.casefold()) not in seen:
                seen[space, name.casefold()] = (label, name)
            else:
                first, spelled = seen[space, name.casefold()]
                case = " (Salesforce ignores case in names)" if spelled != name else ""
                self.error(label, "name", f"{name!r} is also the name of {first}{case}; {why}")
        if not o.elements:
            message = "has no elements; an orchestration needs at least one stage"
            self.error(f"orchestration {o.name!r}", "elements", message)
        elif not o.stages:
            message = "has no stage; an orchestration needs at least one stage"
            self.error(f"orchestration {o.name!r}", "elements", message)
        if o.elements and o.first not in self.kinds:
            message = f"{o.first!r} is not an element; expected one of: {listing(self.kinds)}"
            self.error(f"orchestration {o.name!r}", "first", message)

    def _start(self) -> None:
        start = self.orch.start
        if not isinstance(start, RecordTrigger):
            return
        if not start.object:
            message = "is empty; expected the API name of the object whose records start a run"
            self.error("start", "object", message + ", such as 'Case'")
        if start.conditions is not None:
            self.data.conditions("start", "conditions", start.conditions, Place())
        elif start.only_when_changed:
            message = "has no effect without start conditions; expected conditions, or False"
            self.warn("start", "only_when_changed", message)

    def _connector(self, e: Any, label: str, field: str, c: Connector | None, fault: bool) -> None:
        if c is None:
            return
        if c.target not in self.kinds:
            what = "Go To target" if c.goto else "fault path target" if fault else "target"
            message = f"{what} {c.target!r} does not exist; expected one of the elements: "
            self.error(label, field, message + listing(self.kinds))
        elif c.target == e.name and not c.goto:
            message = "connects to itself; expected a Go To connector (goto=True) to loop back"
            self.error(label, field, message)
        elif fault and self.kinds[c.target] == "end":
            message = f"fault path goes to end {c.target!r}; expected a stage or a decision"
            self.error(label, field, message + " that handles the error")

    def _paths(self) -> None:
        """Reachability and loops, over the arrows between existing elements."""
        o, label = self.orch, f"orchestration {self.orch.name!r}"
        if o.first in self.kinds:
            for e in o.elements:
                if e.name != o.first and e.name not in self.reach[o.first]:
                    message = f"is not reachable from the start (the path begins at {o.first!r}); "
                    message += "expected a connector, decision outcome or fault path leading to it"
                    self.error(_label(e), "path", message)
        normal = {n: [t for t, _, fault in a if not fault] for n, a in self.arrows.items()}
        for group in _loops(normal):
            inside = set(group)
            arrows = [c for n in group for _, _, c, f in _connectors(o.element(n)) if not f]
            if all(c is not None and c.target in inside for c in arrows):
                message = f"the loop through {listing(map(repr, group))} has no way out: every "
                message += "connector stays inside it; expected a connector that leaves the loop"
                self.error(label, "path", message + " or ends the run")
        # A loop of decisions alone would go round forever at once, waiting for nothing.
        decisions = {
            n: [t for t, goto, f in a if not f and self.kinds[t] == "decision" and (goto or t != n)]
            for n, a in self.arrows.items()
            if self.kinds[n] == "decision"
        }
        for group in _loops(decisions):
            message = f"decisions loop {_cycle(group, decisions)} without passing a stage, so "
            self.error(label, "path", message + "the run would go round forever; expected a stage")
        # Salesforce draws every jump back as a Go To connector (self-loops: see `_connector`).
        plain = {
            n: [t for t, goto, f in a if not (f or goto or t == n)] for n, a in self.arrows.items()
        }
        for group in _loops(plain):
            message = f"the path loops back ({_cycle(group, plain)}) without a Go To connector; "
            self.error(label, "path", message + "expected goto=True on the connector jumping back")

    # --- stages, steps and decisions -----------------------------------------------------------

    def _stage(self, st: Stage) -> None:
        label = _label(st)
        if not st.steps and isinstance(st.exit, AllStepsComplete):
            message = "has no steps, so it completes as soon as it starts; expected a step, "
            self.warn(label, "steps", message + "or an exit rule that waits for something")
        self._rule(label, "exit", st.exit, Place(st.name))
        waits = self.waits[st.name]
        for group in _loops(waits):
            first = next(s for s in st.steps if s.name == group[0])
            message = "steps wait for each other in a cycle (each waits for the next): "
            message += f"{_cycle(group, waits)}; none of them can ever start"
            self.error(_step_label(st, first), "entry", message)
        for step in st.steps:
            self._step(st, step)

    def _step(self, st: Stage, step: Step) -> None:
        label, place = _step_label(st, step), Place(st.name, step)
        if isinstance(step.entry, AfterSteps):
            self._after(st, step, step.entry, label)
        else:
            self._rule(label, "entry", step.entry, place)
        if isinstance(step, BackgroundStep):
            spec = self.data.flow(label, "flow", step.flow, FlowKind.FLOW)
            self.data.inputs(label, "inputs", spec, step.inputs, place)
        elif isinstance(step, ExternalStep):
            spec = self.data.flow(label, "action", step.action, FlowKind.ACTION)
            self.data.inputs(label, "inputs", spec, step.inputs, place)
            if not _finite_number(step.timeout) or not step.timeout > 0:
                message = f"is {step.timeout!r}; expected a positive number of seconds"
                self.error(label, "timeout", message)
        else:
            self._interactive(step, label, place)
        self.data.outputs(label, step)

    def _after(self, st: Stage, step: Step, entry: AfterSteps, label: str) -> None:
        siblings = listing(s.name for s in st.steps if s.name != step.name)
        if not entry.steps:
            message = f"waits for no step; expected steps of stage {st.name!r}: {siblings}"
            self.error(label, "entry", message)
        for name in entry.steps:
            other = self.refs.steps[name][0].name if name in self.refs.steps else None
            if name == step.name:
                message = f"waits for itself; expected other steps of its stage: {siblings}"
            elif other is None:
                message = f"waits for step {name!r}, which does not exist; expected a step of "
                message += f"stage {st.name!r}: {siblings}"
            elif other != st.name:
                message = f"step {name!r} is in stage {other!r}; a step can only wait for "
                message += f"steps of its own stage ({st.name!r})"
            else:
                continue
            self.error(label, "entry", message)

    def _interactive(self, step: InteractiveStep, label: str, place: Place) -> None:
        a = step.assignee
        if a is None:
            message = "is missing; expected a user, group, queue or a reference such as "
            self.error(label, "assignee", message + "assignee_from('$Record.OwnerId')")
        elif not a.name:
            message = f"the {a.kind} assignee has no name; expected a username, a group or "
            self.error(label, "assignee", message + "queue API name, or a reference")
        elif a.kind is AssigneeKind.REFERENCE:
            names = "a username, group or queue name"
            self.data.name_reference(label, "assignee", a.name, place, names)
        screens = f"expected one of the screens: {listing(s.name for s in self.orch.screens)}"
        if not step.screen:
            self.error(label, "screen", f"is empty; {screens}")
        elif step.screen not in self.refs.screens:
            self.error(label, "screen", f"screen {step.screen!r} does not exist; {screens}")
        self._rule(label, "exit", step.exit, place)
        for key, value in step.inputs:  # screens declare no inputs: only the values are checked
            self.data.value(label, f"inputs.{key}", value, place)
        context = step.context_record
        if context is None:
            record = isinstance(self.orch.start, RecordTrigger)
            example = "ref('$Record.Id')" if record else "an input variable holding the record Id"
            message = "context record is missing: the Work Guide can't show the item on a "
            self.warn(label, "context_record", f"{message}record page; expected {example}")
        elif isinstance(context, Ref):
            self.data.name_reference(label, "context_record", context.path, place, "a record Id")
        elif not isinstance(context, str):
            message = f"is {context!r}; expected a record Id (text) or a reference such as "
            self.error(label, "context_record", message + "ref('$Record.Id')")
        for part in ("subject", "body"):
            for match in _MERGE_FIELD.finditer(getattr(step.notification, part, "") or ""):
                self.data.name_reference(label, f"notification.{part}", match[1], place, "")

    def _decision(self, d: Decision) -> None:
        if not d.outcomes:
            message = "has none; expected at least one outcome besides the default"
            self.error(_label(d), "outcomes", message)
        for o in d.outcomes:
            label = f"decision {d.name!r} outcome {o.name!r}"
            self.data.conditions(label, "conditions", o.conditions, Place(d.name))

    def _rule(self, label: str, field: str, rule: Any, place: Place) -> None:
        """An entry or exit rule: requirements or an evaluation flow (others need no check)."""
        if isinstance(rule, Requirements):
            self.data.conditions(label, f"{field}.conditions", rule.conditions, place)
        elif isinstance(rule, EvaluationFlow):
            spec = self.data.flow(label, f"{field}.flow", rule.flow, FlowKind.EVALUATION)
            self.data.inputs(label, f"{field}.inputs", spec, rule.inputs, place)

    # --- screens ---------------------------------------------------------------------------------

    def _screen(self, screen: Screen) -> None:
        steps = [s for _, s in self.orch.steps() if isinstance(s, InteractiveStep)]
        if not any(s.screen == screen.name for s in steps):
            message = "is not used by any interactive step; expected a step that shows it"
            self.warn(f"screen {screen.name!r}", "name", message + ", or remove the screen")
        for f in screen.fields:
            self._field(screen, f)

    def _field(self, screen: Screen, f: Field) -> None:
        label = f"screen {screen.name!r} field {f.name!r}"
        if f.kind in (FieldKind.PICKLIST, FieldKind.MULTI_SELECT) and not f.choices:
            message = f"a {f.kind} field has no choices; expected choices=('A', 'B', ...)"
            self.error(label, "choices", message)
        numeric = f.kind in (FieldKind.NUMBER, FieldKind.CURRENCY)
        bounds_ok = True
        for name in ("min", "max"):
            bound = getattr(f, name)
            if bound is None:
                continue
            if not numeric:
                self.error(label, name, f"applies to number and currency fields, not {f.kind}")
                bounds_ok = False
            elif not _finite_number(bound):
                self.error(label, name, f"is {bound!r}; expected a finite number")
                bounds_ok = False
        if bounds_ok and f.min is not None and f.max is not None and f.min > f.max:
            self.error(label, "min", f"{f.min} is greater than max {f.max}; expected min <= max")
        for name in ("min_length", "max_length"):
            if (length := getattr(f, name)) is not None and length < 0:
                self.error(label, name, f"is {length}; expected a length of 0 or more")
        low, high = f.min_length, f.max_length
        if low is not None and high is not None and low > high:
            message = f"{low} is greater than max_length {high}; expected min_length <= max_length"
            self.error(label, "min_length", message)
        regex = f.regex
        if regex is not None:
            try:
                re.compile(regex)  # compiling a pattern runs nothing
            except re.error as problem:
                regex = None
                message = f"{f.regex!r} is not a valid regular expression ({problem}); "
                self.error(label, "regex", message + "expected a Python regular expression")
        if f.default is None:
            return
        if not conforms(f.default, f.value_type, f.is_collection):
            t = f.value_type
            shape = f"a list of {t} values" if f.is_collection else f"a {t} value"
            self.error(
                label, "default", f"{f.default!r} does not fit a {f.kind} field; expected {shape}"
            )
            return
        # The rules the engine applies to a submitted form ("required" is about submitting).
        alone = replace(f, regex=regex)
        try:
            problem = fields.check(alone, fields.coerce(alone, f.default))
        except ValueError as exc:
            problem = str(exc)
        if problem:
            self.error(label, "default", f"{f.default!r} is not allowed: {problem}")
