"""The four reference processes have the shape the issue describes."""

from __future__ import annotations

from orchlab.definition.examples import (
    EXAMPLES,
    case_escalation,
    customer_qa_survey,
    employee_onboarding,
    loan,
)
from orchlab.definition.model import (
    AfterSteps,
    BackgroundStep,
    Decision,
    ExternalStep,
    InteractiveStep,
    OnStageStart,
    RecordTrigger,
    Stage,
)
from orchlab.definition.validate import Severity, validate


def test_every_example_is_valid() -> None:
    for make in EXAMPLES.values():
        assert [p for p in validate(make()) if p.severity is Severity.ERROR] == []


def test_customer_qa_survey() -> None:
    o = customer_qa_survey()
    (qa,) = o.stages
    kinds = {s.name: type(s) for s in qa.steps}
    assert kinds == {
        "Get_customer_email": BackgroundStep,
        "Notify_customer": BackgroundStep,
        "Roof_review": InteractiveStep,
        "Electro_review": InteractiveStep,
    }
    assert qa.step("Notify_customer").entry == AfterSteps(("Get_customer_email",))
    assert qa.step("Roof_review").entry == qa.step("Electro_review").entry == OnStageStart()


def test_case_escalation() -> None:
    o = case_escalation()
    assert isinstance(o.start, RecordTrigger) and o.start.object == "Case"
    assert o.start.on == "update" and o.start.only_when_changed
    assert [s.name for s in o.stages] == ["Triage", "Escalation", "Work", "Close"]
    work = o.element("Work")
    parallel = [s.name for s in work.steps if isinstance(s, InteractiveStep)]
    assert parallel == ["Engineering_fix", "CSM_outreach"]
    assert all(s.entry == OnStageStart() for s in work.steps)


def test_loan() -> None:
    o = loan()
    decision = o.element("Amount_decision")
    assert isinstance(decision, Decision)
    assert decision.outcomes[0].next.target == "Escalation"
    assert decision.default.target == "Approval"
    funding = o.element("Funding")
    assert isinstance(funding, Stage) and funding.on_fault.target == "Funding_recovery"
    assert isinstance(funding.steps[0], ExternalStep)


def test_employee_onboarding() -> None:
    o = employee_onboarding()
    queues = {s.assignee.name for _, s in o.steps() if isinstance(s, InteractiveStep)}
    assert queues == {"IT_Service_Desk", "People_Managers", "Facilities", "HR_Operations"}
    rejected = o.element("Paperwork_check").outcomes[0]
    assert rejected.next.target == "HR_Paperwork" and rejected.next.goto
