"""A run's state as a `RunPicture`: what the diagram paints (done, waiting on whom, path taken)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchlab.definition.model import End
from orchlab.engine.status import RunStatus, Status, WorkItemStatus

if TYPE_CHECKING:
    from orchlab.engine.plan import Plan
    from orchlab.engine.state import Run, WorkItem
    from orchlab.render.markup import RunPicture

__all__ = ["picture"]


def picture(run: Run, plan: Plan, work_items: dict[str, WorkItem]) -> RunPicture:
    from orchlab.render.markup import IMPLICIT_END, RunPicture

    elements: dict[str, str] = {}
    steps: dict[str, str] = {}
    waiting: dict[str, str] = {}
    for name, stage_run in run.latest.items():
        elements[name] = str(stage_run.status)
        for step_run in stage_run.steps.values():
            steps[step_run.name] = str(step_run.status)
            item = work_items.get(step_run.work_item or "")
            if (
                item is not None
                and item.status is WorkItemStatus.ASSIGNED
                and step_run.status is Status.IN_PROGRESS
            ):
                who = f"{item.assignee_type.lower()}: {item.assignee}"  # type: ignore[union-attr]
                waiting[step_run.name] = who + (
                    f" → {item.owner}" if item.owner and item.assignee_type != "User" else ""
                )
    for name in run.path:
        if name not in elements:
            elements[name] = "Completed"  # a decision that was taken
    taken = set(zip(run.path, run.path[1:], strict=False))
    if run.status is RunStatus.COMPLETED and run.path:
        last = plan.elements.get(run.path[-1])
        if not isinstance(last, End):  # it ended because the path had no connector
            taken.add((run.path[-1], IMPLICIT_END))
    return RunPicture(
        run_status=str(run.status),
        element_status=elements,
        step_status=steps,
        waiting_on=waiting,
        taken=frozenset(taken),
        title=f"Run {run.id} · {run.status}",
    )
