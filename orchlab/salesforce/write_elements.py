"""Writing the path's elements: stages and their steps, decisions, the start and variables.

Each element written is registered as an owner (`Writer.owners`) under the name its kept
parts carry ("stage:Review", "step:Approve/assignees", "outcome:Yes/conditions[1]"), so
`metadata_save` can put them back into it.
"""

from __future__ import annotations

from typing import Any

from orchlab.definition.conditions import Condition, Conditions, Operator
from orchlab.definition.model import (
    AfterSteps,
    AssigneeKind,
    Connector,
    Decision,
    End,
    EvaluationFlow,
    InteractiveStep,
    Orchestration,
    RecordTrigger,
    Requirements,
    Stage,
    Step,
    Variable,
)
from orchlab.definition.ref import RECORD, Ref
from orchlab.errors import MetadataError
from orchlab.salesforce.read_elements import CONTEXT_INPUT, REFERENCE_TYPE
from orchlab.salesforce.shape import EVALUATION_TYPE, STEP_TYPES
from orchlab.salesforce.values import OPERATORS, TYPE_NAMES, write_value
from orchlab.salesforce.xml_read import XNode
from orchlab.salesforce.xml_write import leaf, node

__all__ = ["Owner", "Writer", "label_text"]

_UNARY = frozenset({Operator.IS_NULL, Operator.IS_BLANK, Operator.IS_CHANGED, Operator.WAS_SET})
_TRIGGERS = {"create": "Create", "update": "Update", "create_or_update": "CreateAndUpdate"}
_ASSIGNEE_TYPES = {AssigneeKind.USER: "User", AssigneeKind.GROUP: "Group"}
_ASSIGNEE_TYPES |= {AssigneeKind.QUEUE: "Queue", AssigneeKind.REFERENCE: REFERENCE_TYPE}


class Owner:
    """An element written, with what kept parts need to be put back into it."""

    def __init__(self, xml: XNode, kind: str, model: Any = None) -> None:
        self.xml, self.kind, self.model = xml, kind, model


def label_text(obj: Any) -> str:
    """The label written: metadata requires one, so a blank label is written as the name."""
    return obj.label or obj.name


def _connector(tag: str, c: Connector | None, ends: set[str]) -> XNode | None:
    if c is None or c.target in ends:  # a connector to an End: metadata has none (the block)
        return None
    return node(tag, leaf("isGoTo", True) if c.goto else None, leaf("targetReference", c.target))


def _right(c: Condition) -> Any:
    return True if c.right is None and c.operator in _UNARY else c.right


def _condition(tag: str, c: Condition, where: str) -> XNode:
    return node(
        tag,
        leaf("leftValueReference", c.left.path),
        leaf("operator", OPERATORS[c.operator]),
        write_value("rightValue", _right(c), where),
    )


def _params(tag: str, pairs: Any, where: str) -> list[XNode]:
    return [
        node(tag, leaf("name", k), write_value("value", v, f"{where} input {k!r}"))
        for k, v in pairs
    ]


class Writer:
    """Builds the XML of an orchestration's parts, remembering each as an owner."""

    def __init__(self, orch: Orchestration) -> None:
        self.orch = orch
        self.ends = {e.name for e in orch.elements if isinstance(e, End)}
        self.owners: dict[str, Owner] = {}

    def own(self, owner: str, xml: XNode, kind: str, model: Any = None) -> XNode:
        self.owners[owner] = Owner(xml, kind, model)
        return xml

    def conditions(self, owner: str, prefix: str, block: Conditions, where: str) -> list[XNode]:
        """The logic and the conditions, each condition owned as "<owner>/<tag>[n]"."""
        logic = leaf(f"{prefix}ConditionLogic" if prefix else "conditionLogic", block.logic)
        tag = f"{prefix}Conditions" if prefix else "conditions"
        items = [
            self.own(f"{owner}/{tag}[{i}]", _condition(tag, c, f"{where} condition {i}"), "base")
            for i, c in enumerate(block.items, 1)
        ]
        return [logic, *items]

    def rule(self, owner: str, prefix: str, rule: Any, where: str) -> list[XNode]:
        """An entry or exit rule's elements; "and" logic alone for the defaults."""
        if isinstance(rule, Requirements):
            return self.conditions(owner, prefix, rule.conditions, f"{where} {prefix}")
        if isinstance(rule, AfterSteps):
            done = [Condition(Ref(f"{s}.Status"), Operator.EQUALS, "Completed") for s in rule.steps]
            return self.conditions(owner, prefix, Conditions(tuple(done)), f"{where} {prefix}")
        logic = leaf(f"{prefix}ConditionLogic", "and")
        if isinstance(rule, EvaluationFlow):
            params = _params(f"{prefix}ActionInputParameters", rule.inputs, where)
            name = leaf(f"{prefix}ActionName", rule.flow)
            return [*params, name, leaf(f"{prefix}ActionType", EVALUATION_TYPE), logic]
        return [logic]

    def step(self, step: Step) -> XNode:
        where = f"step {step.name!r}"
        action = step.flow if hasattr(step, "flow") else getattr(step, "action", None)
        action = step.screen if isinstance(step, InteractiveStep) else action
        xml = node(
            "stageSteps", leaf("name", step.name), leaf("actionName", action) if action else None,
            leaf("actionType", STEP_TYPES[type(step)]), leaf("label", label_text(step)),
        )  # fmt: skip
        if step.description:
            xml.children.append(leaf("description", step.description))
        xml.children += self.rule(f"step:{step.name}", "entry", step.entry, where)
        inputs = list(step.inputs)
        if isinstance(step, InteractiveStep):
            if step.assignee is not None:
                a = step.assignee
                value = Ref(a.name) if a.kind is AssigneeKind.REFERENCE else a.name
                assignees = node(
                    "assignees",
                    write_value("assignee", value, f"{where} assignee"),
                    leaf("assigneeType", _ASSIGNEE_TYPES[a.kind]),
                )
                xml.children.append(
                    self.own(f"step:{step.name}/assignees", assignees, "base", step)
                )
            if step.context_record is not None:
                inputs.insert(0, (CONTEXT_INPUT, step.context_record))
            xml.children += (
                self.rule(f"step:{step.name}", "exit", step.exit, where)
                if step.exit.kind != "form_submitted"
                else []
            )
        xml.children += _params("inputParameters", inputs, where)
        for out, variable in step.outputs:
            xml.children.append(
                node("outputParameters", leaf("assignToReference", variable), leaf("name", out))
            )
        return self.own(f"step:{step.name}", xml, "element", step)

    def stage(self, st: Stage) -> XNode:
        where = f"stage {st.name!r}"
        xml = node(
            "orchestratedStages", leaf("name", st.name), leaf("label", label_text(st)),
            leaf("locationX", 0), leaf("locationY", 0), _connector("connector", st.next, self.ends),
            _connector("faultConnector", st.on_fault, self.ends),
        )  # fmt: skip
        if st.description:
            xml.children.append(leaf("description", st.description))
        xml.children += self.rule(f"stage:{st.name}", "exit", st.exit, where)
        xml.children += [self.step(s) for s in st.steps]
        return self.own(f"stage:{st.name}", xml, "node", st)

    def decision(self, d: Decision) -> XNode:
        xml = node(
            "decisions", leaf("name", d.name), leaf("label", label_text(d)), leaf("locationX", 0),
            leaf("locationY", 0), _connector("defaultConnector", d.default, self.ends),
            leaf("defaultConnectorLabel", d.default_label),
        )  # fmt: skip
        if d.description:
            xml.children.append(leaf("description", d.description))
        for o in d.outcomes:
            rule = node("rules", leaf("name", o.name), leaf("label", label_text(o)))
            where = f"decision {d.name!r} outcome {o.name!r}"
            rule.children += self.conditions(f"outcome:{o.name}", "", o.conditions, where)
            connector = _connector("connector", o.next, self.ends)
            rule.children += [connector] if connector is not None else []
            xml.children.append(self.own(f"outcome:{o.name}", rule, "element", o))
        return self.own(f"decision:{d.name}", xml, "node", d)

    def start(self) -> XNode:
        orch, start = self.orch, self.orch.start
        first = None if orch.first in self.ends else orch.first
        xml = node(
            "start", leaf("locationX", 0), leaf("locationY", 0),
            _connector("connector", Connector(first), self.ends) if first else None,
        )  # fmt: skip
        if isinstance(start, RecordTrigger):
            xml.children += [
                leaf("object", start.object),
                leaf("recordTriggerType", _TRIGGERS[start.on.value]),
                leaf("triggerType", "RecordAfterSave"),
            ]
            if start.conditions is not None and start.conditions.items:
                xml.children.append(leaf("filterLogic", start.conditions.logic))
                xml.children += [
                    self.own(f"start/filters[{i}]", _filter(c, i), "base")
                    for i, c in enumerate(start.conditions.items, 1)
                ]
            if start.only_when_changed:
                xml.children.append(leaf("doesRequireRecordChangedToMeetCriteria", True))
        return self.own("start", xml, "node", start)

    def variable(self, v: Variable) -> XNode:
        xml = node(
            "variables", leaf("name", v.name), leaf("dataType", TYPE_NAMES[v.type]),
            leaf("isCollection", v.is_collection), leaf("isInput", v.is_input),
            leaf("isOutput", v.is_output),
        )  # fmt: skip
        if v.object is not None:
            xml.children.append(leaf("objectType", v.object))
        if v.description:
            xml.children.append(leaf("description", v.description))
        if v.default is not None and not isinstance(v.default, list | tuple | dict):
            xml.children.append(write_value("value", v.default, f"variable {v.name!r} default"))  # type: ignore[arg-type]
        return self.own(f"variable:{v.name}", xml, "element", v)


def _filter(c: Condition, number: int) -> XNode:
    prefix = f"{RECORD}."
    if not c.left.path.startswith(prefix) or c.left.path == prefix:
        raise MetadataError(
            f"start condition {number} ({c}): a start filter reads a field of the record; "
            f"expected a left side such as {RECORD}.Status"
        )
    return node(
        "filters",
        leaf("field", c.left.path[len(prefix) :]),
        leaf("operator", OPERATORS[c.operator]),
        write_value("value", _right(c), f"start condition {number}"),
    )
