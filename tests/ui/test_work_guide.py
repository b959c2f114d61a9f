"""The Work Guide, driven through its widgets (`.value = ...`, `.click()`), checked in the engine
and in the history tables, never in printed output."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import ipywidgets as w
import pytest

import orchlab as ol
from orchlab.engine import Engine
from orchlab.engine.clock import VirtualClock
from orchlab.service.api import AppApi
from orchlab.ui import WorkGuide
from orchlab.ui.views.forms import FormView

from .helpers import history


def start_loan(guide: WorkGuide, amount: str = "20000", applicant: str = "Kim") -> str:
    """Start a Loan run from the guide's start panel, as the person it acts as."""
    guide.start_choice.value = "Loan"
    (form,) = guide.start_fields.children
    assert isinstance(form, FormView)
    form.controls["application_id"].value = "APP-1"
    form.controls["applicant"].value = applicant
    form.controls["amount"].value = amount
    guide.start_button.click()
    assert guide.presenter.outcome is not None, guide.presenter.message
    return guide.presenter.outcome["run_id"]


def row_of(guide: WorkGuide, item_id: str):
    found = [r for r in guide.rows if r.item_id == item_id]
    assert found, f"{item_id} is not in the inbox of {guide.presenter.user}"
    return found[0]


def item_status(engine: Engine, item_id: str) -> tuple:
    return history(engine, "SELECT status, completed_by FROM work_items WHERE id = ?", [item_id])[0]


def test_two_people_push_a_loan_from_start_to_end(
    api: AppApi, engine: Engine, clock: VirtualClock
) -> None:
    guide = WorkGuide(api, user="sam")
    run_id = start_loan(guide)
    assert guide.presenter.message.kind == "success"
    assert "for queue Loan_Officers" in guide.presenter.message.lines[0]
    clock.advance(hours=2)
    guide.refresh_button.click()
    assert "1 open item" in guide.inbox_title.value
    row = row_of(guide, f"{run_id}-W1")
    assert row.button.description == "Collect documents" and "2 h" in row.cells.value

    row.button.click()
    assert guide.item_card.layout.display is None
    controls = guide.form_view.controls
    assert isinstance(controls["documents_complete"], w.Checkbox)
    assert isinstance(controls["income"], w.Text)  # amounts are typed as text, checked on submit
    assert "Collect documents" in guide.item_head.value and "Kim" in guide.record.value
    before = guide.diagram.value
    assert "<svg" in before

    controls["documents_complete"].value = True
    controls["income"].value = "52000.50"
    guide.submit_button.click()
    assert guide.presenter.message.kind == "success", guide.presenter.message
    assert item_status(engine, f"{run_id}-W1") == ("Completed", "sam")
    values = engine.run(run_id).items[f"{run_id}-W1"].values
    assert values == {"documents_complete": True, "income": Decimal("52000.50")}
    # What happened next: the approval went to Underwriting, routed to uma (least open items).
    assert guide.presenter.message.lines == (
        f"Next: 'Approve loan' ({run_id}-W2) for queue Underwriting → uma",
    )
    assert guide.item_card.layout.display == "none"  # the form closed; the item left the inbox
    assert not [r for r in guide.rows if r.item_id == f"{run_id}-W1"]
    assert guide.diagram.value != before  # the diagram shows the run at Approval now

    # The second person takes the next item.
    guide.act_as.value = "uma"
    assert guide.presenter.user == "uma"
    row_of(guide, f"{run_id}-W2").button.click()
    assert "credit_score" in guide.record.value  # the step's input, beside the record
    guide.form_view.controls["approved"].value = True
    guide.form_view.controls["comments"].value = "fine"
    guide.comments.value = "approved after a call"
    guide.submit_button.click()
    assert guide.presenter.message.lines == (f"Run {run_id} is Completed.",)
    assert history(engine, "SELECT status FROM runs WHERE id = ?", [run_id]) == [("Completed",)]
    ended = history(
        engine,
        "SELECT actor, comments FROM log WHERE kind = 'EndWorkItem' AND work_item_id = ?",
        [f"{run_id}-W2"],
    )
    assert ended == [("uma", "approved after a call")]


def test_bad_input_is_shown_next_to_its_field_and_nothing_is_stored(
    api: AppApi, engine: Engine
) -> None:
    guide = WorkGuide(api, user="sam")
    run_id = start_loan(guide)
    item = f"{run_id}-W1"
    row_of(guide, item).button.click()
    rows_before = history(engine, "SELECT count(*) FROM log")[0][0]
    controls = guide.form_view.controls

    guide.submit_button.click()  # the required checkbox is empty
    assert guide.presenter.message.kind == "error"
    assert (
        "All documents received must be checked"
        in guide.form_view._errors["documents_complete"].value
    )
    assert "orchlab-invalid" in guide.form_view._boxes["documents_complete"]._dom_classes

    controls["documents_complete"].value = True  # fixing a field clears its message
    assert guide.form_view._errors["documents_complete"].value == ""
    controls["income"].value = "fifty thousand"  # text in an amount field
    guide.submit_button.click()
    assert "expected a number" in guide.form_view._errors["income"].value
    controls["income"].value = "-5"  # out of range: the field says min 0
    guide.submit_button.click()
    assert "must be at least 0" in guide.form_view._errors["income"].value
    assert history(engine, "SELECT count(*) FROM log")[0][0] == rows_before
    assert item_status(engine, item) == ("Assigned", None)


def test_over_long_text_and_a_pattern(api: AppApi, engine: Engine) -> None:
    change = engine.create_record(
        "Employee__c", {"Name": "Ann"}, by="dana"
    )  # onboarding starts on create
    (run_id,) = change.started
    guide = WorkGuide(api, user="tom")  # Facilities: the desk form has a pattern
    row_of(guide, f"{run_id}-W3").button.click()
    assert "pattern [A-Z]-\\d{3}" in guide.form_box.children[0].children[0].children[-2].value
    guide.form_view.controls["desk"].value = "desk 7"
    guide.submit_button.click()
    assert "must match the pattern" in guide.form_view._errors["desk"].value
    guide.form_view.controls["desk"].value = "B-101"
    guide.submit_button.click()
    assert guide.presenter.message.kind == "success"

    # The case escalation's work form: at most 255 characters.
    case = engine.create_record(
        "Case", {"Severity": "Low", "Amount": 200, "Owner": "ada"}, by="dana"
    ).id
    (case_run,) = engine.update_record(case, {"Severity": "High"}, by="dana").started
    guide.act_as.value = "ada"
    row_of(guide, f"{case_run}-W1").button.click()
    guide.form_view.controls["priority"].value = "P2"
    guide.submit_button.click()
    work = [r.item_id for r in guide.rows if r.item_id.startswith(case_run)]
    assert work == []  # Engineering and Customer Success have it now
    guide.act_as.value = "cara"
    row_of(guide, f"{case_run}-W3").button.click()
    guide.form_view.controls["resolution"].value = "x" * 300
    guide.submit_button.click()
    assert "must have at most 255 characters" in guide.form_view._errors["resolution"].value
    assert item_status(engine, f"{case_run}-W3") == ("Assigned", None)


def test_every_field_kind_is_the_right_widget_and_reaches_the_engine_typed(clock) -> None:
    @ol.flow("noop_for_forms", outputs={})
    def noop() -> dict[str, object]:
        return {}

    fields = [
        ol.Field("title", "text", "Title", required=True, min_length=2, help="Short"),
        ol.Field("notes", "long_text", "Notes", max_length=50),
        ol.Field("count", "number", "Count", min=1, max=9, default=3),
        ol.Field("price", "currency", "Price"),
        ol.Field("ok", "checkbox", "OK", default=True),
        ol.Field("due", "date", "Due"),
        ol.Field("at", "datetime", "At"),
        ol.Field("size", "picklist", "Size", choices=("S", "M", "L"), default="M"),
        ol.Field("tags", "multi_select", "Tags", choices=("a", "b", "c")),
        ol.Field("mail", "email", "Mail"),
    ]
    orch = ol.orchestration(
        "Forms",
        ol.stage("One", ol.interactive("Fill", "all_kinds", ol.user("ada"))),
        screens=[ol.screen("all_kinds", *fields)],
    )
    engine = Engine(ol.HistoryStore(), clock=clock)
    engine.add_user("ada", by=ol.SYSTEM)
    engine.deploy(orch, by=ol.SYSTEM)
    run = engine.start_run("Forms", by="ada")
    guide = WorkGuide(AppApi(engine), user="ada")
    row_of(guide, f"{run.id}-W1").button.click()
    c = guide.form_view.controls
    kinds = {name: type(control).__name__ for name, control in c.items()}
    assert kinds == {
        "title": "Text", "notes": "Textarea", "count": "Text", "price": "Text",
        "ok": "Checkbox", "due": "DatePicker", "at": "NaiveDatetimePicker", "size": "Dropdown",
        "tags": "SelectMultiple", "mail": "Text",
    }  # fmt: skip
    assert c["count"].value == "3" and c["ok"].value is True and c["size"].value == "M"
    hints = guide.form_view.form
    assert hints.hint(orch.screens[0].field("count")) == "a number, from 1 to 9"
    assert hints.hint(orch.screens[0].field("title")) == "Short (at least 2 characters)"
    assert '<span class="orchlab-required"' in guide.form_view._boxes["title"].children[0].value

    c["title"].value = "Order"
    c["notes"].value = "two\nlines"
    c["count"].value = "7"
    c["price"].value = "19.90"
    c["due"].value = dt.date(2026, 4, 1)
    c["at"].value = dt.datetime(2026, 4, 1, 9, 30)
    c["tags"].value = ("a", "c")
    c["mail"].value = "not-an-address"
    guide.submit_button.click()
    assert set(guide.presenter.form.errors) == {"mail"}
    c["mail"].value = "ada@example.com"
    guide.submit_button.click()
    assert guide.presenter.message.kind == "success", guide.presenter.message
    values = engine.store.rows("WHERE kind = 'EndWorkItem'")[0].payload["values"]
    assert values == {
        "title": "Order", "notes": "two\nlines", "count": 7, "price": Decimal("19.90"),
        "ok": True, "due": dt.date(2026, 4, 1), "at": dt.datetime(2026, 4, 1, 9, 30),
        "size": "M", "tags": ["a", "c"], "mail": "ada@example.com",
    }  # fmt: skip


def test_a_non_member_cannot_submit_and_is_told_why(api: AppApi, engine: Engine) -> None:
    guide = WorkGuide(api, user="sam")
    run_id = start_loan(guide)
    # bob follows a link to an item that is not his (Loan_Officers are sam and wes).
    other = WorkGuide(api, link=f"item={run_id}-W1&user=bob")
    assert other.presenter.user == "bob" and other.presenter.item is not None
    assert other.submit_button.disabled
    assert all(c.disabled for c in other.form_view.controls.values())
    assert "bob may not submit this item" in other.message.value
    other.presenter.form.set("documents_complete", True)
    assert not other.presenter.submit()  # even past the disabled button, the engine refuses
    assert "may not complete work item" in other.presenter.message.text
    assert item_status(engine, f"{run_id}-W1") == ("Assigned", None)


def test_a_queue_item_is_taken_once_and_a_stale_submit_gets_a_message(
    api: AppApi, engine: Engine
) -> None:
    sam = WorkGuide(api, user="sam")
    run_id = start_loan(sam)
    wes = WorkGuide(api, user="wes")
    item = f"{run_id}-W1"
    row_of(sam, item).button.click()
    row_of(wes, item).button.click()  # both Loan_Officers have it open
    sam.form_view.controls["documents_complete"].value = True
    sam.submit_button.click()
    assert item_status(engine, item) == ("Completed", "sam")

    wes.form_view.controls["documents_complete"].value = True
    wes.submit_button.click()  # stale: sam took it
    assert wes.presenter.message.kind == "warning"
    assert "already completed by sam" in wes.presenter.message.text
    assert wes.item_card.layout.display == "none"
    assert not [r for r in wes.rows if r.item_id == item]  # dropped on refresh
    assert history(engine, "SELECT count(*) FROM log WHERE kind = 'EndWorkItem'") == [(1,)]
    # Opening a stale item is a message too, never a traceback.
    assert not wes.presenter.open(item)
    assert "already completed" in wes.presenter.message.text


def test_the_email_links_to_the_guide_with_the_item_preselected(
    api: AppApi, engine: Engine
) -> None:
    sam = WorkGuide(api, user="sam")
    run_id = start_loan(sam)
    (mail,) = api.outbox(f"{run_id}-W1")
    link = mail["body"].rsplit("Open it in the Work Guide: ", 1)[1]
    assert link == f"http://apps.test/voila/render/work_guide.ipynb?item={run_id}-W1"
    opened = WorkGuide(api, link=link.split("?", 1)[1])  # what Voilà hands the page
    assert opened.presenter.user == "sam"  # the first Loan_Officer: the item is for them
    assert opened.presenter.item["item"]["id"] == f"{run_id}-W1"
    assert row_of(opened, f"{run_id}-W1").box._dom_classes[-1] == "orchlab-row-selected"


def test_inbox_sorts_by_column_and_counts_in_the_title(api: AppApi, clock: VirtualClock) -> None:
    sam = WorkGuide(api, user="sam")
    first = start_loan(sam, applicant="Lee")
    clock.advance(hours=1)
    second = start_loan(sam, applicant="Kim")
    assert [r.item_id for r in sam.rows if r.item_id] == [f"{first}-W1", f"{second}-W1"]
    sam.sort_buttons["age"].click()  # the same column again: newest first
    assert [r.item_id for r in sam.rows if r.item_id] == [f"{second}-W1", f"{first}-W1"]
    assert sam.sort_buttons["age"].description == "Age ▲"
    sam.sort_buttons["run"].click()
    assert sam.presenter.sort == "run"
    assert "2 open items (0 yours, 2 via groups and queues)" in sam.inbox_title.value


def test_bad_start_inputs_are_shown_and_start_nothing(api: AppApi, engine: Engine) -> None:
    guide = WorkGuide(api, user="sam")
    guide.start_choice.value = "Loan"
    (form,) = guide.start_fields.children
    form.controls["amount"].value = "lots"
    guide.start_button.click()
    assert "expected a number" in form._errors["amount"].value
    assert engine.store.run_count() == 0


@pytest.mark.parametrize("user", ["nobody"])
def test_acting_as_someone_unknown_is_a_message(api: AppApi, user: str) -> None:
    guide = WorkGuide(api, user="sam")
    guide.presenter.act_as(user)
    assert guide.presenter.user == "sam" and "not a user" in guide.presenter.message.text
