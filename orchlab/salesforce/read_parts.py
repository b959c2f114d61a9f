"""Reading the small structures elements are made of: connectors, conditions, inputs, rules."""

from __future__ import annotations

from typing import Any

from orchlab.definition.conditions import Condition, Conditions, Operator
from orchlab.definition.model import Connector, EvaluationFlow, Requirements
from orchlab.salesforce.reader import Fields, Reader
from orchlab.salesforce.shape import EVALUATION_TYPE, EVALUATION_TYPES, LEGACY_ENTRY_TYPE
from orchlab.salesforce.values import Unmodelled, operator_of, read_value, reference
from orchlab.salesforce.xml_read import XNode

__all__ = [
    "NEAREST",
    "label_or_blank",
    "read_condition",
    "read_conditions",
    "read_connector",
    "read_inputs",
    "read_rule",
]

_UNARY = frozenset({Operator.IS_NULL, Operator.IS_BLANK, Operator.IS_CHANGED, Operator.WAS_SET})


def label_or_blank(label: str | None, name: str) -> str:
    """Metadata requires labels; one equal to the API name says nothing more, so it is ""."""
    return "" if label is None or label == name else label


def only(r: Reader, node: XNode, allowed: tuple[str, ...]) -> None:
    """Refuse children of a small structure that orchlab cannot model or keep apart."""
    for child in node.children:
        if child.tag not in allowed:
            expected = ", ".join(f"<{t}>" for t in allowed)
            raise r.fail(child, f"unexpected inside <{node.tag}>; expected {expected}")


def read_connector(r: Reader, node: XNode | None, owner: str) -> Connector | None:
    if node is None:
        return None
    only(r, node, ("targetReference", "isGoTo", "processMetadataValues"))
    target = node.first("targetReference")
    if target is None or not target.text.strip():
        raise r.fail(node, "has no <targetReference>; expected the name of the next element")
    goto = node.first("isGoTo")
    if goto is not None and goto.text.strip().lower() not in ("true", "false"):
        raise r.fail(goto, f"{goto.text!r} is not true or false")
    r.targets.append((target.text.strip(), target, owner))
    return Connector(target.text.strip(), goto is not None and goto.text.strip().lower() == "true")


# Salesforce operators read as the nearest orchlab one; the original is kept and written back.
NEAREST = {"isempty": (Operator.IS_BLANK, "IsEmpty")}  # an empty collection is blank


def read_condition(
    r: Reader, node: XNode, owner: str, left_tag: str = "leftValueReference"
) -> Condition:
    """One condition; `owner` names it for a kept part ("outcome:Yes/conditions[1]")."""
    only(r, node, (left_tag, "operator", "rightValue", "value", "processMetadataValues"))
    left_node, op_node = node.first(left_tag), node.first("operator")
    if left_node is None or op_node is None:
        raise r.fail(node, f"expected <{left_tag}> and <operator>")
    left = reference(left_node.text, left_node, r.source)
    nearest = NEAREST.get(op_node.text.strip().lower())
    if nearest is not None:
        operator = nearest[0]
        r.keep(owner, op_node, f"read as {operator.value}")
    else:
        operator = operator_of(op_node.text, op_node, r.source)
    container = node.first("rightValue") or node.first("value")
    try:
        right = read_value(container, r.source)
    except Unmodelled as problem:
        raise r.fail(node, f"the value <{problem.tag}> is not supported in conditions") from None
    if operator in _UNARY and right is True:
        right = None  # "IsNull true" is plain "is null" (writing gives true back)
    return Condition(left, operator, right)


def read_conditions(
    r: Reader, items: list[XNode], logic: XNode | None, owner: str, tag: str
) -> Conditions:
    found = tuple(read_condition(r, item, f"{owner}/{tag}[{i}]") for i, item in enumerate(items, 1))
    text = logic.text.strip() if logic is not None and logic.text.strip() else "and"
    return Conditions(found, text)


def read_inputs(r: Reader, params: list[XNode], owner: str) -> list[tuple[str, Any]]:
    """Input parameters as (name, value) pairs; one orchlab cannot pass is kept aside."""
    pairs: list[tuple[str, Any]] = []
    for param in params:
        name = param.value("name")
        if not name:
            raise r.fail(param, "has no <name>; expected the input's name")
        if any(c.tag not in ("name", "value") for c in param.children):
            r.keep(owner, param, "it holds more than a name and a value")
            continue
        if any(name == seen for seen, _ in pairs):
            r.keep(owner, param, f"a second value for input {name!r}")
            continue
        try:
            value = read_value(param.first("value"), r.source)
        except Unmodelled as problem:
            r.keep(owner, param, f"input {name!r} is a <{problem.tag}>; it is not passed")
            continue
        pairs.append((name, value))
    return pairs


def read_rule(r: Reader, f: Fields, prefix: str, default: Any) -> Any:
    """An entry or exit rule: requirements, an evaluation flow, or `default`."""
    owner = f.owner
    items = f.take_all(f"{prefix}Conditions")
    action = f.take(f"{prefix}ActionName")
    if items and action is not None:
        raise r.fail(action, f"both <{prefix}Conditions> and an evaluation flow; expected one")
    if action is not None:
        kind = f.take(f"{prefix}ActionType")
        allowed = (*EVALUATION_TYPES, LEGACY_ENTRY_TYPE) if prefix == "entry" else EVALUATION_TYPES
        if kind is not None and kind.text.strip() not in allowed:
            expected = " or ".join(allowed)
            raise r.fail(kind, f"{kind.text!r} is not an evaluation flow type; expected {expected}")
        if kind is not None and kind.text.strip() != EVALUATION_TYPE:
            r.keep(owner, kind, "read as an evaluation flow")  # legacy "flow", "EvaluationFlow"
        f.default(f"{prefix}ConditionLogic", "and")
        inputs = read_inputs(r, f.take_all(f"{prefix}ActionInputParameters"), owner)
        return EvaluationFlow(action.text.strip(), tuple(inputs))
    stray = f.take(f"{prefix}ActionType")
    if stray is not None:
        raise r.fail(stray, f"an evaluation flow type without <{prefix}ActionName>; expected both")
    if items:
        logic = f.take(f"{prefix}ConditionLogic")
        return Requirements(read_conditions(r, items, logic, owner, f"{prefix}Conditions"))
    f.default(f"{prefix}ConditionLogic", "and")
    return default
