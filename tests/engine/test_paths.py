"""The four example processes, run along every path, with the exact log they leave."""

from __future__ import annotations

from decimal import Decimal

from orchlab import SYSTEM
from orchlab.engine import Engine, RunStatus

from .helpers import assert_golden, do, trace


def test_case_escalation_standard_path(engine: Engine, clock) -> None:
    rid = engine.create_record(
        "Case", {"Severity": "Low", "Amount": 400, "Owner": "dana"}, by=SYSTEM
    ).id
    assert engine.state.runs == {}  # created Low: the trigger waits for the update
    engine.update_record(rid, {"Severity": "High"}, by=SYSTEM)
    (run,) = engine.state.runs.values()
    do(engine, "Triage_review", {"priority": "P2"})
    clock.advance(hours=4)
    do(engine, "Engineering_fix", {"resolution": "patched"})
    do(engine, "CSM_outreach", {"resolution": "called"})
    do(engine, "Confirm_close", {"satisfied": True})
    assert run.status is RunStatus.COMPLETED
    assert run.path == ["Triage", "Amount_check", "Work", "Close"]
    assert trace(engine, run.id) == [
        "StartInstance InProgress",
        "StartStage Triage InProgress",
        "StartStep Triage/Score InProgress",
        "EndStep Triage/Score Completed",
        "StartStep Triage/Triage_review InProgress",
        "StartWorkItem Triage/Triage_review Assigned",
        "EndWorkItem Triage/Triage_review Completed by ada",
        "EndStep Triage/Triage_review Completed",
        "EndStage Triage Completed",
        "TakeOutcome default Completed",
        "StartStage Work InProgress",
        "StartStep Work/Engineering_fix InProgress",
        "StartWorkItem Work/Engineering_fix Assigned",
        "StartStep Work/CSM_outreach InProgress",
        "StartWorkItem Work/CSM_outreach Assigned",
        "StartStep Work/Notify InProgress",
        "EndStep Work/Notify Completed",
        "EndWorkItem Work/Engineering_fix Completed by bob",
        "EndStep Work/Engineering_fix Completed",
        "EndWorkItem Work/CSM_outreach Completed by cara",
        "EndStep Work/CSM_outreach Completed",
        "EndStage Work Completed",
        "StartStage Close InProgress",
        "StartStep Close/Confirm_close InProgress",
        "StartWorkItem Close/Confirm_close Assigned",
        "EndWorkItem Close/Confirm_close Completed by dana",
        "EndStep Close/Confirm_close Completed",
        "EndStage Close Completed",
        "EndInstance Completed",
    ]


def test_case_escalation_escalates_large_amounts(engine: Engine) -> None:
    rid = engine.create_record(
        "Case", {"Severity": "High", "Amount": 2400, "Owner": "ada"}, by=SYSTEM
    ).id
    assert engine.state.runs == {}  # on update only
    engine.update_record(
        rid, {"Amount": 2500}, by=SYSTEM
    )  # Severity was already High: not a change
    assert engine.state.runs == {}
    engine.update_record(rid, {"Severity": "Medium"}, by=SYSTEM)
    engine.update_record(rid, {"Severity": "High"}, by=SYSTEM)
    (run,) = engine.state.runs.values()
    do(engine, "Triage_review", {"priority": "P1"})
    assert run.stage.name == "Escalation"
    do(engine, "Escalation_review", {"approved": True})
    for step in ("Engineering_fix", "CSM_outreach"):
        do(engine, step, {"resolution": "ok"})
    do(engine, "Confirm_close")
    assert run.path == ["Triage", "Amount_check", "Escalation", "Work", "Close"]
    lines = trace(engine, run.id)
    assert "TakeOutcome Large_amount Completed" in lines
    assert lines[lines.index("TakeOutcome Large_amount Completed") + 1] == (
        "StartStage Escalation InProgress"
    )
    assert run.status is RunStatus.COMPLETED
    assert_golden(engine, run.id, "case_escalation_escalated")


def test_loan_standard_path_funds(engine: Engine) -> None:
    run = engine.start_run(
        "Loan", {"application_id": "A1", "applicant": "Kim", "amount": Decimal("20000")}, by=SYSTEM
    )
    do(engine, "Collect_documents", {"documents_complete": True, "income": "90000"})
    do(engine, "Approve_loan", {"approved": True})
    assert run.status is RunStatus.COMPLETED
    assert run.path == ["Intake", "Amount_decision", "Approval", "Approved_check", "Funding"]
    assert run.outputs["Disburse"] == {"transfer_id": "TX-KIM-20000"}
    assert trace(engine, run.id)[-8:] == [
        "TakeOutcome Approved Completed",
        "StartStage Funding InProgress",
        "StartStep Funding/Disburse InProgress",
        "EndStep Funding/Disburse Completed",
        "StartStep Funding/Welcome_letter InProgress",
        "EndStep Funding/Welcome_letter Completed",
        "EndStage Funding Completed",
        "EndInstance Completed",
    ]
    assert_golden(engine, run.id, "loan_funded")


def test_loan_escalation_branch(engine: Engine) -> None:
    run = engine.start_run(
        "Loan", {"application_id": "A2", "applicant": "Lee", "amount": Decimal("80000")}, by=SYSTEM
    )
    do(engine, "Collect_documents", {"documents_complete": True})
    assert run.stage.name == "Escalation"
    do(engine, "Senior_review", {"approved": True}, user="olivia")
    do(engine, "Approve_loan", {"approved": True})
    assert run.path == [
        "Intake",
        "Amount_decision",
        "Escalation",
        "Approval",
        "Approved_check",
        "Funding",
    ]
    assert run.status is RunStatus.COMPLETED
    assert_golden(engine, run.id, "loan_escalated")


def test_loan_declined_ends_at_decision_default(engine: Engine) -> None:
    run = engine.start_run(
        "Loan", {"application_id": "A3", "applicant": "Ngo", "amount": Decimal("100")}, by=SYSTEM
    )
    do(engine, "Collect_documents", {"documents_complete": True})
    do(engine, "Approve_loan", {"approved": False})
    assert run.path == ["Intake", "Amount_decision", "Approval", "Approved_check"]
    assert run.status is RunStatus.COMPLETED
    assert trace(engine, run.id)[-2:] == ["TakeOutcome default Completed", "EndInstance Completed"]
    assert_golden(engine, run.id, "loan_declined")


def test_loan_fault_path_on_funding(engine: Engine) -> None:
    run = engine.start_run(
        "Loan", {"application_id": "A4", "applicant": "Ortiz", "amount": Decimal("0")}, by=SYSTEM
    )
    do(engine, "Collect_documents", {"documents_complete": True})
    do(engine, "Approve_loan", {"approved": True})
    assert run.status is RunStatus.IN_PROGRESS
    assert run.stage.name == "Funding_recovery"
    lines = trace(engine, run.id)
    i = lines.index("StartStage Funding InProgress")
    assert lines[i : i + 6] == [
        "StartStage Funding InProgress",
        "StartStep Funding/Disburse InProgress",
        "FailStep Funding/Disburse Error",
        "FailStage Funding Error",
        "StartStage Funding_recovery InProgress",
        "StartStep Funding_recovery/Resolve_funding InProgress",
    ]
    error = engine.store.execute(
        "SELECT comments FROM log WHERE instance_id = ? AND kind = 'FailStep'", [run.id]
    )[0][0]
    assert "disburse_funds" in error and "cannot disburse" in error
    do(engine, "Resolve_funding", {"action": "Cancel"})
    assert run.status is RunStatus.COMPLETED  # the handled fault lets the run finish
    assert_golden(engine, run.id, "loan_fault_path")


def test_onboarding_loops_back_to_hr_when_rejected(engine: Engine) -> None:
    rid = engine.create_record("Employee__c", {"Name": "Ann"}, by=SYSTEM).id
    (run,) = engine.state.runs.values()
    assert {w.step_name for w in engine.work_items()} == {
        "Provision_accounts",
        "Assign_buddy",
        "Set_up_desk",
    }
    do(engine, "Provision_accounts", {"username": "ann"})
    do(engine, "Assign_buddy", {"buddy": "bob"})
    do(engine, "Set_up_desk", {"desk": "B-204"})
    do(engine, "Confirm_paperwork", {"status": "Rejected", "reason": "unsigned"})
    assert run.stage.name == "HR_Paperwork"  # the Go To loop took it back
    do(engine, "Confirm_paperwork", {"status": "Accepted"})
    assert run.status is RunStatus.COMPLETED
    assert run.path == [
        "Prepare",
        "HR_Paperwork",
        "Paperwork_check",
        "HR_Paperwork",
        "Paperwork_check",
        "Welcome",
    ]
    assert run.record_id == rid
    lines = trace(engine, run.id)
    assert lines.count("StartStage HR_Paperwork InProgress") == 2
    assert "TakeOutcome Rejected Completed" in lines
    assert_golden(engine, run.id, "onboarding_loop")


def test_customer_qa_survey_chained_and_parallel(engine: Engine) -> None:
    rid = engine.create_record(
        "Installation__c", {"Name": "Roof 7", "Status": "Scheduled"}, by=SYSTEM
    ).id
    engine.update_record(rid, {"Status": "Completed"}, by=SYSTEM)
    (run,) = engine.state.runs.values()
    lines = trace(engine, run.id)
    # The chained background steps ran in order; both reviews wait in parallel.
    assert lines.index("EndStep QA/Get_customer_email Completed") < lines.index(
        "StartStep QA/Notify_customer InProgress"
    )
    assert sorted(w.step_name for w in engine.work_items()) == ["Electro_review", "Roof_review"]
    assert run.outputs["Notify_customer"] == {"sent": True}
    do(engine, "Roof_review", {"passed": True})
    do(engine, "Electro_review", {"passed": True})
    assert run.status is RunStatus.COMPLETED
    subjects = [s for (s,) in engine.store.execute("SELECT subject FROM outbox ORDER BY seq")]
    assert subjects == ["Roof review for Roof 7", "Electro review for Roof 7"]
    assert_golden(engine, run.id, "customer_qa_survey")
