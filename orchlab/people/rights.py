"""Who may do what: the one table the engine consults before it changes anything.

Every change names its actor (`by=`): a username from the directory, or `SYSTEM` for trusted
code (set-up scripts, imports, integrations), which may do everything. The engine checks
here, so the command line and the apps inherit the same rules.

| action | who may |
|---|---|
| change the directory, deploy or activate a definition | admins, SYSTEM |
| cancel, suspend, resume a run; reassign a work item | admins, SYSTEM |
| finish an asynchronous step (run_step, finish_step) | admins, SYSTEM (the worker or integration) |
| start a run, create or update a record, publish an orchestration event | any user, SYSTEM |
| complete a work item | its user, a member of its group or queue (for a routed item: the member it was routed to), admins, SYSTEM |
"""  # noqa: E501 - a table

from __future__ import annotations

from enum import StrEnum

from orchlab.errors import PermissionDenied
from orchlab.people.directory import Directory

__all__ = ["SYSTEM", "Right", "require"]

SYSTEM = "system"  # the trusted actor; no user may take this name


class Right(StrEnum):
    """What an actor asks to do; the value reads in a message ("may not <value>")."""

    DIRECTORY = "change the directory"
    DEPLOY = "deploy or activate orchestrations"
    CANCEL = "cancel runs"
    SUSPEND = "suspend runs"
    RESUME = "resume runs"
    REASSIGN = "reassign work items"
    STEPS = "finish asynchronous steps"
    START = "start runs"
    RECORDS = "create or update records"
    EVENTS = "publish orchestration events"


ADMIN_ONLY = frozenset(
    {
        Right.DIRECTORY,
        Right.DEPLOY,
        Right.CANCEL,
        Right.SUSPEND,
        Right.RESUME,
        Right.REASSIGN,
        Right.STEPS,
    }
)


def require(directory: Directory, by: object, right: Right) -> str:
    """The actor's name if they may do this; else PermissionDenied saying who may.

    >>> require(Directory(), SYSTEM, Right.DEPLOY)
    'system'
    """
    if not isinstance(by, str) or not by.strip():
        raise PermissionDenied(
            f"to {right} an actor is needed: pass by=<username>, or by=orchlab.SYSTEM for "
            f"trusted code; got {by!r}"
        )
    if by == SYSTEM:
        return by
    user = directory.users.get(by)
    if user is None:
        raise PermissionDenied(f"user {by!r} is not in the directory, so may not {right}")
    if right in ADMIN_ONLY and not user.is_admin:
        raise PermissionDenied(f"user {by!r} may not {right}: only admins may")
    return by
