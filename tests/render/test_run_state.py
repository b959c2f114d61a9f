"""A run shown in JupyterLab: the diagram with the run's state painted on it."""

from __future__ import annotations

import shutil
from decimal import Decimal

import pytest

from orchlab import SYSTEM
from orchlab.engine import Engine
from orchlab.render import IMPLICIT_END, to_dot
from tests.engine.helpers import do


def test_picture_tells_done_waiting_and_path(engine: Engine) -> None:
    run = engine.start_run(
        "Loan", {"application_id": "A", "applicant": "Kim", "amount": Decimal("80000")}, by=SYSTEM
    )
    do(engine, "Collect_documents", {"documents_complete": True})
    pic = run.picture()
    assert pic.run_status == "InProgress"
    assert pic.element_status == {
        "Intake": "Completed",
        "Amount_decision": "Completed",
        "Escalation": "InProgress",
    }
    assert pic.step_status["Check_credit"] == "Completed"
    assert pic.waiting_on == {"Senior_review": "group: Senior_Underwriters"}
    assert pic.taken == {("Intake", "Amount_decision"), ("Amount_decision", "Escalation")}
    dot = to_dot(run.plan.orch, pic)
    assert "waiting on group: Senior_Underwriters" in dot


def test_a_finished_run_ends_at_end(engine: Engine) -> None:
    run = engine.start_run(
        "Loan", {"application_id": "A", "applicant": "Kim", "amount": Decimal("100")}, by=SYSTEM
    )
    do(engine, "Collect_documents", {"documents_complete": True})
    do(engine, "Approve_loan", {"approved": False})
    pic = run.picture()
    assert ("Approved_check", IMPLICIT_END) in pic.taken
    assert "Funding" not in pic.element_status


@pytest.mark.needs_dot
def test_a_run_displays_as_svg(engine: Engine) -> None:
    assert shutil.which("dot")
    run = engine.start_run(
        "Loan", {"application_id": "A", "applicant": "Kim", "amount": Decimal("100")}, by=SYSTEM
    )
    bundle = run._repr_mimebundle_()
    svg = bundle["image/svg+xml"]
    assert svg.lstrip().startswith("<?xml") or "<svg" in svg
    assert "Collect documents" in svg and f"Run {run.id}" in svg


def test_an_explicit_end_is_painted(clock) -> None:
    from orchlab.definition import builder as b
    from orchlab.definition.registry import Registry

    reg = Registry()
    reg.flow("noop", inputs={}, outputs={})(lambda: {})
    orch = b.orchestration("Short", b.stage("Only", b.background("Do", "noop")), b.end("Done"))
    eng = Engine(registry=reg, clock=clock)
    eng.deploy(orch, by=SYSTEM)
    run = eng.start_run("Short", by=SYSTEM)
    pic = run.picture()
    assert run.path == ["Only", "Done"]
    assert pic.taken == {("Only", "Done")} and pic.element_status["Done"] == "Completed"
    from orchlab.render import markup

    painted = markup(orch, pic)
    states = {(e.tail, e.head): e.state for e in painted.edges}
    assert "taken" in {s for (t, h), s in states.items() if "Done" in h}
