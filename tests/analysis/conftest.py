"""A small history with known times, made by the real engine on a virtual clock.

Day 1 is Monday 2026-03-02. Every time below is the one the tests' answers are computed from.

Case_Escalation (record-triggered):
  A (R000001) 09:00 amount 500: triage done by ada 10:00 -> Work: CSM by cara 12:00,
    Engineering (routed to bob) 14:00 -> Close (User ada) done 15:00: Completed, 6 h.
  B (R000004) 09:30 amount 2000: triage by uma 11:30 -> Escalation (User dana), reassigned
    to ada by olivia 12:00, done by ada 13:30 -> Work: Engineering routed to vic, CSM for
    Group Customer_Success: both still open at the end (stalled since 13:30).
  C (R000005) 10:00 amount 300: canceled by olivia at 10:30 while in Triage.
Loan L (R000002) 09:00 amount 0: documents by sam 10:00, approved by uma 11:00, Funding fails
  (cannot disburse 0) -> fault path Funding_recovery, resolved by olivia 12:00: Completed.
Auto_Score X (R000003) 09:00: one background step, no work items: Completed at once.
Employee_Onboarding E (R000006) day 2 09:00: Prepare's three items done 10:00; paperwork
  Rejected by cara 11:00 (Go To back to HR_Paperwork), Accepted by uma 12:00 -> Completed.
Imported I (IMP-1), written straight to the log as source 'imported': Case_Escalation v1,
  day 1 08:00 -> Triage 08:00-08:45 -> Completed 09:00.

The history ends at day 2 12:00 (its newest row).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

import orchlab.definition.examples  # noqa: F401 - registers the example flows
from orchlab import SYSTEM
from orchlab.definition.builder import background, orchestration, ref, stage, var
from orchlab.engine import Engine
from orchlab.engine.clock import VirtualClock
from orchlab.simulate.demo import deploy_examples, setup_directory
from orchlab.store import HistoryStore
from orchlab.store.row import Row

DAY1 = dt.datetime(2026, 3, 2)
DAY2 = DAY1 + dt.timedelta(days=1)
END = DAY2 + dt.timedelta(hours=12)


def at(day: dt.datetime, hhmm: str) -> dt.datetime:
    h, m = map(int, hhmm.split(":"))
    return day + dt.timedelta(hours=h, minutes=m)


def auto_score():
    return orchestration(
        "Auto_Score",
        stage("Only", background("Score", "score_case", inputs={"amount": ref("amount")})),
        variables=[var("amount", "number", input=True)],
    )


def _item(engine: Engine, run_id: str, step: str) -> str:
    (found,) = [
        w.id
        for w in engine.work_items()
        if w.run_id == run_id and w.step_name == step and w.status == "Assigned"
    ]
    return found


def build(store: HistoryStore) -> HistoryStore:
    clock = VirtualClock(at(DAY1, "09:00"))
    engine = Engine(store, clock=clock)
    setup_directory(engine)
    deploy_examples(engine)
    engine.deploy(auto_score(), by=SYSTEM)

    def case(amount: int, owner: str) -> str:
        fields = {"Severity": "Low", "Amount": amount, "Owner": owner, "CaseNumber": "7"}
        rid = engine.create_record("Case", fields, by=SYSTEM).id
        (run,) = engine.update_record(rid, {"Severity": "High"}, by=SYSTEM).started
        return run

    def done(run: str, step: str, user: str, values: dict | None = None) -> None:
        engine.complete_work_item(_item(engine, run, step), user, values or {})

    a = case(500, "ada")
    loan = engine.start_run(
        "Loan", {"application_id": "APP-1", "applicant": "Kim", "amount": Decimal(0)}, by=SYSTEM
    ).id
    auto = engine.start_run("Auto_Score", {"amount": 100}, by=SYSTEM).id
    clock.set(at(DAY1, "09:30"))
    b = case(2000, "dana")
    clock.set(at(DAY1, "10:00"))
    c = case(300, "ada")
    done(a, "Triage_review", "ada", {"priority": "P1"})
    done(loan, "Collect_documents", "sam", {"documents_complete": True})
    clock.set(at(DAY1, "10:30"))
    engine.cancel_run(c, by="olivia")
    clock.set(at(DAY1, "11:00"))
    done(loan, "Approve_loan", "uma", {"approved": True})
    clock.set(at(DAY1, "11:30"))
    done(b, "Triage_review", "uma", {"priority": "P2"})
    clock.set(at(DAY1, "12:00"))
    engine.reassign_work_item(_item(engine, b, "Escalation_review"), "ada", by="olivia")
    done(a, "CSM_outreach", "cara", {"resolution": "called"})
    done(loan, "Resolve_funding", "olivia", {"action": "Retry"})
    clock.set(at(DAY1, "13:30"))
    done(b, "Escalation_review", "ada")
    clock.set(at(DAY1, "14:00"))
    done(a, "Engineering_fix", "bob", {"resolution": "fixed"})
    clock.set(at(DAY1, "15:00"))
    done(a, "Confirm_close", "ada")

    clock.set(at(DAY2, "09:00"))
    (e,) = engine.create_record("Employee__c", {"Name": "Ann"}, by=SYSTEM).started
    clock.set(at(DAY2, "10:00"))
    done(e, "Provision_accounts", "vic", {"username": "ann"})
    done(e, "Assign_buddy", "dana", {"buddy": "Ben"})
    done(e, "Set_up_desk", "tom", {"desk": "A-101"})
    clock.set(at(DAY2, "11:00"))
    done(e, "Confirm_paperwork", "cara", {"status": "Rejected"})
    clock.set(at(DAY2, "12:00"))
    done(e, "Confirm_paperwork", "uma", {"status": "Accepted"})
    assert (a, loan, auto, b, c, e) == tuple(f"R00000{i}" for i in range(1, 7))

    # A run imported from elsewhere: rows the engine would not write, through the store.
    seq = store.max_seq()
    common = ("IMP-1", "Case_Escalation", 1)
    rows = [
        Row(seq + 1, at(DAY1, "08:00"), "StartInstance", *common, status="InProgress"),
        Row(seq + 2, at(DAY1, "08:00"), "StartStage", *common, "IMP-1-S1", "Triage",
            status="InProgress", payload={"position": 1, "label": "Triage"}),
        Row(seq + 3, at(DAY1, "08:45"), "EndStage", *common, "IMP-1-S1", "Triage",
            status="Completed", duration=2700.0, payload={"next": None}),
        Row(seq + 4, at(DAY1, "09:00"), "EndInstance", *common, status="Completed",
            duration=3600.0),
    ]  # fmt: skip
    source, store.source = store.source, "imported"
    try:
        store.append(rows)
    finally:
        store.source = source
    return store


@pytest.fixture(scope="session")
def history() -> HistoryStore:
    """The history above, in memory, shared by the analysis tests (which only read it)."""
    return build(HistoryStore())
