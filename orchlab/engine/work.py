"""Work items: assignment, routing, notifications, completion by people, reassignment."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from operator import attrgetter
from typing import Any

from orchlab.definition.model import (
    AssigneeKind,
    FormSubmitted,
    InteractiveStep,
    label_of,
)
from orchlab.engine.arguments import name_arg, text_arg
from orchlab.engine.errors import (
    EngineError,
    NotFound,
    PermissionDenied,
    WorkItemClosed,
)
from orchlab.engine.evaluate import Evaluation, StepFailed
from orchlab.engine.plan import Plan, Scope
from orchlab.engine.state import Run, StageRun, WorkItem
from orchlab.engine.status import Kind, Status, WorkItemStatus
from orchlab.people.directory import Directory, Routing
from orchlab.people.forms import clean_form
from orchlab.people.rights import SYSTEM, Right, require
from orchlab.store.history import HistoryStore

__all__ = ["WorkItems"]

# Salesforce's AssigneeType for each kind of assignee in a definition.
_ASSIGNEE_TYPE = {"user": "User", "group": "Group", "queue": "Queue"}


class WorkItems(Evaluation):
    """Everything about work items: a part of `Engine`, kept in its own module."""

    directory: Directory
    store: HistoryStore
    plans: dict[tuple[str, int], Plan]
    work_guide_url: str | None
    _call: Callable[[], AbstractContextManager[None]]

    def _resolve_assignee(self, step: InteractiveStep, scope: Scope) -> tuple[str, str]:
        assignee = step.assignee
        if assignee is None:
            raise StepFailed(f"step {step.name!r}: no assignee")
        name = assignee.name.strip()  # Salesforce trims; imported metadata may not have
        if assignee.kind is AssigneeKind.REFERENCE:
            value = scope.plan.resolver(name)(scope)
            kind = self.directory.kind_of(str(value)) if value else None
            if kind is None:
                raise StepFailed(
                    f"step {step.name!r}: assignee reference {name!r} resolved to "
                    f"{value!r}, which is not a user, group or queue"
                )
            return str(value), kind
        kind = _ASSIGNEE_TYPE[assignee.kind.value]
        if self.directory.kind_of(name) != kind:
            raise StepFailed(
                f"step {step.name!r}: assignee {kind.lower()} {name!r} is not in the directory"
            )
        return name, kind

    def _route(self, queue_name: str) -> str | None:
        queue = self.directory.queues[queue_name]
        if queue.routing is Routing.POOL or not queue.members:
            return None
        if queue.routing is Routing.ROUND_ROBIN:
            last = self.state.last_routed.get(queue_name)
            members = queue.members
            i = members.index(last) + 1 if last in members else 0
            return members[i % len(members)]
        counts = self.state.open_by_owner
        return min(queue.members, key=lambda m: (counts.get(m, 0), queue.members.index(m)))

    def _create_work_item(
        self,
        plan: Plan,
        run: Run,
        stage_run: StageRun,
        step: InteractiveStep,
        scope: Scope,
        inputs: dict[str, Any],
    ) -> None:
        name, kind = self._resolve_assignee(step, scope)
        owner = name if kind == "User" else (self._route(name) if kind == "Queue" else None)
        context = scope.get(step.context_record)
        item_id = f"{run.id}-W{run.work_count + 1}"
        label = label_of(step)
        notify = self._notification(step, scope, item_id, name, kind, owner, context)
        self._emit_step(
            Kind.START_WORK_ITEM,
            run,
            stage_run,
            stage_run.steps[step.name],
            WorkItemStatus.ASSIGNED,
            work_item_id=item_id,
            assignee=name,
            assignee_type=kind,
            context=None if context is None else str(context),
            payload={
                "label": label,
                "screen": step.screen,
                "owner": owner,
                "inputs": inputs,
                "notify": notify,
            },
        )

    def _notification(
        self,
        step: InteractiveStep,
        scope: Scope,
        item_id: str,
        name: str,
        kind: str,
        owner: str | None,
        context: Any,
    ) -> dict[str, Any]:
        """The email to the assignees; it lands in the outbox with the work item's log row."""
        to = (
            [self.directory.users[owner].email]
            if owner
            else list(self.directory.emails(name, kind))
        )
        label = label_of(step)
        note = step.notification
        try:
            subject = scope.fill(note.subject) if note else f"New work item: {label}"
            body = scope.fill(note.body) if note and note.body else ""
        except Exception as exc:
            raise StepFailed(f"step {step.name!r} notification: {exc}") from None
        body = (body + "\n\n" if body else "") + (
            f"Step: {label}\nRecord: {context or '-'}\nWork item: {item_id}"
        )
        if self.work_guide_url:  # as Salesforce's emails link to the record page
            body += "\nOpen it in the Work Guide: " + self.work_guide_url.replace("{item}", item_id)
        return {"to": to, "subject": subject, "body": body}

    def work_item(self, item_id: str) -> WorkItem:
        """An open work item (one of a run that can still move)."""
        item = self.state.work_items.get(item_id)
        if item is None:
            closed = self.store.execute(
                "SELECT status, completed_by, completed_date FROM work_items WHERE id = ?",
                [item_id],
            )
            if closed:
                status, by, when = closed[0]
                raise WorkItemClosed(
                    f"work item {item_id!r} is {status} (by {by or 'the system'} at {when}); "
                    "its run is closed"
                )
            raise NotFound(f"work item {item_id!r} does not exist")
        return item

    def can_act(self, item: WorkItem, username: str) -> bool:
        """Only an assignee, a member of the group or queue (or the routed owner), an admin,
        or the system actor."""
        return (
            username == SYSTEM or self.directory.is_admin(username) or self._is_for(item, username)
        )

    def work_items(self, user: str | None = None, *, open_only: bool = True) -> list[WorkItem]:
        """A person's inbox (or every item when `user` is None), oldest first."""
        items = [
            w
            for w in self.state.work_items.values()
            if not open_only or w.status is WorkItemStatus.ASSIGNED
        ]
        if user is not None:
            # The person's groups and queues once, not a member list per item: an inbox is
            # built on every submit, over every open item (tens of thousands on a big history).
            d = self.directory
            teams = {("Group", g) for g, x in d.groups.items() if user in x.members}
            teams |= {("Queue", q) for q, x in d.queues.items() if user in x.members}
            teams.add(("User", user))
            items = [
                w
                for w in items
                if (w.owner == user if w.owner else (w.assignee_type, w.assignee) in teams)
            ]
        return sorted(items, key=attrgetter("created", "id"))

    def _is_for(self, item: WorkItem, username: str) -> bool:
        """Whether the item is in this person's inbox (routed to them, or for them or a team)."""
        if item.owner:
            return item.owner == username
        if item.assignee_type == "User":
            return item.assignee == username
        return username in self.directory.members_of(item.assignee, item.assignee_type)  # type: ignore[arg-type]

    def complete_work_item(
        self,
        item_id: str,
        user: str,
        values: Mapping[str, Any] | None = None,
        *,
        comments: str | None = None,
    ) -> WorkItem:
        """Submit a work item's form as `user`: checked first, then stored, then the run moves."""
        name_arg(item_id, "complete_work_item", "item_id")
        if values is not None and not isinstance(values, Mapping):
            raise EngineError(
                f"complete_work_item {item_id}: values is {type(values).__name__} {values!r:.40}; "
                "expected a mapping of field names to values"
            )
        comments = text_arg(comments, f"complete_work_item {item_id}", "comments")
        item = self.work_item(item_id)
        if item.status is WorkItemStatus.COMPLETED:
            raise WorkItemClosed(
                f"work item {item_id!r} is already Completed (by "
                f"{item.completed_by or 'the system'} at {item.completed}); "
                "it can be completed only once"
            )
        if not isinstance(user, str) or not user.strip():
            raise PermissionDenied(
                f"work item {item_id!r}: a user must complete it; got {user!r} "
                "(pass the username, or orchlab.SYSTEM for trusted code)"
            )
        if user != SYSTEM and user not in self.directory.users:
            raise PermissionDenied(f"user {user!r} is not in the directory")
        if not self.can_act(item, user):
            who = f"{item.assignee_type} {item.assignee!r}" + (
                f" (routed to {item.owner!r})" if item.owner else ""
            )
            raise PermissionDenied(
                f"user {user!r} may not complete work item {item_id!r}: it is "
                f"assigned to {who}; only assignees, members or admins may"
            )
        run = self.state.runs[item.run_id]
        plan = run.plan
        step: InteractiveStep = plan.steps[item.step_name]  # type: ignore[assignment]
        clean = clean_form(plan.screens[step.screen], values or {})
        stage_run = run.latest[plan.stage_of[step.name].name]
        with self._call():
            self._end_interactive(run, stage_run, step, user, clean, comments)
            self._advance(run)
        return item

    def _end_interactive(
        self,
        run: Run,
        stage_run: StageRun,
        step: InteractiveStep,
        user: str | None,
        values: dict[str, Any],
        comments: str | None = None,
    ) -> None:
        step_run = stage_run.steps[step.name]
        self._close_work_item(run, stage_run, step_run, user, comments, values)
        if step_run.status is not Status.IN_PROGRESS:
            return  # completed while the stage was being closed; keep the values only
        if user is not None and not isinstance(step.exit, FormSubmitted):
            return  # exit requirements decide; the item's values are the step's outputs already
        self._complete_step(run, stage_run, step_run, step, values, user)

    def reassign_work_item(self, item_id: str, to: str, *, by: str) -> WorkItem:
        """Give an open work item to another user, group or queue (admins only)."""
        require(self.directory, by, Right.REASSIGN)
        name_arg(item_id, "reassign_work_item", "item_id")
        name_arg(to, f"reassign_work_item {item_id}", "to")
        item = self.work_item(item_id)
        if item.status is not WorkItemStatus.ASSIGNED:
            raise WorkItemClosed(
                f"work item {item_id!r} is {item.status}; only Assigned items can be reassigned"
            )
        kind = self.directory.kind_of(to)
        if kind is None:
            raise NotFound(f"reassign {item_id!r}: {to!r} is not a user, group or queue")
        run = self.state.runs[item.run_id]
        plan = self.plans[(run.name, run.version)]
        step: InteractiveStep = plan.steps[item.step_name]  # type: ignore[assignment]
        with self._call():
            owner = to if kind == "User" else (self._route(to) if kind == "Queue" else None)
            scope = Scope(plan, run, self.state.records)
            stage_run = run.latest[plan.stage_of[item.step_name].name]
            self._emit(
                Kind.REASSIGN_WORK_ITEM,
                run,
                work_item_id=item.id,
                stage_instance_id=stage_run.id,
                stage_name=stage_run.name,
                step_name=item.step_name,
                step_instance_id=item.step_id,
                status=WorkItemStatus.ASSIGNED,
                actor=by,
                assignee=to,
                assignee_type=kind,
                context=item.context,
                payload={
                    "owner": owner,
                    "from": item.assignee,
                    "notify": self._notification(
                        step, scope, item.id, to, kind, owner, item.context
                    ),
                },
            )
        return item
