"""The builder: connections by order, branches, templates, friendly forms."""

from __future__ import annotations

import pytest

from orchlab.definition import builder as b
from orchlab.definition.conditions import Conditions
from orchlab.definition.model import (
    AfterSteps,
    AllStepsComplete,
    Connector,
    EvaluationFlow,
    OnStageStart,
    Requirements,
)


def test_elements_connect_in_order_and_the_last_ends() -> None:
    o = b.orchestration(
        "P",
        b.stage("A", b.background("X", "f")),
        b.decision("D", b.outcome("Big", [("amount", ">", 5)], "C")),
        b.stage("B", b.background("Y", "f")),
        b.stage("C", b.background("Z", "f"), next=None),
        variables=[b.var("amount", "number", input=True)],
    )
    assert o.first == "A"
    assert o.element("A").next == Connector("D")
    assert o.element("D").default == Connector("B")  # the default falls through to what follows
    assert o.element("D").outcomes[0].next == Connector("C")
    assert o.element("B").next == Connector("C")
    assert o.element("C").next is None


def test_branches_are_wired_separately() -> None:
    o = b.orchestration(
        "P",
        b.stage("Main", b.background("X", "f"), on_fault="Fix"),
        branches=[
            [b.stage("Fix", b.background("Y", "f")), b.stage("Fix2", b.background("Z", "f"))]
        ],
    )
    assert o.element("Main").next is None and o.element("Main").on_fault == Connector("Fix")
    assert o.element("Fix").next == Connector("Fix2") and o.element("Fix2").next is None


def test_entry_and_exit_rules_from_friendly_forms() -> None:
    chained = b.background("B", "f", after="A")
    assert chained.entry == AfterSteps(("A",))
    gated = b.background("C", "f", when=[("A.Status", "equals", "Completed")])
    assert isinstance(gated.entry, Requirements) and isinstance(gated.entry.conditions, Conditions)
    assert b.background("D", "f").entry == OnStageStart()
    evaluated = b.stage("S", exit=b.evaluate("ready", amount=b.ref("amount")))
    assert evaluated.exit == EvaluationFlow("ready", (("amount", b.ref("amount")),))
    assert b.stage("T").exit == AllStepsComplete()
    with pytest.raises(ValueError, match="either `after=`"):
        b.background("E", "f", after="A", when=[("x", "is_null")])


def test_goto_connectors_and_assignees() -> None:
    s = b.stage("Again", next="Start", goto=True)
    assert s.next == Connector("Start", goto=True)
    step = b.interactive("R", "form", b.assignee_from("{!$Record.OwnerId}"), context="$Record.Id")
    assert str(step.assignee) == "reference:$Record.OwnerId"
    assert step.context_record == b.ref("$Record.Id")


def test_templates_make_new_orchestrations() -> None:
    template = b.orchestration("Approval_Template", b.stage("Review"), is_template=True)
    made = b.from_template(template, "Contract_Approval", label="Contract approval")
    assert (made.name, made.version, made.is_template, made.source_template) == (
        "Contract_Approval",
        1,
        False,
        "Approval_Template",
    )
    assert made.elements == template.elements
    with pytest.raises(ValueError, match="field 'is_template' is false; expected a template"):
        b.from_template(made, "Other")
