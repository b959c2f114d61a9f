"""Who may act on work items, forms, routing, reassignment and admin actions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from orchlab import SYSTEM
from orchlab.engine import (
    Engine,
    EngineError,
    PermissionDenied,
    RunStatus,
    Status,
    WorkItemClosed,
)
from orchlab.people.forms import FormInvalid

from .helpers import do, trace


def _loan(engine: Engine, amount: str = "100"):
    return engine.start_run(
        "Loan", {"application_id": "A", "applicant": "Kim", "amount": Decimal(amount)}, by=SYSTEM
    )


def _log_count(engine: Engine) -> int:
    return engine.store.execute("SELECT count(*) FROM log")[0][0]


def test_only_assignees_members_or_admins_may_complete(engine: Engine) -> None:
    run = _loan(engine)
    (item,) = engine.work_items()  # queue Loan_Officers: sam, wes
    before = _log_count(engine)
    with pytest.raises(PermissionDenied, match="'bob' may not complete work item"):
        engine.complete_work_item(item.id, "bob", {"documents_complete": True})
    with pytest.raises(PermissionDenied, match="not in the directory"):
        engine.complete_work_item(item.id, "mallory", {"documents_complete": True})
    assert _log_count(engine) == before and item.status == "Assigned"
    engine.complete_work_item(item.id, "wes", {"documents_complete": True})
    assert run.stage.name == "Approval"


def test_an_admin_may_complete_anything(engine: Engine) -> None:
    _loan(engine)
    (item,) = engine.work_items()
    engine.complete_work_item(item.id, "olivia", {"documents_complete": True})
    assert item.completed_by == "olivia"


def test_a_queue_item_is_completed_once(engine: Engine) -> None:
    _loan(engine)
    (item,) = engine.work_items()
    engine.complete_work_item(item.id, "sam", {"documents_complete": True})
    before = _log_count(engine)
    with pytest.raises(WorkItemClosed, match="already Completed \\(by sam"):
        engine.complete_work_item(item.id, "wes", {"documents_complete": True})
    assert _log_count(engine) == before


def test_bad_form_values_name_each_field_and_store_nothing(engine: Engine) -> None:
    run = _loan(engine)
    (item,) = engine.work_items()
    before = _log_count(engine)
    with pytest.raises(FormInvalid) as err:
        engine.complete_work_item(item.id, "sam", {"income": "-5", "colour": "red"})
    assert err.value.errors == {
        "colour": "screen 'documents_form' has no such field; expected one of "
        "['documents_complete', 'income']",
        "documents_complete": "All documents received must be checked",
        "income": "must be at least 0, got -5",
    }
    assert _log_count(engine) == before
    assert item.status == "Assigned" and run.stage.name == "Intake"


def test_round_robin_and_least_open_routing(engine: Engine) -> None:
    owners = []
    for _ in range(3):
        rid = engine.create_record(
            "Case", {"Severity": "Low", "Amount": 10, "Owner": "ada"}, by=SYSTEM
        ).id
        engine.update_record(rid, {"Severity": "High"}, by=SYSTEM)
        do(engine, "Triage_review", {"priority": "P3"})
    owners = [w.owner for w in engine.work_items() if w.step_name == "Engineering_fix"]
    assert owners == ["bob", "vic", "bob"]  # Engineering routes round robin
    # Underwriting routes to the member with the fewest open items.
    for _ in range(3):
        _loan(engine)
    for item in [w for w in engine.work_items() if w.step_name == "Collect_documents"]:
        engine.complete_work_item(item.id, "sam", {"documents_complete": True})
    approvals = [w.owner for w in engine.work_items() if w.step_name == "Approve_loan"]
    assert approvals == ["uma", "wes", "uma"]
    with pytest.raises(PermissionDenied, match="routed to 'uma'"):
        first = next(w for w in engine.work_items() if w.step_name == "Approve_loan")
        engine.complete_work_item(first.id, "wes", {"approved": True})


def test_reassign_notifies_and_moves_the_item(engine: Engine) -> None:
    run = _loan(engine)
    (item,) = engine.work_items()
    with pytest.raises(PermissionDenied, match="may not reassign work items: only admins may"):
        engine.reassign_work_item(item.id, "bob", by="sam")
    engine.reassign_work_item(item.id, "bob", by="olivia")
    assert item.assignee == "bob" and item.assignee_type == "User"
    assert [w.id for w in engine.work_items("bob")] == [item.id]
    assert engine.work_items("sam") == []
    outbox = engine.store.execute('SELECT "to" FROM outbox ORDER BY seq')
    assert outbox[-1] == ('["bob@example.com"]',)
    assert "ReassignWorkItem Intake/Collect_documents Assigned by olivia" in trace(engine, run.id)
    engine.complete_work_item(item.id, "bob", {"documents_complete": True})
    assert run.stage.name == "Approval"


def test_cancel_closes_items_and_logs_who(engine: Engine) -> None:
    run = _loan(engine)
    (item,) = engine.work_items()
    with pytest.raises(PermissionDenied):
        engine.cancel_run(run.id, by="sam")
    engine.cancel_run(run.id, by="olivia")
    assert run.status is RunStatus.CANCELED and item.status == "Completed"
    assert engine.work_items() == []
    assert trace(engine, run.id)[-3:] == [
        "EndWorkItem Intake/Collect_documents Completed",
        "DiscontinueStep Intake/Collect_documents Canceled",
        "CancelInstance Intake Canceled",
    ]
    with pytest.raises(WorkItemClosed):
        engine.complete_work_item(item.id, "sam", {"documents_complete": True})


def test_suspend_holds_new_steps_until_resume(engine: Engine) -> None:
    run = _loan(engine)
    engine.suspend_run(run.id, by="olivia")
    do(engine, "Collect_documents", {"documents_complete": True})
    assert run.status is RunStatus.SUSPENDED and engine.work_items() == []
    engine.resume_run(run.id, by="olivia")
    assert run.status is RunStatus.IN_PROGRESS
    assert [w.step_name for w in engine.work_items()] == ["Approve_loan"]
    with pytest.raises(EngineError, match="only Suspended or Error runs"):
        engine.resume_run(run.id, by="olivia")


def test_an_errored_run_resumes_after_a_fix(engine: Engine) -> None:
    from orchlab.definition.registry import registry

    calls = {"n": 0}
    original = registry.get("check_credit")

    def flaky(applicant: str) -> dict[str, float]:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("bureau down")
        return {"credit_score": 700.0}

    registry.add(
        "check_credit", flaky, "flow", inputs={"applicant": str}, outputs={"credit_score": float}
    )
    try:
        run = _loan(engine)
        assert run.status is RunStatus.ERROR  # Intake has no fault path
        assert "bureau down" in (run.error or "")
        step = run.stage.steps["Check_credit"]
        assert step.status is Status.ERROR
        # It failed before its sibling started: NotStarted steps stay NotStarted.
        assert run.stage.steps["Collect_documents"].status is Status.NOT_STARTED
        engine.resume_run(run.id, by="olivia")
        assert run.status is RunStatus.IN_PROGRESS
        assert run.outputs["Check_credit"] == {"credit_score": 700.0}
        (item,) = engine.work_items()
        assert item.id == f"{run.id}-W1" and item.step_name == "Collect_documents"
        assert trace(engine, run.id)[2:6] == [
            "StartStep Intake/Check_credit InProgress",
            "FailStep Intake/Check_credit Error",
            "FailStage Intake Error",
            "FailInstance Error",
        ]
    finally:
        registry.add(
            "check_credit",
            original.fn,
            "flow",
            inputs={"applicant": str},
            outputs={"credit_score": float},
        )


def test_publish_event_rechecks_requirements(engine: Engine, clock) -> None:
    from orchlab.definition import builder as b
    from orchlab.definition.registry import Registry

    reg = Registry()
    flag = {"ready": False}
    reg.evaluation("is_ready")(lambda: flag["ready"])
    orch = b.orchestration(
        "Wait_for_partner",
        b.stage("Wait", b.interactive("Review", "s", b.user("ada")), exit=b.evaluate("is_ready")),
        screens=[b.screen("s")],
    )
    eng = Engine(engine.store, registry=reg, clock=clock)
    eng.deploy(orch, by=SYSTEM)
    run = eng.start_run("Wait_for_partner", by=SYSTEM)
    eng.publish_event(run.id, by=SYSTEM)
    assert run.status is RunStatus.IN_PROGRESS
    flag["ready"] = True
    eng.publish_event(run.id, by=SYSTEM)
    assert run.status is RunStatus.COMPLETED
    lines = trace(eng, run.id)
    assert lines[-6:] == [
        "PublishEvent",
        "PublishEvent",
        "EndWorkItem Wait/Review Completed",
        "DiscontinueStep Wait/Review Discontinued",
        "EndStage Wait Completed",
        "EndInstance Completed",
    ]


def test_go_to_loop_guard_names_the_loop(engine: Engine, clock) -> None:
    eng = Engine(engine.store, clock=clock, max_visits=3)
    rid = eng.create_record("Employee__c", {"Name": "Bo"}, by=SYSTEM).id
    (r,) = [x for x in eng.state.runs.values() if x.record_id == rid]
    do(eng, "Provision_accounts", {"username": "bo"})
    do(eng, "Assign_buddy", {"buddy": "ada"})
    do(eng, "Set_up_desk", {"desk": "A-100"})
    for _ in range(3):  # HR rejects every time
        do(eng, "Confirm_paperwork", {"status": "Rejected"})
    assert r.status is RunStatus.ERROR
    assert "Go To loop stopped: element 'HR_Paperwork' was entered 3 times" in r.error


def test_closed_runs_leave_memory_but_not_the_history(engine: Engine) -> None:
    run = _loan(engine)
    do(engine, "Collect_documents", {"documents_complete": True})
    (approval,) = engine.work_items()
    engine.complete_work_item(approval.id, "uma", {"approved": False})
    assert run.status is RunStatus.COMPLETED
    assert run.id not in engine.state.runs and engine.work_items() == []
    assert engine.run_status(run.id) == "Completed"
    with pytest.raises(WorkItemClosed, match=r"is Completed \(by uma at .*\); its run is closed"):
        engine.complete_work_item(approval.id, "uma", {"approved": True})
    closed = engine.run(run.id)  # rebuilt from the history, for its picture and state
    assert closed is not run and closed.status == "Completed" and closed.path == run.path
    assert [s.status for s in closed.latest.values()] == [s.status for s in run.latest.values()]
    assert run.id not in engine.state.runs  # reading it did not bring it back into memory
    with pytest.raises(EngineError, match=r"cannot cancel run .*: it is Completed"):
        engine.cancel_run(run.id, by="olivia")
