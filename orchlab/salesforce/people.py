"""People for an imported orchestration: the users, groups and queues its steps name.

An org's directory does not come with its metadata, so an imported orchestration names
assignees the engine has never heard of. `add_assignees` adds each to an engine's directory
(a group or queue gets one member, `<name>.member`, who can act on its work items).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchlab.definition.model import AssigneeKind, InteractiveStep, Orchestration
from orchlab.people.rights import SYSTEM

if TYPE_CHECKING:  # the engine (and DuckDB) load only when an engine is passed in
    from orchlab.engine.engine import Engine

__all__ = ["add_assignees", "member_of"]


def member_of(team: str) -> str:
    """The username `add_assignees` gives the one member of a group or queue."""
    return f"{team}.member"


def add_assignees(engine: Engine, orch: Orchestration, *, by: str = SYSTEM) -> dict[str, str]:
    """Add the named users, groups and queues that are not in the directory yet (as `by`:
    an admin, or the trusted system actor by default — a set-up step).

    Returns:
        assignee name -> the username who can complete its work items. Assignees read from
        data at run time (references) are not known here; add those yourself.
    """
    acting: dict[str, str] = {}
    directory = engine.directory
    for _, step in orch.steps():
        if not isinstance(step, InteractiveStep) or step.assignee is None:
            continue
        kind, name = step.assignee.kind, step.assignee.name.strip()  # as the engine reads it
        if kind is AssigneeKind.REFERENCE or not name:
            continue
        if kind is AssigneeKind.USER:
            if directory.kind_of(name) is None:
                engine.add_user(name, by=by)
            acting[name] = name
            continue
        member = member_of(name)
        if directory.kind_of(member) is None:
            engine.add_user(member, by=by)
        if directory.kind_of(name) is None:
            (engine.add_group if kind is AssigneeKind.GROUP else engine.add_queue)(
                name, [member], by=by
            )
        acting[name] = member
    return acting
