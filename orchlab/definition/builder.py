"""A builder that reads well in a notebook cell and returns plain model objects.

    >>> from orchlab.definition.builder import orchestration, stage, background
    >>> o = orchestration("Demo", stage("One", background("Hello", flow="say_hello")))
    >>> o.first, o.element("One").next is None
    ('One', True)

Elements given in order are connected one to the next; say `next="Name"` (with
`goto=True` for a Go To) or `next=None` (the path ends) to override. Elements off
the main path (fault paths, loop targets) go in `branches=[[...], ...]`, each list
connected the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from orchlab.definition.conditions import Condition, Conditions, all_of
from orchlab.definition.model import (
    AfterSteps,
    AllStepsComplete,
    Assignee,
    AssigneeKind,
    Autolaunched,
    BackgroundStep,
    Connector,
    Decision,
    Element,
    End,
    Entry,
    EvaluationFlow,
    ExternalStep,
    Field,
    FormSubmitted,
    InteractiveStep,
    Notification,
    OnStageStart,
    Orchestration,
    Outcome,
    RecordTrigger,
    Requirements,
    Screen,
    Stage,
    Step,
    TriggerEvent,
    Variable,
)
from orchlab.definition.ref import Ref, ref
from orchlab.definition.values import ValueType

__all__ = [
    "orchestration",
    "stage",
    "background",
    "interactive",
    "external",
    "decision",
    "outcome",
    "end",
    "user",
    "group",
    "queue",
    "assignee_from",
    "on_record",
    "autolaunched",
    "var",
    "screen",
    "evaluate",
    "ref",
    "from_template",
]

# Marks "connect to whatever follows in the list"; replaced in `orchestration()`.
_AUTO = Connector("$auto")

ConditionsLike = Conditions | Condition | Sequence[Any]


def _conditions(value: ConditionsLike) -> Conditions:
    if isinstance(value, Conditions):
        return value
    if isinstance(value, Condition):
        return all_of(value)
    if isinstance(value, tuple) and value and isinstance(value[0], str | Ref):
        return all_of(value)  # a single (left, op, right) tuple
    return all_of(*value)


def _rule(value: Any, default: Any) -> Any:
    """Entry/exit rule from friendly forms: None, conditions, or an EvaluationFlow."""
    if value is None:
        return default
    if isinstance(value, EvaluationFlow | Requirements | AfterSteps | OnStageStart):
        return value
    return Requirements(_conditions(value))


def _connector(next: str | Connector | None, goto: bool) -> Connector | None:
    if next is None or isinstance(next, Connector):
        return next
    return Connector(next, goto)


def _entry(after: str | Iterable[str] | None, when: Any) -> Entry:
    if after is not None and when is not None:
        raise ValueError("give a step either `after=` (steps it waits for) or `when=`, not both")
    if after is not None:
        return AfterSteps((after,) if isinstance(after, str) else tuple(after))
    return _rule(when, OnStageStart())


def _refs(mapping: Mapping[str, Any] | None) -> tuple[tuple[str, Any], ...]:
    return tuple((mapping or {}).items())


# --- start ----------------------------------------------------------------------------------------


def on_record(
    object: str,
    on: str | TriggerEvent = TriggerEvent.CREATE_OR_UPDATE,
    when: ConditionsLike | None = None,
    only_when_changed: bool = False,
) -> RecordTrigger:
    """Record-triggered start: `on` is "create", "update" or "create_or_update"."""
    return RecordTrigger(
        object, TriggerEvent(on), _conditions(when) if when is not None else None, only_when_changed
    )


def autolaunched() -> Autolaunched:
    return Autolaunched()


def var(
    name: str,
    type: ValueType | str = ValueType.TEXT,
    *,
    input: bool = False,
    output: bool = False,
    collection: bool = False,
    object: str | None = None,
    default: Any = None,
    description: str = "",
) -> Variable:
    return Variable(name, ValueType(type), collection, input, output, object, default, description)


# --- assignees -----------------------------------------------------------------------------------


def user(username: str) -> Assignee:
    return Assignee(AssigneeKind.USER, username)


def group(name: str) -> Assignee:
    return Assignee(AssigneeKind.GROUP, name)


def queue(name: str) -> Assignee:
    return Assignee(AssigneeKind.QUEUE, name)


def assignee_from(path: str) -> Assignee:
    """An assignee read at run time from a reference, e.g. `$Record.Owner`."""
    return Assignee(AssigneeKind.REFERENCE, ref(path).path)


# --- steps ---------------------------------------------------------------------------------------


def background(
    name: str,
    flow: str,
    *,
    label: str = "",
    inputs: Mapping[str, Any] | None = None,
    outputs: Mapping[str, str] | None = None,
    after: str | Iterable[str] | None = None,
    when: Any = None,
    description: str = "",
    asynchronous: bool = False,
) -> BackgroundStep:
    """A background step running `flow`; `asynchronous=True`: it finishes in a later call."""
    return BackgroundStep(
        name,
        flow,
        label,
        _entry(after, when),
        _refs(inputs),
        _refs(outputs),
        description,
        asynchronous,
    )


def interactive(
    name: str,
    screen: str,
    assignee: Assignee | None,
    *,
    label: str = "",
    inputs: Mapping[str, Any] | None = None,
    outputs: Mapping[str, str] | None = None,
    after: str | Iterable[str] | None = None,
    when: Any = None,
    done_when: Any = None,
    context: Any = None,
    notify: Notification | tuple[str, str] | str | None = None,
    description: str = "",
) -> InteractiveStep:
    """An interactive step; `context` is the record the work item is about (`$Record.Id`)."""
    if isinstance(notify, str):
        notify = Notification(notify)
    elif isinstance(notify, tuple):
        notify = Notification(*notify)
    if isinstance(context, str):
        context = ref(context)
    return InteractiveStep(
        name,
        screen,
        assignee,
        label,
        _entry(after, when),
        _rule(done_when, FormSubmitted()),
        _refs(inputs),
        _refs(outputs),
        context,
        notify,
        description,
    )


def external(
    name: str,
    action: str,
    *,
    label: str = "",
    inputs: Mapping[str, Any] | None = None,
    outputs: Mapping[str, str] | None = None,
    after: str | Iterable[str] | None = None,
    when: Any = None,
    timeout: float = 30.0,
    description: str = "",
    asynchronous: bool = False,
) -> ExternalStep:
    return ExternalStep(
        name,
        action,
        label,
        _entry(after, when),
        _refs(inputs),
        _refs(outputs),
        timeout,
        description,
        asynchronous,
    )


def evaluate(flow: str, **inputs: Any) -> EvaluationFlow:
    """An entry/exit rule decided by a registered evaluation flow."""
    return EvaluationFlow(flow, tuple(inputs.items()))


# --- elements ------------------------------------------------------------------------------------


def stage(
    name: str,
    *steps: Step,
    label: str = "",
    exit: Any = None,
    next: str | Connector | None = _AUTO,  # type: ignore[assignment]
    goto: bool = False,
    on_fault: str | Connector | None = None,
    description: str = "",
) -> Stage:
    """A stage; `exit` is None (all steps complete), conditions, or `evaluate(...)`."""
    return Stage(
        name,
        tuple(steps),
        label,
        _rule(exit, AllStepsComplete()),
        _connector(next, goto),
        _connector(on_fault, False),
        description,
    )


def outcome(
    name: str,
    when: ConditionsLike,
    to: str | None = None,
    *,
    goto: bool = False,
    label: str = "",
) -> Outcome:
    """A decision outcome: go `to` an element when `when` holds (`to=None` ends the run)."""
    return Outcome(name, _conditions(when), _connector(to, goto), label)


def decision(
    name: str,
    *outcomes: Outcome,
    default: str | Connector | None = _AUTO,  # type: ignore[assignment]
    default_label: str = "Default Outcome",
    label: str = "",
    description: str = "",
    default_goto: bool = False,
) -> Decision:
    """A decision: the first outcome whose conditions hold, else `default` (the next element
    when left out; None ends the path). `default_goto=True` (or `default=goto("X")`) makes the
    default a Go To connector, e.g. back to an earlier stage."""
    return Decision(
        name, tuple(outcomes), _connector(default, default_goto), default_label, label, description
    )


def goto(target: str) -> Connector:
    """A Go To connector to `target`, for `next=`, an outcome's `to` or a decision's default.

    >>> goto("Review")
    Connector(target='Review', goto=True)
    """
    return Connector(target, goto=True)


def end(name: str = "End", label: str = "") -> End:
    return End(name, label)


def screen(name: str, *fields: Field, label: str = "", description: str = "") -> Screen:
    return Screen(name, tuple(fields), label, description)


# --- the whole -----------------------------------------------------------------------------------


def _wire(chain: Sequence[Element]) -> list[Element]:
    wired: list[Element] = []
    for i, element in enumerate(chain):
        following = Connector(chain[i + 1].name) if i + 1 < len(chain) else None
        if isinstance(element, Stage) and element.next is _AUTO:
            element = replace(element, next=following)
        elif isinstance(element, Decision) and element.default is _AUTO:
            element = replace(element, default=following)
        wired.append(element)
    return wired


def orchestration(
    name: str,
    *path: Element,
    label: str = "",
    description: str = "",
    version: int = 1,
    start: RecordTrigger | Autolaunched | None = None,
    variables: Iterable[Variable] = (),
    screens: Iterable[Screen] = (),
    branches: Iterable[Sequence[Element]] = (),
    is_template: bool = False,
) -> Orchestration:
    """An orchestration whose main path is `path`, in order."""
    elements = _wire(path)
    for chain in branches:
        elements.extend(_wire(chain))
    return Orchestration(
        name=name,
        elements=tuple(elements),
        label=label,
        description=description,
        version=version,
        start=start or Autolaunched(),
        variables=tuple(variables),
        screens=tuple(screens),
        is_template=is_template,
    )


def from_template(template: Orchestration, name: str, *, label: str = "") -> Orchestration:
    """A new orchestration (version 1, not a template) copied from a template."""
    if not template.is_template:
        raise ValueError(
            f"orchestration {template.name!r}: field 'is_template' is false; "
            "expected a template (mark it with is_template=True)"
        )
    return replace(
        template,
        name=name,
        label=label or name,
        version=1,
        is_template=False,
        source_template=template.name,
    )
