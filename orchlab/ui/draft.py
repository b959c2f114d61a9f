"""An orchestration being designed: mutable drafts of every part, to and from the frozen model.

Definitions are frozen dataclasses; a designer edits in place. The drafts here hold what a
form shows (names, choices, and values as text) and `OrchestrationDraft.build()` turns them
into an `Orchestration`, or raises `DraftError` naming every field that cannot be read.
`OrchestrationDraft.of(orch).build() == orch` for every definition the designer can show.

Connectors are kept as the designer shows them: `FOLLOWING` ("the next element in the list",
so reordering rewires the path), `END` (the path ends), or an element's name.

Values are typed as YAML (`1000`, `true`, `High`, `2026-01-31`, `{decimal: '12.50'}`), and a
reference is written as Salesforce writes merge fields: ``{!$Record.Amount}``.

    >>> value_text(ref("$Record.Id")), value_text("12"), parse_value("{!Score.Outputs.score}")
    ('{!$Record.Id}', "'12'", Ref(path='Score.Outputs.score'))
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from orchlab.definition import model as m
from orchlab.definition.codec import decode_value, encode_value
from orchlab.definition.conditions import Condition, Conditions
from orchlab.definition.ref import Ref, ref
from orchlab.definition.values import ValueType
from orchlab.definition.yaml_dialect import parse, yaml_dump
from orchlab.errors import OrchlabError

__all__ = [
    "END",
    "FOLLOWING",
    "ConditionsDraft",
    "DecisionDraft",
    "DraftError",
    "EndDraft",
    "FieldDraft",
    "OrchestrationDraft",
    "OutcomeDraft",
    "ScreenDraft",
    "StageDraft",
    "StartDraft",
    "StepDraft",
    "VariableDraft",
    "pairs_text",
    "parse_pairs",
    "parse_value",
    "value_text",
]

FOLLOWING = ""  # a connector to whatever element follows in the list
END = "(end)"  # no connector: the path ends here
T = TypeVar("T")


class DraftError(OrchlabError, ValueError):
    """Fields of a draft that cannot be read; `problems` holds (element, field, message)."""

    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        self.problems = problems
        super().__init__("\n".join(f"{e}: {f}: {msg}" for e, f, msg in problems))


# --- values as text ------------------------------------------------------------------------------


def value_text(value: Any) -> str:
    """A value as the designer shows it; `parse_value` reads it back."""
    if value is None:
        return ""
    if isinstance(value, Ref):
        return "{!" + value.path + "}"
    return yaml_dump(encode_value(value, "value", True)).removesuffix("...\n").strip()


def parse_value(text: str) -> Any:
    """A value from its text: blank is None, ``{!path}`` a reference, anything else YAML."""
    stripped = text.strip()
    if not stripped:
        return None
    if stripped.startswith("{!") and stripped.endswith("}"):
        return ref(stripped)
    try:
        return decode_value(parse(stripped, "yaml"), "value")
    except OrchlabError as exc:
        raise ValueError(f"cannot read {stripped!r}: {str(exc).splitlines()[0]}") from None


def pairs_text(pairs: tuple[tuple[str, Any], ...], values: bool = True) -> str:
    """An input (or output) map as lines of ``name = value``."""
    return "\n".join(f"{k} = {value_text(v) if values else v}" for k, v in pairs)


def parse_pairs(text: str, values: bool = True) -> tuple[tuple[str, Any], ...]:
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        name, sep, rest = line.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"line {number}: expected name = value, got {line.strip()!r}")
        found.append((name.strip(), parse_value(rest) if values else rest.strip()))
    return tuple(found)


class _Problems:
    """Collects what cannot be read, so one build reports every bad field at once."""

    def __init__(self) -> None:
        self.found: list[tuple[str, str, str]] = []

    def read(self, where: str, name: str, fn: Callable[[], T], fallback: T) -> T:
        try:
            return fn()
        except (ValueError, KeyError, TypeError) as exc:
            message = str(exc.args[0]) if exc.args else type(exc).__name__
            self.found.append((where, name, message))
            return fallback


def _number(text: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    value = float(text)
    return int(value) if value.is_integer() and "." not in text and "e" not in text else value


def _whole(text: str) -> int | None:
    return int(text) if text.strip() else None


def _text_of(number: float | int | None) -> str:
    return "" if number is None else str(number)


# --- conditions ----------------------------------------------------------------------------------


@dataclass
class ConditionsDraft:
    """Numbered conditions (left, operator, right as text) and how they join: "and", "or",
    or custom logic text such as ``1 AND (2 OR 3)``."""

    rows: list[list[str]] = field(default_factory=list)
    logic: str = "and"

    @classmethod
    def of(cls, block: Conditions | None) -> ConditionsDraft:
        if block is None:
            return cls()
        rows = [[c.left.path, c.operator.value, value_text(c.right)] for c in block.items]
        return cls(rows, block.logic)

    def build(self, problems: _Problems, where: str, name: str) -> Conditions:
        items = []
        for i, (left, op, right) in enumerate(self.rows, 1):
            at = f"{name}[{i}]"
            value = problems.read(where, at, lambda r=right: parse_value(r), None)
            found = problems.read(
                where,
                at,
                lambda a=left, o=op, v=value: Condition(a, o, v),
                None,  # type: ignore[misc]
            )
            if found is not None:
                items.append(found)
        return Conditions(tuple(items), self.logic.strip() or "and")


def _rule_of(rule: Any) -> tuple[str, ConditionsDraft, str, str]:
    """(kind, conditions, evaluation flow, its inputs as text) of an entry or exit rule."""
    if isinstance(rule, m.Requirements):
        return "conditions", ConditionsDraft.of(rule.conditions), "", ""
    if isinstance(rule, m.EvaluationFlow):
        return "evaluation", ConditionsDraft(), rule.flow, pairs_text(rule.inputs)
    return "default", ConditionsDraft(), "", ""


def _build_rule(
    kind: str, block: ConditionsDraft, flow: str, inputs: str, p: _Problems, where: str, name: str
) -> Any:
    if kind == "conditions":
        return m.Requirements(block.build(p, where, f"{name}.conditions"))
    if kind == "evaluation":
        pairs = p.read(where, f"{name}.inputs", lambda: parse_pairs(inputs), ())
        return m.EvaluationFlow(flow.strip(), pairs)
    return None


# --- steps, stages, decisions, ends --------------------------------------------------------------

STEP_KINDS = ("background", "interactive", "external")
ASSIGNEE_KINDS = ("user", "group", "queue", "reference")


@dataclass
class StepDraft:
    """A step of any kind; fields that do not apply to its kind are kept for a kind change."""

    name: str
    kind: str = "background"
    label: str = ""
    target: str = ""  # the flow, screen or action it calls
    assignee_kind: str = "queue"
    assignee: str = ""
    context: str = ""  # a reference path, e.g. $Record.Id
    entry: str = "default"  # default (when the stage starts) | after | conditions | evaluation
    after: list[str] = field(default_factory=list)
    entry_conditions: ConditionsDraft = field(default_factory=ConditionsDraft)
    entry_flow: str = ""
    entry_inputs: str = ""
    exit: str = "default"  # default (form submitted) | conditions | evaluation
    exit_conditions: ConditionsDraft = field(default_factory=ConditionsDraft)
    exit_flow: str = ""
    exit_inputs: str = ""
    inputs: str = ""  # lines of name = value
    outputs: str = ""  # lines of flow_output = variable
    notify_subject: str = ""
    notify_body: str = ""
    timeout: str = "30.0"
    description: str = ""

    @classmethod
    def of(cls, step: m.Step) -> StepDraft:
        draft = cls(step.name, label=step.label, description=step.description)
        draft.inputs = pairs_text(step.inputs)
        draft.outputs = pairs_text(step.outputs, values=False)
        entry = step.entry
        if isinstance(entry, m.AfterSteps):
            draft.entry, draft.after = "after", list(entry.steps)
        else:
            draft.entry, draft.entry_conditions, draft.entry_flow, draft.entry_inputs = _rule_of(
                entry
            )
        if isinstance(step, m.BackgroundStep):
            draft.kind, draft.target = "background", step.flow
        elif isinstance(step, m.ExternalStep):
            draft.kind, draft.target, draft.timeout = "external", step.action, str(step.timeout)
        else:
            draft.kind, draft.target = "interactive", step.screen
            if step.assignee is not None:
                draft.assignee_kind, draft.assignee = step.assignee.kind.value, step.assignee.name
            else:
                draft.assignee_kind, draft.assignee = "queue", ""
            context = step.context_record
            draft.context = context.path if isinstance(context, Ref) else value_text(context)
            draft.exit, draft.exit_conditions, draft.exit_flow, draft.exit_inputs = _rule_of(
                step.exit
            )
            if step.notification is not None:
                draft.notify_subject = step.notification.subject
                draft.notify_body = step.notification.body
        return draft

    def build(self, p: _Problems, stage: str) -> m.Step:
        where = f"step {self.name!r} in stage {stage!r}"
        if self.entry == "after":
            entry: Any = m.AfterSteps(tuple(self.after))
        else:
            entry = (
                _build_rule(
                    self.entry,
                    self.entry_conditions,
                    self.entry_flow,
                    self.entry_inputs,
                    p,
                    where,
                    "entry",
                )
                or m.OnStageStart()
            )
        inputs = p.read(where, "inputs", lambda: parse_pairs(self.inputs), ())
        outputs = p.read(where, "outputs", lambda: parse_pairs(self.outputs, values=False), ())
        name, label, target = self.name.strip(), self.label, self.target.strip()
        if self.kind == "background":
            return m.BackgroundStep(name, target, label, entry, inputs, outputs, self.description)
        if self.kind == "external":
            timeout = p.read(where, "timeout", lambda: float(self.timeout), 30.0)
            return m.ExternalStep(
                name, target, label, entry, inputs, outputs, timeout, self.description
            )
        assignee = None
        if self.assignee.strip():
            if self.assignee_kind == "reference":
                path = p.read(where, "assignee", lambda: ref(self.assignee).path, self.assignee)
                assignee = m.Assignee(m.AssigneeKind.REFERENCE, path)
            else:
                assignee = m.Assignee(m.AssigneeKind(self.assignee_kind), self.assignee.strip())
        context: Any = None
        if self.context.strip():
            context = p.read(where, "context", lambda: ref(self.context), None)
        exit_rule = (
            _build_rule(
                self.exit, self.exit_conditions, self.exit_flow, self.exit_inputs, p, where, "exit"
            )
            or m.FormSubmitted()
        )
        notification = (
            m.Notification(self.notify_subject, self.notify_body) if self.notify_subject else None
        )
        return m.InteractiveStep(
            name, target, assignee, label, entry, exit_rule, inputs, outputs, context,
            notification, self.description,
        )  # fmt: skip


def _connector_of(connector: m.Connector | None, following: str | None) -> tuple[str, bool]:
    if connector is None:
        return END, False
    if not connector.goto and connector.target == following:
        return FOLLOWING, False
    return connector.target, connector.goto


def _build_connector(target: str, goto: bool, following: str | None) -> m.Connector | None:
    if target == END:
        return None
    if target == FOLLOWING:
        return m.Connector(following) if following else None
    return m.Connector(target, goto)


@dataclass
class StageDraft:
    name: str
    label: str = ""
    steps: list[StepDraft] = field(default_factory=list)
    exit: str = "default"  # default (all steps complete) | conditions | evaluation
    exit_conditions: ConditionsDraft = field(default_factory=ConditionsDraft)
    exit_flow: str = ""
    exit_inputs: str = ""
    next: str = FOLLOWING
    goto: bool = False
    on_fault: str = ""  # the fault path's element, or "" for none
    description: str = ""
    kind = "stage"

    @classmethod
    def of(cls, stage: m.Stage, following: str | None) -> StageDraft:
        draft = cls(stage.name, stage.label, [StepDraft.of(s) for s in stage.steps])
        draft.exit, draft.exit_conditions, draft.exit_flow, draft.exit_inputs = _rule_of(stage.exit)
        draft.next, draft.goto = _connector_of(stage.next, following)
        draft.on_fault = stage.on_fault.target if stage.on_fault else ""
        draft.description = stage.description
        return draft

    def build(self, p: _Problems, following: str | None) -> m.Stage:
        where = f"stage {self.name!r}"
        exit_rule = (
            _build_rule(
                self.exit, self.exit_conditions, self.exit_flow, self.exit_inputs, p, where, "exit"
            )
            or m.AllStepsComplete()
        )
        return m.Stage(
            self.name.strip(),
            tuple(s.build(p, self.name) for s in self.steps),
            self.label,
            exit_rule,
            _build_connector(self.next, self.goto, following),
            m.Connector(self.on_fault) if self.on_fault else None,
            self.description,
        )

    def targets(self) -> Iterator[tuple[str, str]]:
        """(attribute, element name) of every connector that names an element."""
        if self.next not in (FOLLOWING, END):
            yield "next", self.next
        if self.on_fault:
            yield "on_fault", self.on_fault


@dataclass
class OutcomeDraft:
    name: str
    conditions: ConditionsDraft = field(default_factory=ConditionsDraft)
    to: str = END
    goto: bool = False
    label: str = ""


@dataclass
class DecisionDraft:
    name: str
    label: str = ""
    outcomes: list[OutcomeDraft] = field(default_factory=list)
    default: str = FOLLOWING
    default_label: str = "Default Outcome"
    description: str = ""
    default_goto: bool = False
    kind = "decision"

    @classmethod
    def of(cls, decision: m.Decision, following: str | None) -> DecisionDraft:
        outcomes = []
        for o in decision.outcomes:
            to, goto = (o.next.target, o.next.goto) if o.next else (END, False)
            outcomes.append(
                OutcomeDraft(o.name, ConditionsDraft.of(o.conditions), to, goto, o.label)
            )
        default, goto = _connector_of(decision.default, following)
        return cls(
            decision.name, decision.label, outcomes, default, decision.default_label,
            decision.description, goto,
        )  # fmt: skip

    def build(self, p: _Problems, following: str | None) -> m.Decision:
        where = f"decision {self.name!r}"
        outcomes = tuple(
            m.Outcome(
                o.name.strip(),
                o.conditions.build(p, where, f"outcome {o.name!r} conditions"),
                None if o.to == END else m.Connector(o.to, o.goto),
                o.label,
            )
            for o in self.outcomes
        )
        return m.Decision(
            self.name.strip(),
            outcomes,
            _build_connector(self.default, self.default_goto, following),
            self.default_label,
            self.label,
            self.description,
        )

    def targets(self) -> Iterator[tuple[str, str]]:
        if self.default not in (FOLLOWING, END):
            yield "default", self.default
        for i, o in enumerate(self.outcomes):
            if o.to != END:
                yield f"outcomes[{i}]", o.to


@dataclass
class EndDraft:
    name: str = "End"
    label: str = ""
    kind = "end"

    def build(self, p: _Problems, following: str | None) -> m.End:
        return m.End(self.name.strip(), self.label)

    def targets(self) -> Iterator[tuple[str, str]]:
        return iter(())


ElementDraft = StageDraft | DecisionDraft | EndDraft


# --- start, variables, screens -------------------------------------------------------------------


@dataclass
class StartDraft:
    kind: str = "autolaunched"  # autolaunched | record
    object: str = ""
    on: str = "create_or_update"
    conditions: ConditionsDraft = field(default_factory=ConditionsDraft)
    only_when_changed: bool = False

    @classmethod
    def of(cls, start: m.RecordTrigger | m.Autolaunched) -> StartDraft:
        if isinstance(start, m.Autolaunched):
            return cls()
        return cls(
            "record", start.object, start.on.value, ConditionsDraft.of(start.conditions),
            start.only_when_changed,
        )  # fmt: skip

    def build(self, p: _Problems) -> m.RecordTrigger | m.Autolaunched:
        if self.kind != "record":
            return m.Autolaunched()
        conditions = (
            self.conditions.build(p, "start", "conditions") if self.conditions.rows else None
        )
        on = p.read("start", "on", lambda: m.TriggerEvent(self.on), m.TriggerEvent.CREATE_OR_UPDATE)
        return m.RecordTrigger(self.object.strip(), on, conditions, self.only_when_changed)


@dataclass
class VariableDraft:
    name: str
    type: str = "text"
    input: bool = False
    output: bool = False
    collection: bool = False
    object: str = ""
    default: str = ""
    description: str = ""

    @classmethod
    def of(cls, v: m.Variable) -> VariableDraft:
        return cls(
            v.name, v.type.value, v.is_input, v.is_output, v.is_collection, v.object or "",
            value_text(v.default), v.description,
        )  # fmt: skip

    def build(self, p: _Problems) -> m.Variable:
        where = f"variable {self.name!r}"
        vtype = p.read(where, "type", lambda: ValueType(self.type), ValueType.TEXT)
        default = p.read(where, "default", lambda: parse_value(self.default), None)
        return m.Variable(
            self.name.strip(), vtype, self.collection, self.input, self.output,
            self.object.strip() or None, default, self.description,
        )  # fmt: skip


@dataclass
class FieldDraft:
    name: str
    kind: str = "text"
    label: str = ""
    required: bool = False
    default: str = ""
    min: str = ""
    max: str = ""
    min_length: str = ""
    max_length: str = ""
    regex: str = ""
    choices: str = ""  # separated by commas
    help: str = ""

    @classmethod
    def of(cls, f: m.Field) -> FieldDraft:
        return cls(
            f.name, f.kind.value, f.label, f.required, value_text(f.default), _text_of(f.min),
            _text_of(f.max), _text_of(f.min_length), _text_of(f.max_length), f.regex or "",
            ", ".join(f.choices), f.help,
        )  # fmt: skip

    def build(self, p: _Problems, screen: str) -> m.Field:
        where = f"field {self.name!r} of screen {screen!r}"
        kind = p.read(where, "kind", lambda: m.FieldKind(self.kind), m.FieldKind.TEXT)
        choices = tuple(c.strip() for c in self.choices.split(",") if c.strip())
        return m.Field(
            self.name.strip(),
            kind,
            self.label,
            self.required,
            p.read(where, "default", lambda: parse_value(self.default), None),
            p.read(where, "min", lambda: _number(self.min), None),
            p.read(where, "max", lambda: _number(self.max), None),
            p.read(where, "min_length", lambda: _whole(self.min_length), None),
            p.read(where, "max_length", lambda: _whole(self.max_length), None),
            self.regex or None,
            choices,
            self.help,
        )


@dataclass
class ScreenDraft:
    name: str
    label: str = ""
    fields: list[FieldDraft] = field(default_factory=list)
    description: str = ""

    @classmethod
    def of(cls, s: m.Screen) -> ScreenDraft:
        return cls(s.name, s.label, [FieldDraft.of(f) for f in s.fields], s.description)

    def build(self, p: _Problems) -> m.Screen:
        fields = tuple(f.build(p, self.name) for f in self.fields)
        return m.Screen(self.name.strip(), fields, self.label, self.description)


# --- the whole -----------------------------------------------------------------------------------


@dataclass
class OrchestrationDraft:
    name: str = "New_Orchestration"
    label: str = ""
    description: str = ""
    start: StartDraft = field(default_factory=StartDraft)
    variables: list[VariableDraft] = field(default_factory=list)
    screens: list[ScreenDraft] = field(default_factory=list)
    elements: list[ElementDraft] = field(default_factory=list)
    first: str = ""  # "" = the first element
    version: int = 1
    is_template: bool = False
    source_template: str | None = None

    @classmethod
    def of(cls, orch: m.Orchestration) -> OrchestrationDraft:
        elements: list[ElementDraft] = []
        names = [e.name for e in orch.elements]
        for i, e in enumerate(orch.elements):
            following = names[i + 1] if i + 1 < len(names) else None
            if isinstance(e, m.Stage):
                elements.append(StageDraft.of(e, following))
            elif isinstance(e, m.Decision):
                elements.append(DecisionDraft.of(e, following))
            else:
                elements.append(EndDraft(e.name, e.label))
        first = orch.first if orch.elements and orch.first != orch.elements[0].name else ""
        return cls(
            orch.name, orch.label, orch.description, StartDraft.of(orch.start),
            [VariableDraft.of(v) for v in orch.variables],
            [ScreenDraft.of(s) for s in orch.screens], elements, first or "", orch.version,
            orch.is_template, orch.source_template,
        )  # fmt: skip

    def build(self) -> m.Orchestration:
        """The definition; DraftError lists every field that could not be read."""
        p = _Problems()
        names = [e.name.strip() for e in self.elements]
        elements = []
        for i, e in enumerate(self.elements):
            following = names[i + 1] if i + 1 < len(names) else None
            elements.append(e.build(p, following))
        orch = m.Orchestration(
            name=self.name.strip(),
            elements=tuple(elements),
            label=self.label,
            description=self.description,
            version=self.version,
            start=self.start.build(p),
            variables=tuple(v.build(p) for v in self.variables),
            screens=tuple(s.build(p) for s in self.screens),
            first=self.first or None,
            is_template=self.is_template,
            source_template=self.source_template,
        )
        if p.found:
            raise DraftError(p.found)
        return orch

    # --- lookups used by the designer's editing ---------------------------------------------------

    def element(self, name: str) -> ElementDraft:
        for e in self.elements:
            if e.name == name:
                return e
        raise KeyError(f"no element {name!r}")

    def step_names(self) -> list[str]:
        return [s.name for e in self.elements if isinstance(e, StageDraft) for s in e.steps]
