"""Status and milestone names, Salesforce's spelling, defined once."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "RUN_STATUS_OF",
    "STATUS_OF",
    "Kind",
    "RunStatus",
    "Status",
    "WorkItemStatus",
]


class RunStatus(StrEnum):
    """FlowOrchestrationInstance.Status."""

    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    CANCELED = "Canceled"
    SUSPENDED = "Suspended"
    ERROR = "Error"


class Status(StrEnum):
    """Stage and step run status (FlowOrchestrationStageInstance / StepInstance.Status)."""

    NOT_STARTED = "NotStarted"
    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    DISCONTINUED = "Discontinued"
    ERROR = "Error"
    CANCELED = "Canceled"
    SUSPENDED = "Suspended"


class WorkItemStatus(StrEnum):
    ASSIGNED = "Assigned"
    COMPLETED = "Completed"


class Kind:
    """Log row kinds: FlowOrchestrationLog's milestones, plus what orchlab must also remember.

    Plain strings rather than an Enum: every log row carries one, and the engine's
    dispatch on them is on the hot path.
    """

    START_INSTANCE = "StartInstance"
    END_INSTANCE = "EndInstance"
    CANCEL_INSTANCE = "CancelInstance"
    FAIL_INSTANCE = "FailInstance"
    SUSPEND_INSTANCE = "SuspendInstance"
    RESUME_INSTANCE = "ResumeInstance"
    START_STAGE = "StartStage"
    END_STAGE = "EndStage"
    DISCONTINUE_STAGE = "DiscontinueStage"
    FAIL_STAGE = "FailStage"
    START_STEP = "StartStep"
    END_STEP = "EndStep"
    DISCONTINUE_STEP = "DiscontinueStep"
    FAIL_STEP = "FailStep"
    START_WORK_ITEM = "StartWorkItem"
    END_WORK_ITEM = "EndWorkItem"
    REASSIGN_WORK_ITEM = "ReassignWorkItem"
    # orchlab's own, needed to replay a run exactly:
    TAKE_OUTCOME = "TakeOutcome"  # a decision chose an outcome
    CREATE_RECORD = "CreateRecord"
    UPDATE_RECORD = "UpdateRecord"
    PUBLISH_EVENT = "PublishEvent"  # FlowOrchestrationEvent
    DEPLOY = "Deploy"  # a definition saved as a new version (actor: who deployed it)
    ACTIVATE = "Activate"  # a version made the active one
    CHANGE_DIRECTORY = "ChangeDirectory"  # a user, group or queue added or replaced


# Status text (as read back from the store) -> the enum member, without Enum's slow __call__.
STATUS_OF = {s.value: s for s in Status}
RUN_STATUS_OF = {s.value: s for s in RunStatus}
