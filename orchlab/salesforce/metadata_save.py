"""Writing an `Orchestration` as orchestration metadata (`.flow-meta.xml`).

Elements are written in XSD order with Salesforce's layout; what the model holds goes into
its metadata fields, what only orchlab has into the orchlab block (see `block`), and the
parts kept aside when the file was read go back where they came from.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
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
from orchlab.salesforce.block import block_of, encode, file_order
from orchlab.salesforce.read_elements import CONTEXT_INPUT, NEAREST, REFERENCE_TYPE
from orchlab.salesforce.shape import (
    BLOCK_NAME,
    BUILDER_VALUES,
    DEFAULT_API_VERSION,
    DEFAULT_STATUS,
    EVALUATION_TYPE,
    SINGULAR,
    STEP_TYPES,
    step_class,
    subtype_class,
)
from orchlab.salesforce.values import OPERATORS, TYPE_NAMES, data_type, write_value
from orchlab.salesforce.xml_read import XNode
from orchlab.salesforce.xml_write import document, from_canonical, leaf, node, order_children

__all__ = ["dumps", "save", "to_tree"]

_UNARY = frozenset({Operator.IS_NULL, Operator.IS_BLANK, Operator.IS_CHANGED, Operator.WAS_SET})
_TRIGGERS = {"create": "Create", "update": "Update", "create_or_update": "CreateAndUpdate"}
_ASSIGNEE_TYPES = {AssigneeKind.USER: "User", AssigneeKind.GROUP: "Group"}
_ASSIGNEE_TYPES |= {AssigneeKind.QUEUE: "Queue", AssigneeKind.REFERENCE: REFERENCE_TYPE}
RESOURCES = ("formulas", "constants", "textTemplates")


class _Owner:
    """An element written, with what kept parts need to be put back into it."""

    def __init__(self, xml: XNode, kind: str, model: Any = None) -> None:
        self.xml, self.kind, self.model = xml, kind, model


def _label(obj: Any) -> str:
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


class _Writer:
    def __init__(self, orch: Orchestration) -> None:
        self.orch = orch
        self.ends = {e.name for e in orch.elements if isinstance(e, End)}
        self.owners: dict[str, _Owner] = {}

    def own(self, owner: str, xml: XNode, kind: str, model: Any = None) -> XNode:
        self.owners[owner] = _Owner(xml, kind, model)
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
            leaf("actionType", STEP_TYPES[type(step)]), leaf("label", _label(step)),
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
            "orchestratedStages", leaf("name", st.name), leaf("label", _label(st)),
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
            "decisions", leaf("name", d.name), leaf("label", _label(d)), leaf("locationX", 0),
            leaf("locationY", 0), _connector("defaultConnector", d.default, self.ends),
            leaf("defaultConnectorLabel", d.default_label),
        )  # fmt: skip
        if d.description:
            xml.children.append(leaf("description", d.description))
        for o in d.outcomes:
            rule = node("rules", leaf("name", o.name), leaf("label", _label(o)))
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


def _resource_names(orch: Orchestration) -> set[str]:
    """Variables standing in for kept formulas, constants and text templates."""
    names = set()
    for part in orch.kept:
        if part.owner == "" and part.text.startswith(tuple(f"<{t}>" for t in RESOURCES)):
            name = from_canonical(part.text).value("name")
            names.add((name or "").strip())
    return names


def _guard(owner: _Owner, kept: XNode) -> bool:
    """Whether a kept singular part still fits the element (the model may have changed)."""
    tag, text, model = kept.tag, kept.text.strip(), owner.model
    if tag == "actionType":
        return step_class(text) is type(model)
    if tag == "operator":  # an operator read as its nearest orchlab one
        nearest = NEAREST.get(text.lower())
        return nearest is not None and owner.xml.value("operator") == OPERATORS[nearest[0]]
    if tag == "stepSubtype":
        return subtype_class(text) in (None, type(model))
    if tag == "triggerType":
        return isinstance(model, RecordTrigger)
    if tag == "dataType":
        return data_type(text) == model.type
    if tag == "assigneeType":
        return model.assignee is not None and model.assignee.kind is AssigneeKind.REFERENCE
    if tag in ("entryActionType", "exitActionType"):
        return owner.xml.first(tag.replace("Type", "Name")) is not None
    if tag.endswith("ConditionLogic") or tag == "conditionLogic":
        return (
            owner.xml.first(
                tag.replace("ConditionLogic", "Conditions").replace("conditionLogic", "conditions")
            )
            is None
        )
    return True


def _put_back(writer: _Writer, orch: Orchestration) -> None:
    for part in orch.kept:
        owner = writer.owners.get(part.owner)
        if owner is None:
            continue  # its element is gone from the model
        kept = from_canonical(part.text, f"kept part of {part.owner or 'the orchestration'}")
        if kept.tag in SINGULAR:
            if not _guard(owner, kept):
                continue
            existing = owner.xml.first(kept.tag)
            if existing is not None:
                owner.xml.children[owner.xml.children.index(existing)] = kept
                continue
        owner.xml.children.append(kept)


def to_tree(
    orch: Orchestration, *, api_version: str | None = None, status: str | None = None
) -> XNode:
    """The `<Flow>` element for `orch` (see `dumps`)."""
    w = _Writer(orch)
    root = w.own("", node("Flow", leaf("apiVersion", DEFAULT_API_VERSION)), "flow", orch)
    for e in file_order(orch.elements):
        if isinstance(e, Decision):
            root.children.append(w.decision(e))
        elif isinstance(e, Stage):
            root.children.append(w.stage(e))
    if orch.description:
        root.children.append(leaf("description", orch.description))
    if orch.is_template:
        root.children.append(leaf("isTemplate", True))
    root.children += [leaf("label", _label(orch)), leaf("processType", "Orchestrator")]
    block = block_of(orch)
    kept_pmv = {
        from_canonical(p.text).value("name")
        for p in orch.kept
        if p.owner == "" and p.text.startswith("<processMetadataValues>")
    }
    pmvs = [(BLOCK_NAME, encode(block))] if block else []
    pmvs += [(k, v) for k, v in BUILDER_VALUES if k not in kept_pmv]
    for name, value in pmvs:
        root.children.append(
            node(
                "processMetadataValues",
                leaf("name", name),
                node("value", leaf("stringValue", value)),
            )
        )
    root.children += [w.start(), leaf("status", DEFAULT_STATUS)]
    stand_ins = _resource_names(orch)
    root.children += [w.variable(v) for v in orch.variables if v.name not in stand_ins]
    _put_back(w, orch)
    for found, value in (("apiVersion", api_version), ("status", status)):
        if value is not None:  # what the caller asks for wins over what the file said
            root.first(found).text = value  # type: ignore[union-attr]
    for owner in w.owners.values():
        order_children(owner.xml, owner.kind)
    return root


def dumps(orch: Orchestration, *, api_version: str | None = None, status: str | None = None) -> str:
    """The orchestration as `.flow-meta.xml` text.

    Args:
        api_version, status: written instead of the file's own (or the defaults, 62.0 and
            Draft, for an orchestration that was not read from a file).

    Raises:
        MetadataError: something metadata cannot hold, e.g. a start condition that does not
            read a field of the record, or text with characters XML cannot carry.
    """
    return document(to_tree(orch, api_version=api_version, status=status))


def save(
    orch: Orchestration,
    path: str | os.PathLike[str],
    *,
    api_version: str | None = None,
    status: str | None = None,
) -> Path:
    """Write `<name>.flow-meta.xml` (into `path` if it is a folder); replaced whole or not at all.

    Salesforce reads a flow's API name from its file name, so a file name must be the
    orchestration's name followed by `.flow-meta.xml` or `.flow`.
    """
    target = Path(path)
    if target.is_dir():
        target = target / f"{orch.name}.flow-meta.xml"
    stem = next(
        (target.name[: -len(s)] for s in (".flow-meta.xml", ".flow") if target.name.endswith(s)),
        None,
    )
    if stem is None:
        raise MetadataError(f"{target}: expected a file name ending in .flow-meta.xml or .flow")
    if stem != orch.name:
        raise MetadataError(
            f"{target}: Salesforce takes the API name from the file name, so it must be "
            f"{orch.name}{target.name[len(stem) :]!s} for orchestration {orch.name!r}"
        )
    text = dumps(orch, api_version=api_version, status=status)  # errors leave the file alone
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "x", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


_: Callable[..., Any] = save  # keeps the public signature visible to type checkers
