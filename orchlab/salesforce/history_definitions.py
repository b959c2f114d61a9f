"""The orchestrations a run history implies, when no metadata comes with it.

Runs name their orchestration; stage runs their stages (and positions); step runs their
steps and types; work items the screen flows and assignees. From these, one orchestration
per name: stages in position order, each leading to the next (the history does not say
which decisions or Go To connectors chose the path), steps of the type they ran as.
What a definition holds beyond that (entry and exit rules, inputs) is not in the history.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from orchlab.definition.model import (
    Assignee,
    AssigneeKind,
    BackgroundStep,
    Connector,
    ExternalStep,
    InteractiveStep,
    Orchestration,
    Stage,
    Step,
)
from orchlab.salesforce.history_events import STEP_TYPES
from orchlab.salesforce.history_fields import INSTANCE, LOG, STAGE, STEP, WORK_ITEM
from orchlab.salesforce.history_records import Typed

__all__ = ["implied_orchestrations"]

_KINDS = {"User": AssigneeKind.USER, "Group": AssigneeKind.GROUP, "Queue": AssigneeKind.QUEUE}


def implied_orchestrations(typed: dict[str, list[Typed]]) -> list[Orchestration]:
    run_orch = {
        t.get("Id"): t.get("OrchestrationDeveloperName") or t.get("OrchestrationName")
        for t in typed.get(INSTANCE, [])
    }
    # orchestration -> stage -> (position, label); stage -> step -> facts
    stages: dict[str, dict[str, list[Any]]] = defaultdict(dict)
    steps: dict[tuple[str, str], dict[str, dict[str, Any]]] = defaultdict(dict)
    stage_of: dict[str, tuple[str, str]] = {}
    for t in typed.get(STAGE, []):
        orch = run_orch.get(t.get("OrchestrationInstanceId")) or t.get("OrchestrationName")
        if not orch or not t.get("Name"):
            continue
        stage_of[t.get("Id")] = (orch, t.get("Name"))
        found = stages[orch].setdefault(t.get("Name"), [t.get("Position"), t.get("Label")])
        if found[0] is None:
            found[0] = t.get("Position")
    step_of: dict[str, dict[str, Any]] = {}
    for t in typed.get(STEP, []):
        where = stage_of.get(t.get("StageInstanceId"))
        if where is None or not t.get("Name"):
            continue
        facts = steps[where].setdefault(
            t.get("Name"), {"label": t.get("Label"), "type": STEP_TYPES.get(t.get("StepType"))}
        )
        step_of[t.get("Id")] = facts
    for t in typed.get(WORK_ITEM, []):
        facts = step_of.get(t.get("StepInstanceId"))
        if facts is not None:
            facts.setdefault("screen", t.get("ScreenFlow"))
            facts.setdefault("assignee", (t.get("Assignee.Type"), t.get("Assignee.Name")))
            facts["type"] = "InteractiveStep"
    for t in typed.get(LOG, []):  # a run log alone still names stages and steps
        orch, stage = t.get("OrchestrationName"), t.get("StageName")
        if orch and stage:
            stages[orch].setdefault(stage, [None, None])
            if t.get("StepName"):
                facts = steps[(orch, stage)].setdefault(t.get("StepName"), {"label": None})
                if "WorkItem" in t.get("Kind"):
                    facts["type"] = "InteractiveStep"
    out = []
    for orch, found in sorted(stages.items()):
        order = sorted(found, key=lambda s: (found[s][0] is None, found[s][0] or 0, s))
        elements = []
        for i, name in enumerate(order):
            nxt = Connector(order[i + 1]) if i + 1 < len(order) else None
            made = tuple(_step(n, f) for n, f in steps[(orch, name)].items())
            elements.append(Stage(name, made, label=found[name][1] or "", next=nxt))
        out.append(Orchestration(orch, tuple(elements), label=orch))
    return out


def _step(name: str, facts: dict[str, Any]) -> Step:
    label = facts.get("label") or ""
    kind = facts.get("type")
    if kind == "InteractiveStep":
        type_, who = facts.get("assignee") or (None, None)
        assignee = Assignee(_KINDS[type_], who) if who and type_ in _KINDS else None
        return InteractiveStep(name, facts.get("screen") or name, assignee, label=label)
    if kind == "ExternalStep":
        return ExternalStep(name, name, label=label)
    return BackgroundStep(name, name, label=label)


def differences(given: list[Orchestration], implied: list[Orchestration]) -> list[str]:
    """What the history names that the given definitions lack (another version, or the
    wrong file): one note each, for the import report."""
    notes = []
    by_name = {o.name: o for o in given}
    for seen in implied:
        orch = by_name.get(seen.name)
        if orch is None:
            known = ", ".join(sorted(by_name)) or "none"
            notes.append(f"runs of {seen.name!r}: no definition of it was given (given: {known})")
            continue
        stages = {s.name: {step.name for step in s.steps} for s in orch.stages}
        for stage in seen.stages:
            if stage.name not in stages:
                notes.append(
                    f"{seen.name}: stage {stage.name!r} is in the history but not in the "
                    "definition given (another version?)"
                )
                continue
            for step in stage.steps:
                if step.name not in stages[stage.name]:
                    notes.append(
                        f"{seen.name}: step {step.name!r} of stage {stage.name!r} is in the "
                        "history but not in the definition given (another version?)"
                    )
    return notes
