"""The runs monitor through its widgets: tables, filters, pages, a run's detail, and every admin
action behind its confirmation, checked in the engine and the history."""

from __future__ import annotations

import html
from decimal import Decimal

import pytest

import orchlab as ol
from orchlab.definition.registry import Registry
from orchlab.engine import Engine
from orchlab.engine.clock import VirtualClock
from orchlab.service.api import AppApi
from orchlab.ui import RunsMonitor

from .helpers import history


def loans(engine: Engine, count: int, clock: VirtualClock) -> list[str]:
    ids = []
    for i in range(count):
        run = engine.start_run(
            "Loan",
            {"application_id": f"APP-{i}", "applicant": "Kim", "amount": Decimal(1000)},
            by="sam",
        )
        ids.append(run.id)
        clock.advance(minutes=10)
    return ids


@pytest.fixture
def monitor(api: AppApi, engine: Engine, clock: VirtualClock) -> RunsMonitor:
    loans(engine, 20, clock)
    case = engine.create_record(
        "Case", {"Severity": "Low", "Amount": 50, "Owner": "ada"}, by="dana"
    )
    engine.update_record(case.id, {"Severity": "High"}, by="dana")
    return RunsMonitor(api)


def shown_runs(m: RunsMonitor) -> list[str]:
    return [r.key for r in m.run_rows if r.key]


def test_runs_table_filters_sorts_and_pages(monitor: RunsMonitor) -> None:
    m = monitor
    assert m.presenter.user == "olivia"  # the first admin
    assert m.presenter.runs["total"] == 21
    assert shown_runs(m)[:2] == ["R000021", "R000020"]  # newest first
    assert m.run_pager.value.endswith("1 to 15 of 21</span>")
    m.run_next.click()
    assert shown_runs(m) == [f"R0000{n:02d}" for n in range(6, 0, -1)]
    assert m.run_next.disabled and not m.run_prev.disabled

    m.orchestration.value = "Case_Escalation"
    assert shown_runs(m) == ["R000021"] and m.presenter.offset == 0
    row = m.run_rows[0]
    assert "Triage" in row.cells.value and "queue Support_Tier2" in row.cells.value
    m.orchestration.value = ""
    m.status.value = "Completed"
    assert shown_runs(m) == [] and "no matches" in m.run_pager.value
    m.status.value = ""
    m.search.value = "R00000"
    assert m.presenter.runs["total"] == 9
    m.search.value = ""
    m.run_sorts["id"].click()  # A to Z
    assert shown_runs(m)[0] == "R000001"
    m.run_sorts["id"].click()
    assert shown_runs(m)[0] == "R000021"
    assert m.run_sorts["id"].description == "Run ▼"


def test_open_items_table_filters_and_pages(monitor: RunsMonitor) -> None:
    m = monitor
    assert m.presenter.items["total"] == 21
    m.item_assignee.value = "Support_Tier2"
    assert [r.button.description for r in m.item_rows if r.key] == ["Triage review"]
    m.item_assignee.value = ""
    m.item_search.value = "APP-3"
    assert [r.key for r in m.item_rows if r.key] == ["R000004-W1"]


def test_run_detail_shows_the_diagram_and_the_timeline(monitor: RunsMonitor) -> None:
    m = monitor
    m.run_rows[0].button.click()
    assert m.presenter.run_id == "R000021"
    assert m.detail_row.layout.display is None
    assert "<svg" in m.diagram.value
    timeline = m.timeline.value
    assert "Run started" in timeline and "Work item R000021-W1 for queue Support_Tier2" in timeline
    assert "dana" in timeline  # who changed the record that started it
    enabled = sorted(v for v, b in m.actions.items() if not b.disabled)
    assert enabled == ["cancel", "publish", "suspend"]


def test_cancel_asks_first_and_is_for_admins_only(monitor: RunsMonitor, engine: Engine) -> None:
    m = monitor
    m.run_rows[1].button.click()
    run_id = m.presenter.run_id
    m.actions["cancel"].click()
    assert m.confirm_bar.layout.display is None and run_id in m.question.value
    m.no.click()  # changed their mind: nothing happens
    assert m.confirm_bar.layout.display == "none"
    assert engine.run_status(run_id) == "InProgress"

    m.act_as.value = "ada"
    m.actions["cancel"].click()
    m.yes.click()
    assert m.presenter.message.kind == "error"
    assert "user 'ada' may not cancel runs: only admins may" in html.unescape(m.message.value)
    assert engine.run_status(run_id) == "InProgress"

    m.act_as.value = "olivia"
    m.actions["cancel"].click()
    m.yes.click()
    assert m.presenter.message.text == f"Run {run_id} is Canceled."
    assert history(engine, "SELECT status FROM runs WHERE id = ?", [run_id]) == [("Canceled",)]
    actor = history(engine, "SELECT actor FROM log WHERE kind = 'CancelInstance'")
    assert actor == [("olivia",)]
    assert all(m.actions[v].disabled for v in m.actions)  # nothing more to do with it


def test_suspend_resume_and_publish(monitor: RunsMonitor, engine: Engine) -> None:
    m = monitor
    m.run_rows[0].button.click()
    run_id = m.presenter.run_id
    m.actions["suspend"].click()
    m.yes.click()
    assert engine.run_status(run_id) == "Suspended"
    assert not m.actions["resume"].disabled and m.actions["suspend"].disabled
    m.actions["resume"].click()
    m.yes.click()
    assert engine.run_status(run_id) == "InProgress"
    m.actions["publish"].click()
    m.yes.click()
    assert history(engine, "SELECT actor FROM log WHERE kind = 'PublishEvent'") == [("olivia",)]


def test_resume_after_error(clock: VirtualClock) -> None:
    registry = Registry()
    calls = {"n": 0}

    @registry.flow("flaky", outputs={"ok": bool})
    def flaky() -> dict[str, bool]:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("the bank is down")
        return {"ok": True}

    engine = Engine(ol.HistoryStore(), registry=registry, clock=clock)
    engine.add_user("olivia", admin=True, by=ol.SYSTEM)
    engine.deploy(
        ol.orchestration("Flaky", ol.stage("Pay", ol.background("Call", "flaky"))), by=ol.SYSTEM
    )
    run = engine.start_run("Flaky", by="olivia")
    assert engine.run_status(run.id) == "Error"
    m = RunsMonitor(AppApi(engine))
    m.status.value = "Error"
    m.run_rows[0].button.click()
    assert "the bank is down" in m.detail_head.value
    assert [v for v, b in m.actions.items() if not b.disabled] == ["cancel", "retry"]
    m.actions["retry"].click()
    assert "failed steps run again" in m.question.value
    m.yes.click()
    assert engine.run_status(run.id) == "Completed"
    assert m.presenter.message.text == f"Run {run.id} is Completed."


def test_reassign_an_item_with_a_confirmation(monitor: RunsMonitor, engine: Engine) -> None:
    m = monitor
    m.item_search.value = "APP-3"
    m.item_rows[0].button.click()
    assert m.presenter.item_id == "R000004-W1"
    assert m.reassign.disabled  # whom to, first
    m.reassign_to.value = "dana"
    m.reassign.click()
    assert "Reassign R000004-W1 to dana?" in m.question.value
    m.yes.click()
    assert m.presenter.message.text == "Reassigned R000004-W1 to user dana."
    found = history(
        engine, "SELECT assignee_id, assignee_type FROM work_items WHERE id = 'R000004-W1'"
    )
    assert found == [("dana", "User")]
    assert [w.id for w in engine.work_items("dana")] == ["R000004-W1"]
    # Reassigning to a queue routes it as the queue does (Underwriting: least open).
    m.item_rows[0].button.click()
    m.reassign_to.value = "Underwriting"
    m.reassign.click()
    m.yes.click()
    assert "to queue Underwriting (routed to uma)" in m.presenter.message.text


def test_a_non_admin_cannot_reassign(monitor: RunsMonitor, engine: Engine) -> None:
    m = monitor
    m.act_as.value = "sam"
    m.item_rows[0].button.click()
    item = m.presenter.item_id
    before = history(engine, "SELECT assignee_id FROM work_items WHERE id = ?", [item])
    m.reassign_to.value = "dana"
    m.reassign.click()
    m.yes.click()
    assert "user 'sam' may not reassign work items: only admins may" in m.presenter.message.text
    assert history(engine, "SELECT assignee_id FROM work_items WHERE id = ?", [item]) == before
