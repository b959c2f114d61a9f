"""The run-history objects' fields as Salesforce defines them: API names, labels and types.

One table serves both directions: the importer maps headers to API names with it (API names
and report labels, matched without regard to case, spaces or punctuation), and the sample
export generator writes exactly these columns. Field names and labels follow the Object
Reference (../shared/reference/salesforce.md §2); report labels vary by report type, so
each field may have several.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "OBJECTS",
    "INSTANCE",
    "STAGE",
    "STEP",
    "WORK_ITEM",
    "LOG",
    "FieldSpec",
    "ObjectSpec",
    "normal",
]

INSTANCE = "FlowOrchestrationInstance"
STAGE = "FlowOrchestrationStageInstance"
STEP = "FlowOrchestrationStepInstance"
WORK_ITEM = "FlowOrchestrationWorkItem"
LOG = "FlowOrchestrationLog"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field: its API name, type (`id`, `text`, `datetime`, `int`, `bool`) and labels."""

    name: str
    type: str = "text"
    labels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ObjectSpec:
    name: str
    label: str  # the object's UI name, as report types and file names say it
    fields: tuple[FieldSpec, ...]
    # The relationship columns an export may carry instead of (or besides) the Id.
    relations: tuple[FieldSpec, ...] = ()

    def field(self, header: str) -> FieldSpec | None:
        return _INDEX[self.name].get(normal(header))


def normal(text: str) -> str:
    """A header as the importer compares it: no case, spaces, punctuation or BOM."""
    return re.sub(r"[^a-z0-9.]", "", text.lower().replace("\ufeff", ""))


_SYSTEM = (
    FieldSpec("CreatedDate", "datetime", ("Created Date",)),
    FieldSpec("CreatedById", "id", ("Created By ID",)),
    FieldSpec("LastModifiedDate", "datetime", ("Last Modified Date",)),
    FieldSpec("LastModifiedById", "id", ("Last Modified By ID",)),
    FieldSpec("SystemModstamp", "datetime", ("System Modstamp",)),
    FieldSpec("IsDeleted", "bool", ("Deleted",)),
    FieldSpec("OwnerId", "id", ("Owner ID",)),
)

_OWNER = (
    FieldSpec("Owner.Name", "text", ("Owner Name", "Owner", "Owner: Full Name")),
    FieldSpec("CreatedBy.Name", "text", ("Created By", "Created By: Full Name")),
    FieldSpec("CreatedBy.Username", "text", ("Created By: Username",)),
)

_RUN_REF = (
    FieldSpec(
        "OrchestrationInstance.Name",
        "text",
        (
            "FlowOrchestrationInstance.Name",
            "Orchestration Run Name",
            "Orchestration Instance Name",
            "Orchestration Run: Orchestration Run Name",
        ),
    ),
)

OBJECTS: dict[str, ObjectSpec] = {
    INSTANCE: ObjectSpec(
        INSTANCE,
        "Orchestration Run",
        (
            FieldSpec(
                "Id", "id", ("Orchestration Run ID", "Orchestration Instance ID", "Record ID")
            ),
            FieldSpec("Name", "text", ("Orchestration Run Name", "Orchestration Instance Name")),
            FieldSpec("Status", "text", ("Status", "Orchestration Run Status")),
            FieldSpec(
                "OrchestrationDeveloperName",
                "text",
                ("Orchestration API Name", "Orchestration Developer Name"),
            ),
            FieldSpec("OrchestrationName", "text", ("Orchestration Name",)),
            FieldSpec("OrchestrationLabel", "text", ("Orchestration Label",)),
            FieldSpec("FlowDefinitionVersionName", "text", ("Flow Definition Version Name",)),
            FieldSpec("FlowType", "text", ("Flow Type",)),
            FieldSpec("CurrentStage", "text", ("Current Stage",)),
            FieldSpec("Duration", "int", ("Duration", "Duration (seconds)")),
            FieldSpec("TriggeringRecord", "text", ("Triggering Record", "Triggering Record ID")),
            FieldSpec("TriggeringRecordType", "text", ("Triggering Record Type",)),
            FieldSpec("InterviewId", "id", ("Interview ID",)),
            FieldSpec("IsDebugRun", "bool", ("Debug Run", "Is Debug Run")),
            *_SYSTEM,
        ),
        _OWNER,
    ),
    STAGE: ObjectSpec(
        STAGE,
        "Orchestration Stage Run",
        (
            FieldSpec("Id", "id", ("Orchestration Stage Run ID", "Stage Run ID", "Record ID")),
            FieldSpec(
                "Name", "text", ("Orchestration Stage Run Name", "Stage Run Name", "Stage Name")
            ),
            FieldSpec("Label", "text", ("Label", "Stage Label")),
            FieldSpec(
                "OrchestrationInstanceId",
                "id",
                ("Orchestration Run ID", "Orchestration Instance ID", "Orchestration Run"),
            ),
            FieldSpec("OrchestrationName", "text", ("Orchestration Name",)),
            FieldSpec("Position", "int", ("Position",)),
            FieldSpec("Status", "text", ("Status", "Stage Status")),
            *_SYSTEM,
        ),
        _RUN_REF + _OWNER,
    ),
    STEP: ObjectSpec(
        STEP,
        "Orchestration Step Run",
        (
            FieldSpec("Id", "id", ("Orchestration Step Run ID", "Step Run ID", "Record ID")),
            FieldSpec(
                "Name", "text", ("Orchestration Step Run Name", "Step Run Name", "Step Name")
            ),
            FieldSpec("Label", "text", ("Label", "Step Label")),
            FieldSpec("Description", "text", ("Description",)),
            FieldSpec(
                "OrchestrationInstanceId",
                "id",
                ("Orchestration Run ID", "Orchestration Instance ID", "Orchestration Run"),
            ),
            FieldSpec(
                "StageInstanceId",
                "id",
                ("Orchestration Stage Run ID", "Stage Run ID", "Stage Instance ID", "Stage Run"),
            ),
            FieldSpec("OrchestrationName", "text", ("Orchestration Name",)),
            FieldSpec("OrchestrationStageName", "text", ("Orchestration Stage Name", "Stage")),
            FieldSpec("RelatedRecord", "text", ("Related Record",)),
            FieldSpec("InProgressStepOutputs", "text", ("In Progress Step Outputs",)),
            FieldSpec("Status", "text", ("Status", "Step Status")),
            FieldSpec("StepType", "text", ("Step Type",)),
            *_SYSTEM,
        ),
        (
            *_RUN_REF,
            FieldSpec(
                "StageInstance.Name",
                "text",
                ("Orchestration Stage Run Name", "Stage Run Name", "Stage Run: Name"),
            ),
            *_OWNER,
        ),
    ),
    WORK_ITEM: ObjectSpec(
        WORK_ITEM,
        "Orchestration Work Item",
        (
            FieldSpec("Id", "id", ("Orchestration Work Item ID", "Work Item ID", "Record ID")),
            FieldSpec("Name", "text", ("Orchestration Work Item Name", "Work Item Name")),
            FieldSpec("Label", "text", ("Label", "Work Item Label")),
            FieldSpec("Description", "text", ("Description",)),
            FieldSpec("Status", "text", ("Status", "Work Item Status")),
            FieldSpec("AssigneeId", "id", ("Assignee ID", "Assigned To ID")),
            FieldSpec("RelatedRecordId", "id", ("Related Record ID", "Related Record")),
            FieldSpec(
                "StepInstanceId",
                "id",
                ("Orchestration Step Run ID", "Step Run ID", "Step Instance ID", "Step Run"),
            ),
            FieldSpec("OrchestrationInstanceId", "id", ("Orchestration Run ID",)),
            FieldSpec("ScreenFlow", "text", ("Screen Flow",)),
            FieldSpec("ScreenFlowInputs", "text", ("Screen Flow Inputs",)),
            FieldSpec("FlowType", "text", ("Flow Type",)),
            FieldSpec("OrchestrationName", "text", ("Orchestration Name",)),
            FieldSpec("ParentWorkItemId", "id", ("Parent Work Item ID",)),
            FieldSpec("ElapsedTimeSinceAsgntInSec", "int", ("Elapsed Time Since Assignment",)),
            FieldSpec("ElapsedTimeSinceCreationInSec", "int", ("Elapsed Time Since Creation",)),
            *_SYSTEM,
        ),
        (
            FieldSpec("Assignee.Name", "text", ("Assigned To", "Assignee", "Assignee Name")),
            FieldSpec("Assignee.Type", "text", ("Assignee Type", "Assignment Type")),
            FieldSpec(
                "StepInstance.Name",
                "text",
                ("Orchestration Step Run Name", "Step Run Name", "Step Run: Name", "Step"),
            ),
            FieldSpec(
                "StepInstance.OrchestrationInstanceId",
                "id",
                ("Step Run: Orchestration Run ID",),
            ),
            *_OWNER,
        ),
    ),
    LOG: ObjectSpec(
        LOG,
        "Orchestration Run Log",
        (
            FieldSpec("Id", "id", ("Orchestration Run Log ID", "Run Log ID", "Record ID")),
            FieldSpec("Name", "text", ("Orchestration Run Log Name", "Run Log Name")),
            FieldSpec(
                "OrchestrationInstanceId",
                "id",
                ("Orchestration Run ID", "OrchestationInstanceId", "Orchestration Instance ID"),
            ),
            FieldSpec("OrchestrationName", "text", ("Orchestration Name",)),
            FieldSpec("OrchestrationVersion", "int", ("Orchestration Version", "Version")),
            FieldSpec("StageName", "text", ("Stage", "Stage Name")),
            FieldSpec("StepName", "text", ("Step", "Step Name")),
            FieldSpec("Kind", "text", ("Milestone",)),
            FieldSpec("Timestamp", "datetime", ("Timestamp", "Time Stamp")),
            FieldSpec("Duration", "int", ("Duration (seconds)", "Duration")),
            FieldSpec("Actor", "text", ("Completed By",)),
            FieldSpec("Assignee", "text", ("Assigned To",)),
            FieldSpec("AssigneeType", "text", ("Assignment Type", "Assignee Type")),
            FieldSpec("Context", "text", ("Context Record",)),
            FieldSpec("Comments", "text", ("Comments",)),
            *_SYSTEM,
        ),
        _RUN_REF + _OWNER,
    ),
}


def _index(spec: ObjectSpec) -> dict[str, FieldSpec]:
    """Header (normalised) -> field. API names win over labels; earlier labels over later."""
    out: dict[str, FieldSpec] = {}
    every = (*spec.fields, *spec.relations)
    for f in every:
        for label in f.labels:
            out.setdefault(normal(label), f)
    for f in every:  # an API name always means its own field, whatever a label says
        out[normal(f.name)] = f
        out[normal(f.name.replace(".", ""))] = f  # "OwnerName" for "Owner.Name"
    return out


_INDEX = {name: _index(spec) for name, spec in OBJECTS.items()}
