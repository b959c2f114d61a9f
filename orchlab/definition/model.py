"""Definitions: what an orchestration is, as plain frozen dataclasses with no I/O.

An `Orchestration` is data. It names the flows, screens and evaluation flows it
calls, so it can be drawn, validated, saved and reloaded before any code runs.
Run state lives elsewhere (`orchlab.engine`), never here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from orchlab.definition.conditions import Conditions
from orchlab.definition.values import ValueType

__all__ = [
    "Variable",
    "TriggerEvent",
    "RecordTrigger",
    "Autolaunched",
    "Connector",
    "OnStageStart",
    "AfterSteps",
    "Requirements",
    "EvaluationFlow",
    "AllStepsComplete",
    "FormSubmitted",
    "AssigneeKind",
    "Assignee",
    "Notification",
    "BackgroundStep",
    "InteractiveStep",
    "ExternalStep",
    "Step",
    "Stage",
    "Outcome",
    "Decision",
    "End",
    "Element",
    "FieldKind",
    "Field",
    "Screen",
    "Orchestration",
    "KeptPart",
    "Entry",
    "StageExit",
    "StepExit",
]


def _tuple(obj: Any, name: str) -> None:
    """Frozen dataclasses keep tuples: let callers pass lists without surprises."""
    value = getattr(obj, name)
    if isinstance(value, list):
        object.__setattr__(obj, name, tuple(value))


def _mapping(obj: Any, name: str) -> None:
    """Input maps are stored as tuples of pairs, so definitions stay hashable and comparable."""
    value = getattr(obj, name)
    if isinstance(value, dict):
        object.__setattr__(obj, name, tuple(value.items()))
    elif isinstance(value, list):
        object.__setattr__(obj, name, tuple(tuple(p) for p in value))


# --- variables and start -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Variable:
    """An orchestration variable; `is_input` ones are given when a run starts."""

    name: str
    type: ValueType = ValueType.TEXT
    is_collection: bool = False
    is_input: bool = False
    is_output: bool = False
    object: str | None = None  # for record variables: which object
    default: Any = None
    description: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.type, str) and not isinstance(self.type, ValueType):
            object.__setattr__(self, "type", ValueType(self.type))


class TriggerEvent(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    CREATE_OR_UPDATE = "create_or_update"


@dataclass(frozen=True, slots=True)
class RecordTrigger:
    """Start a run after a record of `object` is saved and `conditions` hold."""

    kind: ClassVar[str] = "record"
    object: str
    on: TriggerEvent = TriggerEvent.CREATE_OR_UPDATE
    conditions: Conditions | None = None
    only_when_changed: bool = False  # Salesforce: doesRequireRecordChangedToMeetCriteria

    def __post_init__(self) -> None:
        if isinstance(self.on, str) and not isinstance(self.on, TriggerEvent):
            object.__setattr__(self, "on", TriggerEvent(self.on))


@dataclass(frozen=True, slots=True)
class Autolaunched:
    """Start a run on demand (`start_run`), with the input variables."""

    kind: ClassVar[str] = "autolaunched"


Start = RecordTrigger | Autolaunched


# --- connectors, entry and exit rules -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Connector:
    """An arrow to the next element; `goto` marks a Go To connector (a jump back or forward)."""

    target: str
    goto: bool = False


@dataclass(frozen=True, slots=True)
class OnStageStart:
    """Step entry: start as soon as the stage starts (the default)."""

    kind: ClassVar[str] = "stage_start"


@dataclass(frozen=True, slots=True)
class AfterSteps:
    """Step entry: start when the named steps of the same stage have completed."""

    kind: ClassVar[str] = "after_steps"
    steps: tuple[str, ...]

    def __post_init__(self) -> None:
        if isinstance(self.steps, str):
            object.__setattr__(self, "steps", (self.steps,))
        _tuple(self, "steps")


@dataclass(frozen=True, slots=True)
class Requirements:
    """Entry or exit when conditions hold (re-checked on every evaluation)."""

    kind: ClassVar[str] = "requirements"
    conditions: Conditions


@dataclass(frozen=True, slots=True)
class EvaluationFlow:
    """Entry or exit decided by a registered evaluation flow returning a boolean."""

    kind: ClassVar[str] = "evaluation"
    flow: str
    inputs: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        _mapping(self, "inputs")


@dataclass(frozen=True, slots=True)
class AllStepsComplete:
    """Stage exit: every step of the stage is complete (the default)."""

    kind: ClassVar[str] = "all_steps"


@dataclass(frozen=True, slots=True)
class FormSubmitted:
    """Interactive step exit: the assignee submitted the screen (the default)."""

    kind: ClassVar[str] = "form_submitted"


Entry = OnStageStart | AfterSteps | Requirements | EvaluationFlow
StageExit = AllStepsComplete | Requirements | EvaluationFlow
StepExit = FormSubmitted | Requirements | EvaluationFlow


# --- steps ---------------------------------------------------------------------------------------


class AssigneeKind(StrEnum):
    USER = "user"
    GROUP = "group"
    QUEUE = "queue"
    REFERENCE = "reference"  # a user, group or queue name read from data at run time


@dataclass(frozen=True, slots=True)
class Assignee:
    """Who gets the work item: a user (username), a group or queue (API name), or a reference."""

    kind: AssigneeKind
    name: str

    def __post_init__(self) -> None:
        if isinstance(self.kind, str) and not isinstance(self.kind, AssigneeKind):
            object.__setattr__(self, "kind", AssigneeKind(self.kind))

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.name}"


@dataclass(frozen=True, slots=True)
class Notification:
    """The email sent to assignees; `{!ref}` merge fields are filled in at run time."""

    subject: str
    body: str = ""


@dataclass(frozen=True, slots=True)
class BackgroundStep:
    """Runs a registered flow with the mapped inputs; its outputs become `Name.Outputs.x`."""

    step_type: ClassVar[str] = "BackgroundStep"
    name: str
    flow: str
    label: str = ""
    entry: Entry = field(default_factory=OnStageStart)
    inputs: tuple[tuple[str, Any], ...] = ()
    outputs: tuple[tuple[str, str], ...] = ()  # flow output -> orchestration variable
    description: str = ""
    # Salesforce's "run asynchronously": the step starts now and finishes in a later call
    # (Engine.run_step / finish_step), staying InProgress meanwhile.
    asynchronous: bool = False

    def __post_init__(self) -> None:
        _mapping(self, "inputs")
        _mapping(self, "outputs")


@dataclass(frozen=True, slots=True)
class InteractiveStep:
    """Creates a work item for a person and waits until the screen is submitted."""

    step_type: ClassVar[str] = "InteractiveStep"
    name: str
    screen: str
    assignee: Assignee | None
    label: str = ""
    entry: Entry = field(default_factory=OnStageStart)
    exit: StepExit = field(default_factory=FormSubmitted)
    inputs: tuple[tuple[str, Any], ...] = ()
    outputs: tuple[tuple[str, str], ...] = ()
    context_record: Any = None  # usually Ref("$Record.Id"): where the Work Guide shows the item
    notification: Notification | None = None
    description: str = ""

    def __post_init__(self) -> None:
        _mapping(self, "inputs")
        _mapping(self, "outputs")


@dataclass(frozen=True, slots=True)
class ExternalStep:
    """Calls a registered outbound action (the MuleSoft step's counterpart)."""

    step_type: ClassVar[str] = "ExternalStep"
    name: str
    action: str
    label: str = ""
    entry: Entry = field(default_factory=OnStageStart)
    inputs: tuple[tuple[str, Any], ...] = ()
    outputs: tuple[tuple[str, str], ...] = ()
    timeout: float = 30.0  # seconds
    description: str = ""
    asynchronous: bool = False  # started now, finished by a later call (a callback)

    def __post_init__(self) -> None:
        _mapping(self, "inputs")
        _mapping(self, "outputs")


Step = BackgroundStep | InteractiveStep | ExternalStep


# --- elements on the path ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Stage:
    """A phase of the run; its steps run in parallel unless entry rules chain them."""

    element_type: ClassVar[str] = "stage"
    name: str
    steps: tuple[Step, ...] = ()
    label: str = ""
    exit: StageExit = field(default_factory=AllStepsComplete)
    next: Connector | None = None
    on_fault: Connector | None = None
    description: str = ""

    def __post_init__(self) -> None:
        _tuple(self, "steps")

    def step(self, name: str) -> Step:
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(f"stage {self.name!r} has no step {name!r}")


@dataclass(frozen=True, slots=True)
class Outcome:
    """One branch of a decision: taken when its conditions hold (outcomes are tried in order)."""

    name: str
    conditions: Conditions
    next: Connector | None = None
    label: str = ""


@dataclass(frozen=True, slots=True)
class Decision:
    """Branches the path: the first outcome whose conditions hold, else the default."""

    element_type: ClassVar[str] = "decision"
    name: str
    outcomes: tuple[Outcome, ...]
    default: Connector | None = None
    default_label: str = "Default Outcome"
    label: str = ""
    description: str = ""

    def __post_init__(self) -> None:
        _tuple(self, "outcomes")


@dataclass(frozen=True, slots=True)
class End:
    """Ends the run (a path without a connector ends it too)."""

    element_type: ClassVar[str] = "end"
    name: str = "End"
    label: str = ""


Element = Stage | Decision | End


# --- screens -------------------------------------------------------------------------------------


class FieldKind(StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    NUMBER = "number"
    CURRENCY = "currency"
    CHECKBOX = "checkbox"
    DATE = "date"
    DATETIME = "datetime"
    PICKLIST = "picklist"
    MULTI_SELECT = "multi_select"
    EMAIL = "email"


FIELD_VALUE_TYPES: dict[FieldKind, ValueType] = {
    FieldKind.TEXT: ValueType.TEXT,
    FieldKind.LONG_TEXT: ValueType.TEXT,
    FieldKind.NUMBER: ValueType.NUMBER,
    FieldKind.CURRENCY: ValueType.CURRENCY,
    FieldKind.CHECKBOX: ValueType.BOOLEAN,
    FieldKind.DATE: ValueType.DATE,
    FieldKind.DATETIME: ValueType.DATETIME,
    FieldKind.PICKLIST: ValueType.TEXT,
    FieldKind.MULTI_SELECT: ValueType.TEXT,  # a collection of text
    FieldKind.EMAIL: ValueType.TEXT,
}


@dataclass(frozen=True, slots=True)
class Field:
    """One input on a screen; its value becomes the step output of the same name.

    `required` means a value must be given; for a checkbox it means it must be checked
    (Salesforce's rule: `true` is the only value that satisfies a required checkbox).
    """

    name: str
    kind: FieldKind = FieldKind.TEXT
    label: str = ""
    required: bool = False
    default: Any = None
    min: float | None = None
    max: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    regex: str | None = None
    choices: tuple[str, ...] = ()
    help: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.kind, str) and not isinstance(self.kind, FieldKind):
            object.__setattr__(self, "kind", FieldKind(self.kind))
        _tuple(self, "choices")

    @property
    def value_type(self) -> ValueType:
        return FIELD_VALUE_TYPES[self.kind]

    @property
    def is_collection(self) -> bool:
        return self.kind is FieldKind.MULTI_SELECT


@dataclass(frozen=True, slots=True)
class Screen:
    """A form spec (the screen flow's counterpart): its fields are the step's outputs."""

    name: str
    fields: tuple[Field, ...] = ()
    label: str = ""
    description: str = ""

    def __post_init__(self) -> None:
        _tuple(self, "fields")

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"screen {self.name!r} has no field {name!r}")


# --- the orchestration ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeptPart:
    """A piece of an imported file that orchlab does not model, kept to be written back.

    orchlab never interprets it: `orchlab.salesforce` keeps, say, a stage's canvas position or
    a formula here when it reads a `.flow-meta.xml` file and puts it back when it saves one.
    `owner` says what it belongs to ("" for the orchestration itself, "stage:Review",
    "step:Approve", ...); `text` is the part exactly as the importer stores it (an XML element).
    """

    owner: str
    text: str


@dataclass(frozen=True, slots=True)
class Orchestration:
    """A versioned orchestration definition.

    `elements` hold the stages, decisions and ends; `first` names where the path starts
    (default: the first element). Fault paths are elements too, reached by `Stage.on_fault`.
    """

    name: str
    elements: tuple[Element, ...]
    label: str = ""
    description: str = ""
    version: int = 1
    start: RecordTrigger | Autolaunched = field(default_factory=Autolaunched)
    variables: tuple[Variable, ...] = ()
    screens: tuple[Screen, ...] = ()
    first: str | None = None
    is_template: bool = False
    source_template: str | None = None
    kept: tuple[KeptPart, ...] = ()  # what an importer kept aside to write back (never run)

    def __post_init__(self) -> None:
        for name in ("elements", "variables", "screens", "kept"):
            _tuple(self, name)
        if self.first is None and self.elements:
            object.__setattr__(self, "first", self.elements[0].name)

    # Lookups. Definitions are small; a linear scan keeps the dataclass plain.
    def element(self, name: str) -> Element:
        for e in self.elements:
            if e.name == name:
                return e
        raise KeyError(f"orchestration {self.name!r} has no element {name!r}")

    @property
    def stages(self) -> tuple[Stage, ...]:
        return tuple(e for e in self.elements if isinstance(e, Stage))

    @property
    def decisions(self) -> tuple[Decision, ...]:
        return tuple(e for e in self.elements if isinstance(e, Decision))

    def steps(self) -> list[tuple[Stage, Step]]:
        return [(st, s) for st in self.stages for s in st.steps]

    def find_step(self, name: str) -> tuple[Stage, Step]:
        for st, s in self.steps():
            if s.name == name:
                return st, s
        raise KeyError(f"orchestration {self.name!r} has no step {name!r}")

    def screen(self, name: str) -> Screen:
        for s in self.screens:
            if s.name == name:
                return s
        raise KeyError(f"orchestration {self.name!r} has no screen {name!r}")

    def variable(self, name: str) -> Variable:
        for v in self.variables:
            if v.name == name:
                return v
        raise KeyError(f"orchestration {self.name!r} has no variable {name!r}")

    @property
    def display_label(self) -> str:
        return self.label or self.name

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None
    ) -> dict[str, Any]:  # pragma: no cover - thin
        from orchlab.render.jupyter import mimebundle

        return mimebundle(self, include, exclude)


def label_of(obj: Any) -> str:
    """The label shown to people: `label` when set, else the API name."""
    return getattr(obj, "label", "") or obj.name
