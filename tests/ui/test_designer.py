"""The designer through its widgets: the onboarding example rebuilt from nothing, renames that
follow the name, live problems and diagram, files, deploying, and Debug on a throwaway copy."""

from __future__ import annotations

import html
from pathlib import Path

from orchlab.definition.examples import employee_onboarding, loan
from orchlab.definition.serialize import load, to_dict
from orchlab.engine import Engine
from orchlab.service.api import AppApi
from orchlab.ui import Designer
from orchlab.ui.draft import FOLLOWING, OrchestrationDraft
from orchlab.ui.views.editors import StageEditor, StepEditor


def add_field(d: Designer, name: str, label: str, **values: object) -> None:
    d.screen_editor.add.click()
    d.screen_editor.field_editor.name.value = name
    editor = d.screen_editor.field_editor  # rebuilt with the new name
    editor.label.value = label
    for key, value in values.items():
        getattr(editor, key).value = value


def add_screen(d: Designer, name: str, label: str) -> None:
    d.add_screen.click()
    d.screen_editor.name.value = name
    d.screen_editor.label.value = label


def add_step(d: Designer, kind: str, name: str, label: str, **values: object) -> StepEditor:
    editor = d.editor
    assert isinstance(editor, StageEditor)
    editor.add_buttons[kind].click()
    d.editor.step_editor.name.value = name
    step = d.editor.step_editor
    step.label.value = label
    for key, value in values.items():
        getattr(step, key).value = value
    return step


def test_the_onboarding_example_is_rebuilt_from_scratch(api: AppApi) -> None:
    d = Designer(api)
    p = d.presenter
    assert [e.name for e in p.draft.elements] == ["Stage_1"]

    # The orchestration, and how it starts.
    d.name.value = "Employee_Onboarding"
    d.label.value = "Employee onboarding"
    d.description.value = "Get a new hire's accounts, buddy, desk and paperwork ready."
    d.start_editor.kind.value = "record"
    d.start_editor.object.value = "Employee__c"
    d.start_editor.on.value = "create"

    # Screens and their fields.
    add_screen(d, "it_form", "Accounts")
    add_field(d, "username", "Username", required=True)
    add_screen(d, "buddy_form", "Buddy")
    add_field(d, "buddy", "Buddy", required=True)
    add_screen(d, "desk_form", "Desk")
    add_field(d, "desk", "Desk", required=True, regex=r"[A-Z]-\d{3}")
    add_screen(d, "paperwork_form", "Paperwork")
    add_field(
        d, "status", "Paperwork", kind="picklist", required=True, choices="Accepted, Rejected"
    )
    add_field(d, "reason", "Why rejected")

    # The path: two stages of people's work, a decision that loops back, a welcome.
    d.elements.value = 0
    d.editor.name.value = "Prepare"
    d.editor.label.value = "Prepare first day"
    for name, label, screen, queue in (
        ("Provision_accounts", "IT provisions accounts", "it_form", "IT_Service_Desk"),
        ("Assign_buddy", "Manager assigns a buddy", "buddy_form", "People_Managers"),
        ("Set_up_desk", "Facilities sets up a desk", "desk_form", "Facilities"),
    ):
        add_step(d, "interactive", name, label, target=screen, assignee=queue, context="$Record.Id")
    d.add_stage.click()
    d.editor.name.value = "HR_Paperwork"
    d.editor.label.value = "HR paperwork"
    add_step(
        d, "interactive", "Confirm_paperwork", "HR confirms paperwork",
        target="paperwork_form", assignee="HR_Operations", context="$Record.Id",
        notify_subject="Paperwork for {!$Record.Name}", notify_body="Please check the contract.",
    )  # fmt: skip
    d.add_decision.click()
    d.editor.name.value = "Paperwork_check"
    decision = d.editor
    decision.label.value = "Paperwork OK?"
    outcome = decision.outcomes[0]
    outcome.name.value = "Rejected"
    outcome.label.value = "Paperwork rejected"
    outcome.to.value = "HR_Paperwork"
    outcome.goto.value = True
    outcome.conditions.add.click()
    outcome.conditions.lefts[0].value = "Confirm_paperwork.Outputs.status"
    outcome.conditions.ops[0].value = "equals"
    outcome.conditions.rights[0].value = "Rejected"
    decision.default_label.value = "Accepted"
    assert decision.default.value == FOLLOWING
    d.add_stage.click()
    d.editor.name.value = "Welcome"
    add_step(
        d, "background", "Send_welcome_pack", "Send welcome pack",
        target="send_welcome_pack", inputs="employee_id = {!$Record.Id}",
    )  # fmt: skip

    assert p.findings == [] or all(f.severity == "warning" for f in p.findings), p.findings
    assert to_dict(p.draft.build()) == to_dict(employee_onboarding())
    assert "cluster_HR_Paperwork" in p._drawn and "<svg" in d.diagram.value
    assert "no problems" in d.problems.value

    # Deploying is the engine's business: admins only; the same definition is no new version.
    d.act_as.value = "ada"
    d.deploy_button.click()
    assert "user 'ada' may not deploy" in p.message.text
    d.act_as.value = "olivia"
    d.deploy_button.click()
    assert p.message.text.startswith("Deployed Employee_Onboarding v1 as olivia")


def test_renames_follow_the_name_everywhere(api: AppApi) -> None:
    d = Designer(api, "loan")
    p = d.presenter
    d.elements.value = 3  # Approval
    d.editor.steps.value = 0
    d.editor.step_editor.name.value = "Approve"
    assert p.message.text == "Renamed Approve_loan to Approve everywhere it is used."
    decision = p.draft.element("Approved_check")
    assert decision.outcomes[0].conditions.rows[0][0] == "Approve.Outputs.approved"
    d.elements.value = 2  # Escalation: the decision's outcome points at it
    d.editor.name.value = "Big_loans"
    assert p.draft.element("Amount_decision").outcomes[0].to == "Big_loans"
    assert [f for f in p.findings if f.severity == "error"] == []
    d.editor.name.value = "Approval"  # taken: refused, and the box shows the old name again
    assert p.message.kind == "error" and d.editor.name.value == "Big_loans"


def test_reorder_and_delete_rewire_the_path(api: AppApi) -> None:
    d = Designer(api)
    p = d.presenter
    d.add_stage.click()  # Stage_2, after Stage_1
    d.add_end.click()
    assert [e.name for e in p.draft.elements] == ["Stage_1", "Stage_2", "End"]
    d.elements.value = 1
    d.up.click()
    orch = p.draft.build()
    assert [e.name for e in orch.elements] == ["Stage_2", "Stage_1", "End"]
    assert orch.element("Stage_2").next.target == "Stage_1"  # "next element" follows the order
    d.elements.value = 1
    d.delete.click()
    assert [e.name for e in p.draft.build().elements] == ["Stage_2", "End"]
    assert p.draft.build().element("Stage_2").next.target == "End"


def test_problems_and_the_logic_parser_error_update_live(api: AppApi) -> None:
    d = Designer(api, "loan")
    p = d.presenter
    assert p.findings == []
    d.elements.value = 0
    d.editor.steps.value = 0
    d.editor.step_editor.target.value = "no_such_flow"
    assert "flow 'no_such_flow' is not registered" in html.unescape(d.problems.value)
    d.editor.step_editor.target.value = "check_credit"
    assert p.findings == []

    d.elements.value = 1  # Amount_decision: one condition; give it custom logic
    conditions = d.editor.outcomes[0].conditions
    conditions.add.click()
    conditions.lefts[1].value = "applicant"
    conditions.ops[1].value = "equals"
    conditions.rights[1].value = "Kim"
    conditions.logic.value = "custom"
    conditions.custom.value = "1 AND (2"
    assert "expected &#x27;)&#x27; at column 8" in conditions.error.value
    assert "       ^" in conditions.error.value  # the caret under column 8
    assert any("expected ')' at column 8" in f.message for f in p.findings)
    conditions.custom.value = "1 AND NOT 2"
    assert conditions.error.value == "" and p.findings == []
    assert p.draft.build().element("Amount_decision").outcomes[0].conditions.logic == "1 AND NOT 2"

    conditions.rights[0].value = "{!Check_credit.Outputs"  # a value that cannot be read
    assert "cannot read" in d.problems.value


def test_save_and_load_yaml(api: AppApi, tmp_path: Path) -> None:
    d = Designer(api, "loan")
    d.path.value = str(tmp_path / "loan.yaml")
    d.save_button.click()
    assert load(tmp_path / "loan.yaml") == loan()
    d.new_button.click()
    assert [e.name for e in d.presenter.draft.elements] == ["Stage_1"]
    d.load_button.click()
    assert d.presenter.draft.build() == loan()
    (tmp_path / "bad.yaml").write_text("name: X\nelements: [{stage: A, nxt: B}]\n")
    d.path.value = str(tmp_path / "bad.yaml")
    d.load_button.click()
    assert d.presenter.message.kind == "error" and "nxt" in d.presenter.message.text


def test_open_a_deployed_definition_and_deploy_a_new_version(api: AppApi, engine: Engine) -> None:
    d = Designer(api)
    d.open_choice.value = "deployed:Loan"
    assert d.presenter.draft.build() == loan()
    d.elements.value = 3
    d.editor.label.value = "Approval by underwriting"
    d.deploy_button.click()
    assert d.presenter.message.text.startswith("Deployed Loan v2 as olivia")
    assert engine.active["Loan"] == 2
    assert engine.definition("Loan").element("Approval").label == "Approval by underwriting"


def test_draft_round_trips_every_example() -> None:
    from orchlab.definition.examples import EXAMPLES

    for make in EXAMPLES.values():
        assert OrchestrationDraft.of(make()).build() == make()


def test_a_step_changes_kind_and_a_deleted_step_leaves_the_after_lists(api: AppApi) -> None:
    d = Designer(api, "loan")
    p = d.presenter
    d.elements.value = 5  # Funding: Disburse, then Welcome_letter after it
    d.editor.steps.value = 0
    d.editor.step_editor.kind.value = "background"  # the external step becomes a background one
    d.editor.step_editor.target.value = "send_welcome_letter"
    step = p.draft.build().element("Funding").steps[0]
    assert type(step).__name__ == "BackgroundStep" and step.flow == "send_welcome_letter"
    d.editor.delete.click()  # delete it: Welcome_letter no longer waits for it
    (left,) = p.draft.build().element("Funding").steps
    assert left.name == "Welcome_letter" and left.entry.steps == ()
    # Waiting for no step is a mistake the problems list names, and deploying waits for a fix.
    assert [f.message for f in p.errors] == [
        "waits for no step; expected steps of stage 'Funding': none"
    ]
    d.deploy_button.click()
    assert p.message.text == "Not deployed: fix the 1 error first."
