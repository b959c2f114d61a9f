"""Debug in the designer: the design runs on a throwaway engine, people's parts are acted
from the panel, milestones are stepped through with conditions explained; history is untouched."""

from __future__ import annotations

import html

from orchlab.engine import Engine
from orchlab.service.api import AppApi
from orchlab.ui import Designer
from orchlab.ui.views.forms import FormView


def forward_to(d: Designer, text: str) -> None:
    """Step forward from the first milestone until the one described as `text`."""
    panel = d.debug
    panel.first.click()
    for _ in range(len(panel.debugger.rows)):
        if text in html.unescape(panel.where.value):
            return
        panel.forward.click()
    raise AssertionError(f"no milestone {text!r}: {[r.kind for r in panel.debugger.rows]}")


def test_debug_a_loan_with_custom_logic_acting_for_people(api: AppApi, engine: Engine) -> None:
    seq_before, runs_before = engine.store.max_seq(), engine.store.run_count()
    d = Designer(api, "loan")
    d.elements.value = 1  # Amount_decision: over 50,000 AND NOT applicant Kim
    conditions = d.editor.outcomes[0].conditions
    conditions.add.click()
    conditions.lefts[1].value = "applicant"
    conditions.rights[1].value = "Kim"
    conditions.logic.value = "custom"
    conditions.custom.value = "1 AND NOT 2"

    panel = d.debug
    panel.new_run.click()
    (inputs,) = [c for c in panel.start_box.children if isinstance(c, FormView)]
    inputs.controls["application_id"].value = "APP-9"
    inputs.controls["applicant"].value = "Kim"
    inputs.controls["amount"].value = "80000"
    panel.start.click()
    run_id = panel.debugger.run_id
    assert run_id == "R000001"
    assert "Collect documents" in panel.items.options[0][0]
    assert panel.person.options == ("sam", "wes")  # the Loan_Officers may act
    (form,) = panel.item_box.children
    panel.submit.click()  # the required checkbox is empty: the engine's own check says so
    assert "must be checked" in form._errors["documents_complete"].value
    form.controls["documents_complete"].value = True
    panel.submit.click()
    assert "Submitted as sam" in panel.message.value

    forward_to(d, "Decision: ")
    checks = html.unescape(panel.checks.value)
    assert "outcome Over_threshold of Amount_decision</b>: ✘ false" in checks
    assert "1 AND NOT 2 = true AND NOT true = false" in checks  # why: the applicant is Kim
    assert "amount &gt; 50000" in panel.checks.value and "80000" in checks
    assert "Decision: default outcome" in html.unescape(panel.where.value)  # so: Approval
    assert "applicant" in panel.data.value and "credit_score" in panel.data.value
    assert "<svg" in panel.diagram.value
    panel.back.click()
    assert "Decision" not in html.unescape(panel.where.value)
    panel.last.click()
    assert "Work item R000001-W2 for queue Underwriting" in html.unescape(panel.where.value)

    # Uma approves: funding runs, the run completes.
    panel.person.value = panel.person.options[0]
    (form,) = panel.item_box.children
    form.controls["approved"].value = True
    panel.submit.click()
    assert "run is Completed" in panel.message.value
    panel.last.click()
    assert "run Completed" in panel.where.value

    # Nothing reached the history: the same rows, the same runs.
    assert (engine.store.max_seq(), engine.store.run_count()) == (seq_before, runs_before)


def test_debug_a_record_triggered_design(api: AppApi, engine: Engine) -> None:
    seq_before = engine.store.max_seq()
    d = Designer(api, "case_escalation")
    panel = d.debug
    panel.new_run.click()
    assert "A Case record is saved" in panel.start_box.children[0].value
    panel.record.value = "Severity: Low\nAmount: 2500\nOwner: ada\nCaseNumber: '77'"
    panel.update.value = "Severity: High"
    panel.start.click()
    assert panel.debugger.run_id == "R000001"
    forward_to(d, "Run started")
    checks = html.unescape(panel.checks.value)
    assert "start conditions</b>: ✔ true" in checks and "High" in checks
    # A record change that does not meet the conditions starts nothing, and says so.
    panel.new_run.click()
    panel.record.value = "Severity: Low"
    panel.update.value = "Severity: Medium"
    panel.start.click()
    assert "the start conditions did not hold" in panel.message.value
    assert engine.store.max_seq() == seq_before


def test_debug_refuses_a_design_with_errors(api: AppApi) -> None:
    d = Designer(api, "loan")
    d.elements.value = 0
    d.editor.steps.value = 0
    d.editor.step_editor.target.value = "no_such_flow"
    d.debug.new_run.click()
    assert "Fix the 1 error first" in d.debug.message.value
    assert d.debug.debugger is None
