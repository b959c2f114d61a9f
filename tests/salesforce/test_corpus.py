"""Every real file: it validates (its findings listed here are real), draws, and runs.

Runs use the real engine with the placeholder flows `load` registers; where a flow's
result decides the path, the test binds a small Python function that does what the
flow's name says (the flows' own files are not public).
"""

from __future__ import annotations

import datetime as dt
import struct
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from orchlab import SYSTEM
from orchlab.definition.model import AfterSteps, Orchestration
from orchlab.definition.registry import Registry
from orchlab.definition.validate import validate
from orchlab.engine import Engine, VirtualClock
from orchlab.render import render, to_dot
from orchlab.salesforce import Imported, add_assignees, bind, load
from tests.salesforce.conftest import CORPUS_FILES, FIXTURES, SHORT_NAMES, corpus

# Each file's findings, as validate words them. Why each is real:
FINDINGS: dict[str, list[tuple[str, str, str, str]]] = {
    "AIM_IncidentOrchestration": [],
    "Recruiting_Orchestration_v6": [],
    # The step waits for a step that was deleted: the file names it by an internal id.
    "Handle_User_Deactivation_auto": [
        (
            "error",
            "step 'Generate_Transition_Quip_Doc' in stage 'Reassign_Opportunities'",
            "entry.conditions[1]",
            "unknown reference '43b39932-ea5b-4476-bad0-05ba0a396a0a.Status'",
        )
    ],
    # Stage 2 has no steps, so it completes the moment it starts.
    "Orchestration_Case": [("warning", "stage 'Stage_2'", "steps", "has no steps")],
    # The entry evaluation flow reads both approvers' outputs while they may still be null.
    "Orchestration_Parallel_Approvals": [
        (
            "warning",
            "step 'Complete_Config_If_Both_Approve' in stage 'Manage_Contract_Creation'",
            f"entry.inputs.{who}ApproveOrReject",
            f"reads {step}.Outputs.selectedAction but does not wait for step {step!r}",
        )
        for who, step in (
            ("manager", "Manager_Approves_or_Rejects"),
            ("supervisor", "Supervisor_Approves_or_Rejects"),
        )
    ],
    "Test_Orch3": [],
    "Test_Orchestration": [],
    # The draft's only stage is empty.
    "sampleautoorch": [("warning", "stage 'Stage_1'", "steps", "has no steps")],
}


@pytest.mark.parametrize("path", CORPUS_FILES, ids=SHORT_NAMES)
def test_validation_finds_exactly_the_real_problems(path: Path) -> None:
    orch, _, registry = load(path)
    found = [(p.severity.value, p.element, p.field, p.message) for p in validate(orch, registry)]
    expected = FINDINGS[orch.name]
    assert len(found) == len(expected), found
    for (severity, element, field, message), want in zip(found, expected, strict=True):
        assert (severity, element, field) == want[:3]
        assert message.startswith(want[3]), message


def test_without_placeholders_every_named_flow_is_reported() -> None:
    orch = load(corpus("AIM_IncidentOrchestration")).orchestration
    problems = validate(orch, Registry())
    missing = {p.message.split("'")[1] for p in problems if "is not registered" in p.message}
    assert missing == {
        "AIM_GetIncidentStatus", "AIM_UpdateMilestone", "AIM_UpdateIncidentStatus",
        "AIM_EscalationFlow", "AIM_Status_Evaluation",
    }  # fmt: skip


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.needs_dot
@pytest.mark.parametrize("path", CORPUS_FILES, ids=SHORT_NAMES)
def test_every_file_draws_with_every_stage_step_and_outcome(path: Path, tmp_path: Path) -> None:
    orch = load(path).orchestration
    dot = to_dot(orch)
    shown = [e.label or e.name for e in orch.elements]
    shown += [s.label or s.name for _, s in orch.steps()]
    shown += [o.label or o.name for d in orch.decisions for o in d.outcomes]
    for text in shown:
        assert text.replace("&", "&amp;").split(" ")[0] in dot, text
    width, height = _png_size(render(orch, tmp_path / f"{orch.name}.png"))
    # Reviewed by eye: the widest (the incident router's seven outcomes) is 3,393 px wide.
    assert 200 < width < 4000 and 200 < height < 2500


# --- runs --------------------------------------------------------------------------------------


def _engine(imported: Imported) -> tuple[Engine, dict[str, str]]:
    engine = Engine(registry=imported.registry, clock=VirtualClock(dt.datetime(2026, 3, 2, 9)))
    acting = add_assignees(engine, imported.orchestration)
    return engine, acting


def _work(engine: Engine, acting: dict[str, str], values: dict[str, dict[str, Any]]) -> list[str]:
    """Complete open work items, as their assignees, until none is left; the steps done."""
    done = []
    for _ in range(50):
        items = engine.work_items()
        if not items:
            return done
        item = items[0]
        who = item.owner or acting.get(item.assignee, item.assignee)
        engine.complete_work_item(item.id, who, values.get(item.step_name, {}))
        done.append(item.step_name)
    raise AssertionError("still working after 50 work items")


def _stages(engine: Engine, run_id: str) -> list[str]:
    rows = engine.store.execute(
        "SELECT stage_name FROM log WHERE instance_id = ? AND kind = 'StartStage' ORDER BY seq",
        [run_id],
    )
    return [r[0] for r in rows]


def _assigned(engine: Engine, step: str) -> list[tuple[str, str | None]]:
    """(assignee, related record) of each work item the step had, from the history."""
    rows = engine.store.execute(
        "SELECT assignee_id, related_record_id FROM work_items WHERE step_name = ? ORDER BY id",
        [step],
    )
    return [(a, r) for a, r in rows]


def _only_run(engine: Engine) -> str:
    (run_id,) = [r[0] for r in engine.store.execute("SELECT id FROM runs")]
    return run_id


def test_incident_orchestration_runs_its_status_loop() -> None:
    imported = load(corpus("AIM_IncidentOrchestration"))
    engine, acting = _engine(imported)
    incident = {"status": "New"}
    registry = imported.registry
    bind(
        registry, "AIM_GetIncidentStatus", lambda incidentId: {"incidentStatus": incident["status"]}
    )

    def update_status(incidentId: str, statusFrom: str, statusTo: str) -> dict[str, Any]:
        if incident["status"] == statusFrom:
            incident["status"] = statusTo
        return {}

    bind(registry, "AIM_UpdateIncidentStatus", update_status)
    # The stage is done once the incident has left the status the stage handles.
    bind(
        registry,
        "AIM_Status_Evaluation",
        lambda incidentId, isCheckEquality, statusValue: incident["status"] != statusValue,
    )
    engine.deploy(imported.orchestration, by=SYSTEM)
    engine.create_record("Incident", {"Subject": "Printer on fire"}, by=SYSTEM)
    run_id = _only_run(engine)
    assert _work(engine, acting, {}) == [
        "Flow_First_Response",
        "Flow_Qualification",
        "Flow_Notification",
    ]
    assert engine.run_status(run_id) == "InProgress"  # waits: no step of that stage moves on
    incident["status"] = "Resolved"  # an agent resolves the incident
    engine.publish_event(run_id, by=SYSTEM)
    assert _work(engine, acting, {}) == ["Flow_Completion"]
    assert engine.run_status(run_id) == "Completed"
    assert _stages(engine, run_id) == [
        "Refresh_Incident_Status", "FirstResponseStage", "Refresh_Incident_Status",
        "QualificationStage", "Refresh_Incident_Status", "NotificationInProgressStage",
        "Refresh_Incident_Status", "ResolutionStage", "Refresh_Incident_Status", "ClosureStage",
    ]  # fmt: skip
    milestones = registry.get("AIM_UpdateMilestone").fn.calls
    assert milestones[-1]["milestoneName"] == "AIM - Incident Closed"


@pytest.mark.parametrize(("score", "offer"), [(4, True), (2, False)])
def test_recruiting_orchestration_hires_or_rejects(score: int, offer: bool) -> None:
    imported = load(corpus("Recruiting_Orchestration_v6"))
    engine, acting = _engine(imported)
    for username in ("recruiter", "nick.sanchez", "hiring.manager"):
        engine.add_user(username, by=SYSTEM)
    imported.registry.get("Get_Usernames").fn.returns = {"varNickSanchezUsername": "nick.sanchez"}
    engine.deploy(imported.orchestration, by=SYSTEM)
    fields = {
        "Owner": {"Username": "recruiter"},
        "Hiring_Manager__r": {"Username": "hiring.manager"},
    }
    engine.create_record("Position__c", fields, by=SYSTEM)
    run_id = _only_run(engine)
    values = {
        "Recruiter_Phone_Screen": {"varReviewScore": score},
        "Hiring_Manager_Interview": {"continueWithNextStage": offer},
    }
    done = _work(engine, acting, values)
    assert engine.run_status(run_id) == "Completed"
    if score >= 3:
        assert done == [
            "Enter_Job_Application", "Recruiter_Phone_Screen", "Hiring_Manager_Interview",
            "Create_and_Send_Offer",
        ]  # fmt: skip
        # $Record.Hiring_Manager__r.Username, a related record's field
        assert _assigned(engine, "Create_and_Send_Offer") == [("hiring.manager", "REC000001")]
        assert _assigned(engine, "Enter_Job_Application")[0][0] == "recruiter"  # Owner:User
    else:
        assert done == ["Enter_Job_Application", "Recruiter_Phone_Screen"]
        assert _stages(engine, run_id)[-1] == "Candidate_Rejected"


def _fix_stale_reference(orch: Orchestration) -> Orchestration:
    """The one repair the deactivation file needs to deploy: wait for the step it meant."""
    stage = orch.element("Reassign_Opportunities")
    steps = [
        replace(s, entry=AfterSteps(("Reassign_Account_Ownership",)))
        if s.name == "Generate_Transition_Quip_Doc"
        else s
        for s in stage.steps
    ]
    stage = replace(stage, steps=tuple(steps))
    return replace(
        orch, elements=tuple(stage if e.name == stage.name else e for e in orch.elements)
    )


def test_user_deactivation_runs_once_its_stale_reference_is_repaired() -> None:
    imported = load(corpus("Handle_User_Deactivation_auto"))
    engine, acting = _engine(imported)
    for username in ("leaving.user", "their.manager"):
        engine.add_user(username, by=SYSTEM)
    registry = imported.registry
    bind(
        registry,
        "Evaluate_Stage_for_Completion",
        lambda DidUserRespondToMessage, DidWaitingPeriodElapse: bool(
            DidUserRespondToMessage or DidWaitingPeriodElapse
        ),
    )
    registry.get("Wait_for_User_to_Responsd").fn.returns = {"booleanWaitingPeriodElapsed": True}
    engine.deploy(_fix_stale_reference(imported.orchestration), by=SYSTEM)
    user = {"Id": "005A", "Username": "leaving.user", "Manager": {"Username": "their.manager"}}
    run = engine.start_run(
        imported.orchestration.name, {"curUser": user, "recordId": "005A"}, by=SYSTEM
    )
    values = {"Invite_Owner_to_Confirm_Interest": {"booleanKeepAccountActive": False}}
    assert _work(engine, acting, values) == [
        "Invite_Owner_to_Confirm_Interest",
        "Reassign_Account_Ownership",
    ]
    assert engine.run_status(run.id) == "Completed"
    # curUser.Manager.Username: a field of a record input's related record
    assert _assigned(engine, "Reassign_Account_Ownership") == [("their.manager", "005A")]
    assert registry.get("Load_User").fn.calls == [{"recordId": "005A"}]


def test_parallel_approvals_wait_for_both_approvers() -> None:
    imported = load(corpus("Orchestration_Parallel_Approvals"))
    engine, acting = _engine(imported)
    bind(
        imported.registry,
        "Entry_Flow_Have_Both_Approvals_Been_Received",
        lambda managerApproveOrReject, supervisorApproveOrReject: bool(
            managerApproveOrReject and supervisorApproveOrReject
        ),
    )
    engine.deploy(imported.orchestration, by=SYSTEM)
    engine.create_record("Contract", {"Name": "C-1"}, by=SYSTEM)
    run_id = _only_run(engine)
    first = engine.work_items()
    assert [w.step_name for w in first] == [
        "Manager_Approves_or_Rejects",
        "Supervisor_Approves_or_Rejects",
    ]
    engine.complete_work_item(first[0].id, first[0].assignee, {"selectedAction": "approve"})
    assert [w.step_name for w in engine.work_items()] == ["Supervisor_Approves_or_Rejects"]
    engine.complete_work_item(first[1].id, first[1].assignee, {"selectedAction": "approve"})
    assert _work(engine, acting, {}) == ["Complete_Config_If_Both_Approve"]
    assert engine.run_status(run_id) == "Completed"


@pytest.mark.parametrize(
    ("short", "steps"),
    [
        ("Orchestration_Case", ["Request_Approval", "Report_Results"]),
        ("Test_Orchestration", ["Open_Case", "test_2_step"]),
        ("Test_Orch3", ["Step_1_of_Stage_1"]),
        ("sampleautoorch", []),
    ],
)
def test_the_small_files_run_to_the_end(short: str, steps: list[str]) -> None:
    imported = load(corpus(short))
    orch = imported.orchestration
    engine, acting = _engine(imported)
    engine.deploy(orch, by=SYSTEM)
    if orch.start.kind == "autolaunched":
        run_id = engine.start_run(orch.name, by=SYSTEM).id
    else:
        record = engine.create_record(orch.start.object, {"Name": "Acme"}, by=SYSTEM).id
        if orch.start.on == "update":
            assert engine.store.execute("SELECT count(*) FROM runs") == [(0,)]
            engine.update_record(record, {"StageName": "Negotiation"}, by=SYSTEM)
        run_id = _only_run(engine)
    values = {"Open_Case": {"testOutput": "from the first step"}}
    assert _work(engine, acting, values) == steps
    assert engine.run_status(run_id) == "Completed"
    if short == "Test_Orchestration":
        payload = engine.store.execute(
            "SELECT payload FROM log WHERE step_name = 'test_2_step' AND kind = 'StartWorkItem'"
        )
        assert "from the first step" in payload[0][0]  # Open_Case.Outputs.testOutput passed on


def test_the_synthetic_claim_takes_its_fault_path_and_waits_for_its_record() -> None:
    imported = load(FIXTURES / "Claims_Synthetic.flow-meta.xml")
    engine, acting = _engine(imported)

    def partner_api(score: Any) -> dict[str, Any]:
        raise ConnectionError("partner API down")

    bind(imported.registry, "Partner_Claims_API", partner_api)
    engine.deploy(imported.orchestration, by=SYSTEM)
    record = engine.create_record(
        "Claim__c", {"Status__c": "Submitted", "Amount__c": 5}, by=SYSTEM
    ).id
    run_id = _only_run(engine)
    assert _work(engine, acting, {}) == ["Fix_Intake"]  # Intake failed: the fault path ran
    assert _stages(engine, run_id) == ["Intake", "Recovery", "Close"]
    failed = engine.store.execute("SELECT step_name, comments FROM log WHERE kind = 'FailStep'")
    assert failed == [
        (
            "Notify_Partner",
            "step 'Notify_Partner': action 'Partner_Claims_API' raised ConnectionError: "
            "partner API down",
        )
    ]
    assert engine.run_status(run_id) == "InProgress"  # Archive waits for the claim to be paid
    engine.update_record(record, {"Status__c": "Paid"}, by=SYSTEM)
    assert engine.run_status(run_id) == "Completed"
    assert imported.registry.get("Archive_Claim").fn.calls == [{"claimId": record}]
    assert engine.store.execute("SELECT count(*) FROM runs") == [(1,)]  # no second start
