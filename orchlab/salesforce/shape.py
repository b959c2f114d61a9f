"""What reading and writing agree on: defaults, step types, owners of kept parts, element order.

Reading keeps an element aside only when it differs from what writing would produce, and
writing puts kept parts back by these rules, so the two stay inverse to each other.
"""

from __future__ import annotations

from collections.abc import Sequence

from orchlab.definition.model import (
    BackgroundStep,
    Connector,
    Decision,
    Element,
    ExternalStep,
    InteractiveStep,
    Stage,
)

__all__ = [
    "BLOCK_NAME",
    "BUILDER_VALUES",
    "DEFAULT_API_VERSION",
    "DEFAULT_STATUS",
    "EVALUATION_TYPE",
    "ORCHESTRATION_TYPES",
    "SINGULAR",
    "STEP_TYPES",
    "connectors",
    "natural_order",
    "step_class",
    "subtype_class",
]

DEFAULT_API_VERSION = "62.0"
# Saved orchestrations are drafts: deploying one must not start runs in an org by surprise.
DEFAULT_STATUS = "Draft"
# Approval processes (API 62+) are orchestrations with approval steps; same XML shape.
ORCHESTRATION_TYPES = ("Orchestrator", "ApprovalWorkflow")
# What Flow Builder writes; saved files carry it so they open on the auto-layout canvas.
BUILDER_VALUES = (
    ("BuilderType", "LightningFlowBuilder"),
    ("CanvasMode", "AUTO_LAYOUT_CANVAS"),
    ("OriginBuilderType", "LightningFlowBuilder"),
)
# The processMetadataValues entry holding what orchlab models but metadata cannot say.
BLOCK_NAME = "orchlab"
# Real files write this spelling (the documentation says EvaluationFlow; both are read).
EVALUATION_TYPE = "evaluationFlow"
EVALUATION_TYPES = ("evaluationFlow", "EvaluationFlow")
LEGACY_ENTRY_TYPE = "flow"  # API 52.0 step entry evaluation flows

STEP_TYPES: dict[type, str] = {
    BackgroundStep: "stepBackground",
    InteractiveStep: "stepInteractive",
    ExternalStep: "stepMuleSoft",
}
_LEGACY_STEP_TYPES: dict[str, type] = {
    "createWorkItem": InteractiveStep,  # API 52.0 interactive steps
    "stepApproval": InteractiveStep,  # approval processes: a person approves or rejects
}

# Tags of which an element has at most one: a kept one replaces the one writing produces.
SINGULAR = frozenset(
    {
        "apiVersion",
        "status",
        "processType",
        "triggerType",
        "locationX",
        "locationY",
        "actionType",
        "entryActionType",
        "exitActionType",
        "entryConditionLogic",
        "exitConditionLogic",
        "conditionLogic",
        "dataType",
        "assigneeType",
        "stepSubtype",
        "operator",
    }
)


def step_class(action_type: str) -> type | None:
    """The step class for an `actionType`, or None when orchlab has none for it.

    Besides the three step types and the legacy ones, Salesforce's newer variants are named
    by what they do: `...StepBackground`, `stepAgxInteractive` and the like.
    """
    for cls, name in STEP_TYPES.items():
        if action_type == name:
            return cls
    if action_type in _LEGACY_STEP_TYPES:
        return _LEGACY_STEP_TYPES[action_type]
    if action_type.endswith("Background"):
        return BackgroundStep
    if action_type.endswith("Interactive"):
        return InteractiveStep
    return None


def subtype_class(subtype: str) -> type | None:
    """The step class a `stepSubtype` belongs to (None: one orchlab does not know)."""
    if subtype == "MuleSoftStep":
        return ExternalStep
    if subtype.endswith("BackgroundStep"):
        return BackgroundStep
    if subtype.endswith(("InteractiveStep", "ApprovalStep")):
        return InteractiveStep
    return None


def connectors(e: Element) -> list[tuple[str, Connector | None]]:
    """(key, connector) for each arrow leaving `e`, in the order paths are followed.

    Keys name the arrow in the orchlab block: "stage:X/next", "outcome:Y", "decision:D/default".
    """
    if isinstance(e, Stage):
        return [(f"stage:{e.name}/next", e.next), (f"stage:{e.name}/on_fault", e.on_fault)]
    if isinstance(e, Decision):
        outs: list[tuple[str, Connector | None]] = [
            (f"outcome:{o.name}", o.next) for o in e.outcomes
        ]
        return [*outs, (f"decision:{e.name}/default", e.default)]
    return []


def natural_order(first: str | None, elements: Sequence[Element]) -> list[str]:
    """Element names in path order: depth first from `first`, then the rest as given.

    This is the order a loaded orchestration gets (metadata groups decisions and stages
    apart); saving writes the order only when an orchestration's differs from it.
    """
    by_name = {e.name: e for e in elements}
    order: list[str] = []
    seen: set[str] = set()
    stack = [first] if first is not None else []
    while stack:  # iterative: a long chain of stages must not hit the recursion limit
        name = stack.pop()
        if name in seen or name not in by_name:
            continue
        seen.add(name)
        order.append(name)
        targets = [c.target for _, c in connectors(by_name[name]) if c is not None]
        stack.extend(reversed(targets))
    order += [e.name for e in elements if e.name not in seen]
    return order
