"""Reading orchestration metadata: what each part of the format becomes in the model."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest

from orchlab.definition.conditions import Condition, Conditions, Operator
from orchlab.definition.model import (
    AfterSteps,
    AllStepsComplete,
    Assignee,
    AssigneeKind,
    Autolaunched,
    BackgroundStep,
    Connector,
    Decision,
    EvaluationFlow,
    ExternalStep,
    FormSubmitted,
    InteractiveStep,
    OnStageStart,
    RecordTrigger,
    Requirements,
    Stage,
    TriggerEvent,
    Variable,
)
from orchlab.definition.ref import Ref
from orchlab.definition.validate import validate
from orchlab.definition.values import ValueType
from orchlab.errors import MetadataError
from orchlab.salesforce import api_version, dumps, kept_aside, load, loads, status
from orchlab.salesforce.metadata_load import api_name
from tests.salesforce.conftest import CORPUS_FILES, FIXTURES, SHORT_NAMES, STAGE, corpus, flow_xml

CLAIMS = FIXTURES / "Claims_Synthetic.flow-meta.xml"


def _kept(orch, owner: str) -> list[str]:
    return [p.text for p in orch.kept if p.owner == owner]


@pytest.mark.parametrize("path", CORPUS_FILES, ids=SHORT_NAMES)
def test_every_corpus_file_loads_with_its_api_name(path: Path) -> None:
    orch, warnings, _ = load(path)
    assert orch.name == path.name.removesuffix(".flow-meta.xml").rsplit("__", 1)[1]
    assert orch.stages and warnings[0].field == "name"  # the renamed file is reported


def test_the_api_name_comes_from_the_file_name() -> None:
    assert api_name("flows/Case_Flow.flow-meta.xml") == ("Case_Flow", None)
    assert api_name("flows/Case_Flow.flow") == ("Case_Flow", None)
    name, note = api_name("a__b__Case_Flow.flow-meta.xml")
    assert name == "Case_Flow" and "'__'" in note
    assert load(corpus("Test_Orch3"), name="Other").orchestration.name == "Other"


def test_incident_orchestration() -> None:
    orch = load(corpus("AIM_IncidentOrchestration")).orchestration
    assert orch.start == RecordTrigger("Incident", TriggerEvent.CREATE)
    assert orch.label == "Incident Orchestration" and orch.first == "Refresh_Incident_Status"
    assert [e.name for e in orch.elements][:3] == [
        "Refresh_Incident_Status",
        "Check_Incident_Status",
        "FirstResponseStage",
    ]  # path order, not the file's alphabetical order
    check = orch.element("Check_Incident_Status")
    assert isinstance(check, Decision) and check.default is None
    assert [o.name for o in check.outcomes] == [
        "isNew", "isOpen", "isInProgress", "isResolved", "isEscalated", "isCompleted", "isClosed",
    ]  # fmt: skip
    assert check.outcomes[2].conditions == Conditions(
        (
            Condition(
                Ref("Get_Incident_Status.Outputs.incidentStatus"), Operator.EQUALS, "In Progress"
            ),
        )
    )
    assert check.outcomes[0].label == "New (First Response)"
    loops = [e for e in orch.stages if e.next == Connector("Refresh_Incident_Status", goto=True)]
    assert len(loops) == 5
    escalated = orch.element("Escalated")
    assert escalated.exit == EvaluationFlow(
        "AIM_Status_Evaluation",
        (
            ("isCheckEquality", False),
            ("incidentId", Ref("$Record.Id")),
            ("statusValue", "Escalated"),
        ),
    )
    first = orch.element("FirstResponseStage")
    flow, milestone, status_step = first.steps
    assert flow == InteractiveStep(
        "Flow_First_Response", "AIM_Stage_Flow_First_Response",
        Assignee(AssigneeKind.QUEUE, "AIM_FirstResponse"), label="First Response Flow",
        inputs=(("incidentId", Ref("$Record.Id")),), context_record=Ref("$Record.Id"),
    )  # fmt: skip
    assert milestone.entry == AfterSteps(("Flow_First_Response",))
    assert status_step.entry == AfterSteps(("Update_First_Response_Milestone",))
    assert orch.element("ClosureStage").next is None  # no connector: the path ends
    assert "<stepSubtype>InteractiveStep</stepSubtype>" in _kept(orch, "step:Flow_First_Response")
    assert (api_version(orch), status(orch)) == ("56.0", "Active")


def test_recruiting_orchestration() -> None:
    orch = load(corpus("Recruiting_Orchestration_v6")).orchestration
    assert orch.label == "**Recruiting Orchestration**"
    advance = orch.element("Advance_to_Next_Round")
    (yes,) = advance.outcomes
    assert yes.conditions.items == (
        Condition(Ref("Recruiter_Phone_Screen.Outputs.varReviewScore"), ">=", 3.0),
    )
    assert advance.default == Connector("Candidate_Rejected")
    assert advance.default_label == "No"
    assert orch.element("Make_Offer").default is None  # no default connector: End
    _, enter = orch.find_step("Enter_Job_Application")
    assert enter.assignee == Assignee(AssigneeKind.REFERENCE, "$Record.Owner:User.Username")
    _, screen = orch.find_step("Recruiter_Phone_Screen")
    assert screen.assignee.name == "Get_Usernames_Step.Outputs.varNickSanchezUsername"
    assert screen.inputs == (
        ("jobApplicationId", Ref("Enter_Job_Application.Outputs.varJobApplicationId")),
    )


def test_autolaunched_with_input_variables() -> None:
    orch, warnings, _ = load(corpus("Handle_User_Deactivation_auto"))
    assert orch.start == Autolaunched()
    assert orch.variables == (
        Variable("curUser", ValueType.RECORD, is_input=True, object="User"),
        Variable("recordId", ValueType.TEXT, is_input=True),
        Variable("UserResponded", ValueType.BOOLEAN, is_input=True, is_output=True),
    )
    contact = orch.element("Contact_Current_Owner")
    assert contact.exit.flow == "Evaluate_Stage_for_Completion"
    assert [k for k, _ in contact.exit.inputs] == [
        "DidUserRespondToMessage",
        "DidWaitingPeriodElapse",
    ]
    _, invite = orch.find_step("Invite_Owner_to_Confirm_Interest")
    assert invite.assignee == Assignee(AssigneeKind.REFERENCE, "curUser.Username")
    assert invite.context_record == Ref("curUser.Id")
    _, quip = orch.find_step("Generate_Transition_Quip_Doc")
    # a stale reference to a deleted step stays a requirement (validation reports it)
    assert quip.entry == Requirements(
        Conditions(
            (Condition(Ref("43b39932-ea5b-4476-bad0-05ba0a396a0a.Status"), "equals", "Completed"),)
        )
    )
    async_warning = [w for w in warnings if "<requiresAsyncProcessing>true" in w.message]
    assert [w.element for w in async_warning] == ["step 'Wait_for_User_to_Respond'"]
    assert orch.element("Did_User_Respond").default_label == "User Didn't Respond"


def test_legacy_api_52_files() -> None:
    orch = load(corpus("Orchestration_Parallel_Approvals")).orchestration
    (stage,) = orch.stages
    manager, _, complete = stage.steps
    assert (
        isinstance(manager, InteractiveStep)
        and manager.screen == "Orchestration_StepFlow_Request_Approval"
    )
    assert manager.inputs == (
        ("ActionInput__Assignee", None),
        ("ActionInput__OrchInstanceId", None),
        ("ActionInput__StepInstanceId", None),
    )
    assert manager.context_record == Ref("$Record.Id") and manager.description == "describe"
    assert complete.entry == EvaluationFlow(
        "Entry_Flow_Have_Both_Approvals_Been_Received",
        (
            ("managerApproveOrReject", Ref("Manager_Approves_or_Rejects.Outputs.selectedAction")),
            (
                "supervisorApproveOrReject",
                Ref("Supervisor_Approves_or_Rejects.Outputs.selectedAction"),
            ),
        ),
    )
    assert "<entryActionType>flow</entryActionType>" in _kept(
        orch, "step:Complete_Config_If_Both_Approve"
    )
    assert _kept(orch, "step:Manager_Approves_or_Rejects") == [
        "<actionType>createWorkItem</actionType>"
    ]
    orch3 = load(corpus("Test_Orch3")).orchestration
    assert orch3.start.on is TriggerEvent.UPDATE
    (step,) = orch3.stages[0].steps
    assert step.context_record == "001B000001LhRCFIA3"  # a hard-coded record Id
    assert ("recordId", None) in step.inputs
    loaded = load(corpus("Orchestration_Case"))
    _, results = loaded.orchestration.find_step("Report_Results")
    # Written with a tab after it in the file: trimmed (no username has one), and said so.
    assert results.assignee == Assignee(AssigneeKind.USER, "test-4amlyek43vmq@example.com")
    assert any("has spaces around it; trimmed" in str(w) for w in loaded.warnings)
    assert results.entry == AfterSteps(("Request_Approval",))


def test_a_draft_with_an_empty_stage() -> None:
    orch = load(corpus("sampleautoorch")).orchestration
    assert orch.stages == (Stage("Stage_1", label="Stage 1"),)
    assert status(orch) == "Draft" and api_version(orch) == "55.0"


def test_synthetic_file_start_filters_and_logic() -> None:
    orch = load(CLAIMS).orchestration
    assert orch.start == RecordTrigger(
        "Claim__c",
        TriggerEvent.CREATE_OR_UPDATE,
        Conditions(
            (
                Condition(Ref("$Record.Status__c"), "equals", "Submitted"),
                Condition(Ref("$Record.Amount__c"), "greater_than", 0.0),
                Condition(Ref("$Record.Priority__c"), "is_changed"),
            ),
            "1 AND (2 OR 3)",
        ),
        only_when_changed=True,
    )


def test_synthetic_file_steps_of_every_kind() -> None:
    orch = load(CLAIMS).orchestration
    intake = orch.element("Intake")
    score, partner, review, approve, manager = intake.steps
    assert isinstance(score, BackgroundStep) and score.outputs == (("score", "claimScore"),)
    assert isinstance(partner, ExternalStep) and partner.action == "Partner_Claims_API"
    assert partner.entry == AfterSteps(("Score",))
    assert review.assignee == Assignee(AssigneeKind.GROUP, "Claim_Reviewers")
    assert (
        review.exit.conditions.logic == "1 AND (2 OR 3)" and len(review.exit.conditions.items) == 3
    )
    assert review.inputs == (("dueBy", dt.date(2026, 2, 1)),)
    assert isinstance(approve, InteractiveStep)  # stepApproval
    assert approve.exit == EvaluationFlow("Approval_Recorded", (("claimId", Ref("$Record.Id")),))
    assert approve.inputs == (
        ("ActionInput__CustomEmailSubject", "Claim {!$Record.Name} needs approval"),
    )
    assert any("formulaExpression" in t for t in _kept(orch, "step:Approve"))  # not passed, kept
    assert manager.assignee == Assignee(AssigneeKind.REFERENCE, "$Record.Owner.Manager.Username")
    assert _kept(orch, "step:Manager_Check/assignees") == ["<assigneeType>Resource</assigneeType>"]
    assert intake.on_fault == Connector("Recovery")
    assert intake.exit == Requirements(
        Conditions(
            (
                Condition(Ref("Review.Status"), "equals", "Completed"),
                Condition(Ref("$Record.Status__c"), "equals", "Withdrawn"),
            ),
            "or",
        )
    )
    assert _kept(orch, "stage:Intake") == ["<runAsUser>true</runAsUser>"]
    pay = orch.element("Payout")
    assert pay.steps[0].entry == EvaluationFlow(
        "Funds_Available", (("claimId", Ref("$Record.Id")),)
    )
    assert pay.exit.flow == "Payout_Confirmed"
    archive = orch.element("Close").steps[0]
    assert archive.entry.conditions.logic == "or"


def test_synthetic_file_decision_and_resources() -> None:
    orch = load(CLAIMS).orchestration
    route = orch.element("Route")
    more, large = route.outcomes
    assert (
        more.next == Connector("Intake", goto=True) and more.conditions.logic == "1 AND NOT(2 OR 3)"
    )
    assert more.conditions.items[2] == Condition(Ref("$Record.Closed_Date__c"), "is_null", False)
    assert large.conditions.items[0].right == Ref("cMaxAmount")
    assert route.default == Connector("Close") and route.default_label == "Small claim"
    names = {v.name: v for v in orch.variables}
    assert names["region"].type is ValueType.TEXT  # Picklist, kept aside to be written back
    assert names["payoutConfirmed"].default is False
    assert names["cMaxAmount"] == Variable("cMaxAmount", ValueType.NUMBER, default=10000.0)
    assert names["fxDaysOpen"] == Variable("fxDaysOpen", ValueType.NUMBER)
    assert names["ttSummary"].type is ValueType.TEXT
    tags = {tag for _, tag, _ in kept_aside(orch)}
    assert {"formulas", "constants", "textTemplates", "runInMode", "scale", "shouldLock"} <= tags


def test_every_kept_part_is_reported() -> None:
    orch, warnings, _ = load(CLAIMS)
    reported = " ".join(f"{w.element} {w.field} {w.message}" for w in warnings)
    for owner, tag, _ in kept_aside(orch):
        assert f"<{tag}>" in reported, (owner, tag)


def test_both_casings_of_evaluation_flow() -> None:
    for casing in ("evaluationFlow", "EvaluationFlow"):
        extra = (
            f"<exitActionName>Done_Yet</exitActionName><exitActionType>{casing}</exitActionType>"
        )
        xml = flow_xml(STAGE.format(name="Review", extra=extra, steps=""))
        orch = loads(xml, "Demo").orchestration
        assert orch.element("Review").exit == EvaluationFlow("Done_Yet")


def test_an_interactive_step_without_assignee_reads_as_none() -> None:
    step = (
        "<stageSteps><name>S</name><actionName>Scr</actionName>"
        "<actionType>stepInteractive</actionType><entryConditionLogic>and</entryConditionLogic>"
        "<label>S</label></stageSteps>"
    )
    orch = loads(flow_xml(STAGE.format(name="Review", extra="", steps=step)), "Demo").orchestration
    (s,) = orch.stages[0].steps
    assert s.assignee is None and s.exit == FormSubmitted() and s.entry == OnStageStart()
    assert orch.stages[0].exit == AllStepsComplete()


def _step(action_type: str = "stepBackground", extra: str = "") -> str:
    body = (
        f"<stageSteps><name>S</name><actionName>F</actionName><actionType>{action_type}"
        f"</actionType>{extra}<entryConditionLogic>and</entryConditionLogic><label>S</label>"
        "</stageSteps>"
    )
    return flow_xml(STAGE.format(name="Review", extra="", steps=body))


def _entry(operator: str, right: str = "") -> str:
    return _step(
        extra=f"<entryConditions><leftValueReference>$Record.X</leftValueReference>"
        f"<operator>{operator}</operator>{right}</entryConditions>"
    )


_TO_GONE = "<connector><targetReference>Gone</targetReference></connector>"
_LOOKUP = "<recordLookups><name>Get_It</name></recordLookups><start>"
_DELETE = "<object>Case</object><recordTriggerType>Delete</recordTriggerType><connector>"
REFUSALS = {
    "dangling-start": (
        flow_xml(first="Nowhere"),
        "the start connects to 'Nowhere', which is not an element; expected one of: Review",
        "Nowhere",
    ),
    "dangling-stage": (
        flow_xml(STAGE.format(name="Review", extra=_TO_GONE, steps="")),
        "stage 'Review' connects to 'Gone'",
        "Gone",
    ),
    "step-type": (_step("stepTeleport"), "unknown step type 'stepTeleport'", "stepTeleport"),
    "operator": (_entry("WasVisited"), "operator 'WasVisited' has no orchlab", "WasVisited"),
    "number": (
        _entry("EqualTo", "<rightValue><numberValue>ten</numberValue></rightValue>"),
        "'ten' is not a number",
        "ten",
    ),
    "duplicate": (
        flow_xml(STAGE.format(name="Review", extra="", steps="") * 2),
        "stage 'Review' has the name of the stage on line 5",
        10,  # where the second one starts
    ),
    "foreign-target": (
        flow_xml(first="Get_It").replace("<start>", _LOOKUP),
        "a <recordLookups> element, which orchestrations cannot run",
        "Get_It</targetReference>",
    ),
    "trigger": (
        flow_xml().replace("<connector>", _DELETE),
        "record trigger type 'Delete'; expected Create, Update or CreateAndUpdate",
        "Delete",
    ),
}


@pytest.mark.parametrize(("xml", "message", "line_of"), REFUSALS.values(), ids=REFUSALS.keys())
def test_refusals_name_the_file_the_line_and_the_element(
    xml: str, message: str, line_of: str | int
) -> None:
    with pytest.raises(MetadataError) as caught:
        loads(xml, "Demo", source="Demo.flow-meta.xml")
    error = caught.value
    assert message in str(error) and error.path == "Demo.flow-meta.xml"
    assert str(error).startswith("Demo.flow-meta.xml")
    lines = enumerate(xml.splitlines(), 1)
    expected = line_of if isinstance(line_of, int) else next(i for i, t in lines if line_of in t)
    assert error.line == expected and error.element


def test_an_approval_workflow_is_read_too() -> None:
    orch = loads(flow_xml(process="ApprovalWorkflow"), "Demo").orchestration
    assert "<processType>ApprovalWorkflow</processType>" in _kept(orch, "")


def test_is_empty_reads_as_is_blank_and_is_written_back() -> None:
    xml = _entry("IsEmpty", "<rightValue><booleanValue>true</booleanValue></rightValue>")
    orch, warnings, _ = loads(xml, "Demo")
    (step,) = orch.stages[0].steps
    assert step.entry == Requirements(Conditions((Condition(Ref("$Record.X"), "is_blank"),)))
    assert [w.message for w in warnings if "IsEmpty" in w.message] == [
        "kept aside and written back on save: <operator>IsEmpty</operator>; read as is_blank"
    ]
    written = dumps(orch)
    assert "<operator>IsEmpty</operator>" in written and "IsBlank" not in written
    assert loads(written, "Demo").orchestration == orch
    # once the condition is changed in orchlab, what was kept no longer applies
    changed = replace(
        step, entry=Requirements(Conditions((Condition(Ref("$Record.X"), "is_null"),)))
    )
    stage = replace(orch.stages[0], steps=(changed,))
    assert "<operator>IsNull</operator>" in dumps(replace(orch, elements=(stage,)))


def test_a_draft_step_that_calls_nothing_yet_loads() -> None:
    orch, warnings, registry = loads(_step().replace("<actionName>F</actionName>", ""), "Demo")
    (step,) = orch.stages[0].steps
    assert step.flow == "" and len(registry) == 0
    assert [w.field for w in warnings if "calls no flow" in w.message] == ["<actionName>"]
    assert loads(dumps(orch), "Demo").orchestration == orch
    assert [p.field for p in validate(orch, registry)] == ["flow"]


def test_a_kept_step_subtype_follows_the_step_type() -> None:
    orch = load(CLAIMS).orchestration
    stage = orch.element("Intake")
    score = stage.step("Score")
    as_interactive = InteractiveStep(score.name, "Some_Screen", None)
    steps = tuple(as_interactive if s.name == "Score" else s for s in stage.steps)
    text = dumps(replace(orch, elements=(replace(stage, steps=steps), *orch.elements[1:])))
    assert "<stepSubtype>BackgroundStep</stepSubtype>" not in text
    assert "<stepSubtype>MuleSoftStep</stepSubtype>" in text


def test_a_comment_is_reported_as_not_kept() -> None:
    warnings = load(CLAIMS).warnings
    (note,) = [w for w in warnings if w.field == "<!-- -->"]
    assert note.line == 2 and "not kept" in note.message
