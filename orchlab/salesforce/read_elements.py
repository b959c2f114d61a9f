"""Reading the path's elements: stages and their steps (with assignees), decisions."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from orchlab.definition.conditions import Operator
from orchlab.definition.model import (
    AfterSteps,
    AllStepsComplete,
    Assignee,
    AssigneeKind,
    BackgroundStep,
    Decision,
    ExternalStep,
    FormSubmitted,
    InteractiveStep,
    OnStageStart,
    Outcome,
    Requirements,
    Stage,
    Step,
)
from orchlab.definition.ref import Ref
from orchlab.salesforce.read_parts import (
    label_or_blank,
    read_conditions,
    read_connector,
    read_inputs,
    read_rule,
)
from orchlab.salesforce.reader import Fields, Reader
from orchlab.salesforce.shape import (
    STEP_TYPES,
    step_class,
    subtype_class,
)
from orchlab.salesforce.values import Unmodelled, read_value
from orchlab.salesforce.xml_read import XNode
from orchlab.salesforce.xml_write import leaf

__all__ = ["CONTEXT_INPUT", "REFERENCE_TYPE", "read_decision", "read_stage"]

CONTEXT_INPUT = "ActionInput__RecordId"  # the record whose page shows the work item
_ASSIGNEE_KINDS = {"User": AssigneeKind.USER, "Group": AssigneeKind.GROUP}
_ASSIGNEE_KINDS |= {"Queue": AssigneeKind.QUEUE}
REFERENCE_TYPE = "User"  # the assigneeType written for a resource reference


def _after_steps(step: Step, siblings: set[str]) -> Step:
    """Salesforce stores "when step X is completed" as `X.Status = Completed`: read it so."""
    entry = step.entry
    if not isinstance(entry, Requirements) or entry.conditions.logic != "and":
        return step
    names: list[str] = []
    for c in entry.conditions.items:
        parts = c.left.parts
        ok = c.operator is Operator.EQUALS and c.right == "Completed" and len(parts) == 2
        if not (ok and parts[1] == "Status" and parts[0] in siblings - {step.name}):
            return step
        if parts[0] in names:
            return step
        names.append(parts[0])
    return replace(step, entry=AfterSteps(tuple(names)))


def read_assignee(r: Reader, f: Fields) -> Assignee | None:
    """The first `<assignees>`; further ones are kept aside (a work item has one)."""
    nodes = f.take_all("assignees")
    found = _assignee(r, f.owner, nodes[0]) if nodes else None
    for extra in nodes[1:]:  # after the first, so kept parts stay in file order
        r.keep(f.owner, extra, "orchlab gives a work item one assignee: the first")
    return found


def _assignee(r: Reader, owner: str, node: XNode) -> Assignee | None:
    kind_node, value_node = node.first("assigneeType"), node.first("assignee")
    kind = kind_node.text.strip() if kind_node is not None else ""
    if any(c.tag not in ("assignee", "assigneeType") for c in node.children):
        r.keep(owner, node, "an assignee with more than a value and a type")
        return None
    try:
        value = read_value(value_node, r.source)
    except Unmodelled as problem:
        r.keep(owner, node, f"the assignee is a <{problem.tag}>")
        return None
    if isinstance(value, Ref):
        if kind != REFERENCE_TYPE:  # the engine looks the name up; the type is written back
            r.keep(f"{owner}/assignees", leaf("assigneeType", kind))
        return Assignee(AssigneeKind.REFERENCE, value.path)
    if isinstance(value, str) and kind in _ASSIGNEE_KINDS:
        if value != value.strip():
            # No username, group or queue name has them (the org matched it trimmed): an
            # assignee kept with a tab could never be added to a directory nor acted on.
            r.warn(owner, value_node or node, f"{value!r} has spaces around it; trimmed")
            value = value.strip()
        return Assignee(_ASSIGNEE_KINDS[kind], value)
    r.keep(owner, node, f"an assignee of type {kind or 'none'!r} with value {value!r}")
    return None


def read_step(r: Reader, node: XNode) -> Step:
    f = Fields(r, node, "")
    name = f.required("name")
    f.owner = owner = f"step:{name}"
    action_node = f.take("actionType")
    if action_node is None:
        raise r.fail(node, "has no <actionType>; expected stepBackground, stepInteractive, ...")
    action_type = action_node.text.strip()
    cls = step_class(action_type)
    if cls is None:
        known = "stepBackground, stepInteractive, stepMuleSoft, stepApproval or createWorkItem"
        raise r.fail(action_node, f"unknown step type {action_type!r}; expected {known}")
    if action_type != STEP_TYPES[cls]:  # e.g. legacy createWorkItem, written back as it was
        r.keep(owner, action_node, f"read as {STEP_TYPES[cls]}")
    subtype = f.peek("stepSubtype")
    if subtype is not None and subtype_class(subtype.strip()) not in (None, cls):
        message = f"stepSubtype {subtype.strip()!r} does not fit actionType {action_type!r}"
        raise r.fail(node, message, f"<stageSteps> {name!r}")
    action = (f.text("actionName") or "").strip()
    if not action:  # a draft's step may call nothing yet: validation reports it
        r.warn(owner, node, "the step calls no flow yet", "<actionName>")
    label = label_or_blank(f.text("label"), name)
    description = f.text("description") or ""
    entry = read_rule(r, f, "entry", OnStageStart())
    inputs = read_inputs(r, f.take_all("inputParameters"), owner)
    outputs = _outputs(r, f)
    common: dict[str, Any] = {"name": name, "label": label, "entry": entry}
    common |= {"outputs": tuple(outputs), "description": description}
    why: dict[str, str] = {}
    async_node = f.take("requiresAsyncProcessing")
    if async_node is not None:  # "true" makes Salesforce run the step asynchronously
        shown = async_node.text.strip().lower() == "true"
        r.keep(owner, async_node, "orchlab runs background steps within the engine call" * shown)
    if cls is InteractiveStep:
        assignee = read_assignee(r, f)
        exit_ = read_rule(r, f, "exit", FormSubmitted())
        context = None
        for i, (key, value) in enumerate(inputs):
            if key == CONTEXT_INPUT and value is not None:
                context = inputs.pop(i)[1]
                break
        step: Step = InteractiveStep(
            screen=action, assignee=assignee, exit=exit_, context_record=context,
            inputs=tuple(inputs), **common,
        )  # fmt: skip
    else:
        why |= {"assignees": "only interactive steps have assignees"}
        for prefix in ("exitConditions", "exitActionName", "exitActionInputParameters"):
            why[prefix] = "only interactive steps have exit rules"
        if cls is ExternalStep:
            step = ExternalStep(action=action, inputs=tuple(inputs), **common)
        else:
            step = BackgroundStep(flow=action, inputs=tuple(inputs), **common)
    f.keep_rest(why)
    return step


def _outputs(r: Reader, f: Fields) -> list[tuple[str, str]]:
    pairs = []
    for param in f.take_all("outputParameters"):
        name, target = param.value("name"), param.value("assignToReference")
        if not name or not target or len(param.children) != 2:
            r.keep(f.owner, param, "an output parameter without a name and assignToReference")
            continue
        pairs.append((name, target.strip()))
    return pairs


def read_stage(r: Reader, node: XNode) -> Stage:
    f = Fields(r, node, "")
    name = f.required("name")
    f.owner = f"stage:{name}"
    label = label_or_blank(f.text("label"), name)
    description = f.text("description") or ""
    following = read_connector(r, f.take("connector"), f"stage {name!r}")
    fault = read_connector(r, f.take("faultConnector"), f"stage {name!r} fault path")
    exit_ = read_rule(r, f, "exit", AllStepsComplete())
    steps = [read_step(r, s) for s in f.take_all("stageSteps")]
    siblings = {s.name for s in steps}
    steps = [_after_steps(s, siblings) for s in steps]
    f.default("locationX", "0")
    f.default("locationY", "0")
    f.keep_rest({"runAsUser": "background steps run as the engine's automated process"})
    return Stage(name, tuple(steps), label, exit_, following, fault, description)


def read_decision(r: Reader, node: XNode) -> Decision:
    f = Fields(r, node, "")
    name = f.required("name")
    f.owner = f"decision:{name}"
    label = label_or_blank(f.text("label"), name)
    description = f.text("description") or ""
    default = read_connector(r, f.take("defaultConnector"), f"decision {name!r} default outcome")
    default_label = f.text("defaultConnectorLabel")
    outcomes = [_outcome(r, rule, name) for rule in f.take_all("rules")]
    f.default("locationX", "0")
    f.default("locationY", "0")
    f.keep_rest()
    shown = default_label if default_label is not None else "Default Outcome"
    return Decision(name, tuple(outcomes), default, shown, label, description)


def _outcome(r: Reader, node: XNode, decision: str) -> Outcome:
    f = Fields(r, node, "")
    name = f.required("name")
    f.owner = f"outcome:{name}"
    label = label_or_blank(f.text("label"), name)
    items = f.take_all("conditions")
    conditions = read_conditions(r, items, f.take("conditionLogic"), f.owner, "conditions")
    following = read_connector(r, f.take("connector"), f"decision {decision!r} outcome {name!r}")
    f.keep_rest(
        {
            "doesRequireRecordChangedToMeetCriteria": "outcomes are checked on their conditions",
            "description": "outcomes have no description in orchlab",
        }
    )
    return Outcome(name, conditions, following, label)
