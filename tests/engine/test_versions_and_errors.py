"""Versions, triggers, step errors that are not flows, and timeouts."""

from __future__ import annotations

import time
from dataclasses import replace
from decimal import Decimal

import pytest

from orchlab import SYSTEM
from orchlab.definition import builder as b
from orchlab.definition.registry import Registry
from orchlab.definition.validate import InvalidOrchestration
from orchlab.engine import Engine, RunStatus, Status

from .helpers import do, trace


def test_runs_stay_on_the_version_they_started_on(engine: Engine) -> None:
    from orchlab.definition.examples import loan

    old = engine.start_run(
        "Loan", {"application_id": "A", "applicant": "K", "amount": Decimal(1)}, by=SYSTEM
    )
    v2 = engine.deploy(replace(loan(), label="Loan v2"), by=SYSTEM)
    assert v2.version == 2 and engine.active["Loan"] == 2
    assert (
        engine.deploy(replace(loan(), label="Loan v2"), by=SYSTEM).version == 2
    )  # unchanged: no new one
    new = engine.start_run(
        "Loan", {"application_id": "B", "applicant": "K", "amount": Decimal(1)}, by=SYSTEM
    )
    assert (old.version, new.version) == (1, 2)
    engine.activate("Loan", 1, by=SYSTEM)
    assert (
        engine.start_run(
            "Loan", {"application_id": "C", "applicant": "K", "amount": Decimal(1)}, by=SYSTEM
        ).version
        == 1
    )
    versions = engine.store.execute(
        "SELECT version, status FROM definitions WHERE name = 'Loan' ORDER BY version"
    )
    assert versions == [(1, "Active"), (2, "Inactive")]


def test_invalid_definitions_are_refused_and_nothing_is_stored(engine: Engine) -> None:
    before = engine.store.execute("SELECT count(*) FROM definitions")
    bad = b.orchestration("Bad", b.stage("One", b.background("X", "no_such_flow")))
    with pytest.raises(InvalidOrchestration, match="no_such_flow"):
        engine.deploy(bad, by=SYSTEM)
    assert engine.store.execute("SELECT count(*) FROM definitions") == before


def test_unknown_inputs_are_refused(engine: Engine) -> None:
    with pytest.raises(Exception, match=r"unknown input variables \['colour'\]"):
        engine.start_run("Loan", {"colour": "red"}, by=SYSTEM)
    assert engine.state.runs == {}


def test_create_trigger_with_conditions(engine: Engine) -> None:
    from orchlab.definition.examples import customer_qa_survey

    survey = customer_qa_survey()
    engine.deploy(
        replace(
            survey,
            start=b.on_record(
                "Installation__c", "create", [("$Record.Status", "equals", "Completed")]
            ),
        ),
        by=SYSTEM,
    )
    engine.create_record("Installation__c", {"Name": "A", "Status": "Scheduled"}, by=SYSTEM)
    assert engine.state.runs == {}
    engine.create_record(
        "Installation__c", {"Name": "B", "Status": "completed"}, by=SYSTEM
    )  # case-insensitive
    assert len(engine.state.runs) == 1


def test_a_record_change_re_evaluates_waiting_runs(clock) -> None:
    reg = Registry()
    orch = b.orchestration(
        "Wait_for_payment",
        b.stage(
            "Wait",
            b.interactive("Chase", "s", b.user("ada"), context="$Record.Id"),
            exit=[("$Record.Paid", "equals", True)],
        ),
        start=b.on_record("Invoice", "create"),
        screens=[b.screen("s")],
    )
    engine = Engine(registry=reg, clock=clock)
    engine.add_user("ada", by=SYSTEM)
    engine.deploy(orch, by=SYSTEM)
    rid = engine.create_record("Invoice", {"Paid": False}, by=SYSTEM).id
    (run,) = engine.state.runs.values()
    engine.update_record(rid, {"Note": "reminded"}, by=SYSTEM)
    assert run.status is RunStatus.IN_PROGRESS
    engine.update_record(rid, {"Paid": True}, by=SYSTEM)
    assert run.status is RunStatus.COMPLETED
    assert trace(engine, run.id)[-3:] == [
        "DiscontinueStep Wait/Chase Discontinued",
        "EndStage Wait Completed",
        "EndInstance Completed",
    ]


def test_an_unresolvable_assignee_errors_and_resume_creates_a_new_item(engine: Engine) -> None:
    rid = engine.create_record(
        "Case", {"Severity": "Low", "Amount": 10, "Owner": "nobody"}, by=SYSTEM
    ).id
    engine.update_record(rid, {"Severity": "High"}, by=SYSTEM)
    (run,) = engine.state.runs.values()
    do(engine, "Triage_review", {"priority": "P3"})
    do(engine, "Engineering_fix", {"resolution": "x"})
    do(engine, "CSM_outreach", {"resolution": "y"})
    assert run.status is RunStatus.ERROR and run.stage.name == "Close"
    assert "resolved to 'nobody', which is not a user, group or queue" in run.error
    engine.update_record(rid, {"Owner": "dana"}, by=SYSTEM)  # the fix
    engine.resume_run(run.id, by="olivia")
    assert run.stage.steps["Confirm_close"].status is Status.IN_PROGRESS
    (item,) = engine.work_items("dana")
    assert item.step_name == "Confirm_close"
    do(engine, "Confirm_close")
    assert run.status is RunStatus.COMPLETED


def test_an_external_step_times_out(clock) -> None:
    reg = Registry()
    reg.action("slow_call", inputs={}, outputs={})(lambda: time.sleep(0.5))
    orch = b.orchestration(
        "Slow", b.stage("Call", b.external("Call_bank", "slow_call", timeout=0.05))
    )
    engine = Engine(registry=reg, clock=clock)
    engine.deploy(orch, by=SYSTEM)
    run = engine.start_run("Slow", by=SYSTEM)
    assert run.status is RunStatus.ERROR
    assert run.error == "step 'Call_bank': action 'slow_call' timed out after 0.05 s"


def test_interactive_exit_requirements_decide_when_the_step_ends(clock) -> None:
    orch = b.orchestration(
        "Sign_contract",
        b.stage(
            "Sign",
            b.interactive("Chase_signature", "s", b.user("ada"), context="$Record.Id",
                          done_when=[("$Record.Signed", "equals", True)]),
            b.background("File", "noop", when=[("Chase_signature.Status", "equals", "Completed")]),
        ),
        start=b.on_record("Contract", "create"),
        screens=[b.screen("s")],
    )  # fmt: skip
    reg = Registry()
    reg.flow("noop", inputs={}, outputs={})(lambda: {})
    engine = Engine(registry=reg, clock=clock)
    engine.add_user("ada", by=SYSTEM)
    engine.deploy(orch, by=SYSTEM)
    rid = engine.create_record("Contract", {"Signed": False}, by=SYSTEM).id
    (run,) = engine.state.runs.values()
    (item,) = engine.work_items("ada")
    engine.complete_work_item(item.id, "ada", {})
    # The person is done, but the exit requirements are not met: the step keeps waiting.
    assert item.status == "Completed"
    assert run.stage.steps["Chase_signature"].status is Status.IN_PROGRESS
    assert run.stage.steps["File"].status is Status.NOT_STARTED
    engine.update_record(rid, {"Signed": True}, by=SYSTEM)
    assert run.status is RunStatus.COMPLETED
    assert trace(engine, run.id)[-5:] == [
        "EndStep Sign/Chase_signature Completed",
        "StartStep Sign/File InProgress",
        "EndStep Sign/File Completed",
        "EndStage Sign Completed",
        "EndInstance Completed",
    ]


def test_inputs_must_fit_their_variables(engine: Engine) -> None:
    with pytest.raises(Exception, match=r"input variable 'amount' is currency; expected currency, "
                                        r"got str 'lots'"):  # fmt: skip
        engine.start_run(
            "Loan", {"application_id": "A", "applicant": "K", "amount": "lots"}, by=SYSTEM
        )
    with pytest.raises(Exception, match="record 'nope' does not exist"):
        engine.start_run("Loan", {"amount": Decimal(1)}, record_id="nope", by=SYSTEM)
    assert engine.state.runs == {} and engine.store.execute("SELECT count(*) FROM runs") == [(0,)]
