"""What the apps ask of the engine, as plain JSON-able data: `AppApi` over one `Engine`.

The Work Guide, the runs monitor and the designer call these methods and nothing else, so
they work the same on an engine in their own process (`AppApi(engine)`: tests, the tour
notebook) and on the engine service that owns a history file (`ServiceClient`, which sends
the same calls over HTTP). Results are dicts and lists of text, numbers, booleans, dates
and Decimals; errors are the engine's own (`FormInvalid`, `PermissionDenied`, ...).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from orchlab.definition.model import Field, FieldKind, InteractiveStep, Screen
from orchlab.definition.values import ValueType
from orchlab.engine.engine import Engine
from orchlab.engine.plan import Scope
from orchlab.engine.state import Run, WorkItem
from orchlab.engine.status import WorkItemStatus
from orchlab.errors import EngineError, FormInvalid, PermissionDenied, WorkItemClosed
from orchlab.people.forms import check_form
from orchlab.people.rights import SYSTEM
from orchlab.service import queries
from orchlab.service.protocol import INBOX_SORTS, Backend, screen_to_dict

__all__ = ["AppApi", "Backend"]

# The input form of an orchestration's variables: each variable type as a screen field kind.
_KIND_OF_TYPE = {
    ValueType.TEXT: FieldKind.TEXT,
    ValueType.NUMBER: FieldKind.NUMBER,
    ValueType.CURRENCY: FieldKind.CURRENCY,
    ValueType.BOOLEAN: FieldKind.CHECKBOX,
    ValueType.DATE: FieldKind.DATE,
    ValueType.DATETIME: FieldKind.DATETIME,
}


class AppApi:
    """The apps' calls over one engine; every change is made by the engine, as the actor named.

    Args:
        engine: the engine (on a history file, or in memory).
        history: the file's path, reported by `health()` so an app can tell which history a
            service serves.
    """

    def __init__(self, engine: Engine, history: str | None = None) -> None:
        self.engine = engine
        self.history = history
        self._svg = queries.SvgCache()

    # --- who and what ----------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        import os

        return {"history": self.history, "pid": os.getpid(), "now": self.engine.clock.now()}

    def directory(self) -> dict[str, Any]:
        """Users (username, name, is_admin), groups and queues (name, label, members)."""
        d = self.engine.directory
        return {
            "users": [
                {"username": u.username, "name": u.name, "is_admin": u.is_admin}
                for u in sorted(d.users.values(), key=lambda u: u.username)
            ],
            "groups": [
                {"name": g.name, "label": g.label, "members": list(g.members)}
                for g in sorted(d.groups.values(), key=lambda g: g.name)
            ],
            "queues": [
                {
                    "name": q.name,
                    "label": q.label,
                    "members": list(q.members),
                    "routing": q.routing.value,
                }
                for q in sorted(d.queues.values(), key=lambda q: q.name)
            ],
        }

    def orchestrations(self) -> list[dict[str, Any]]:
        """Every deployed orchestration: name, label, versions, active version, how it starts."""
        engine = self.engine
        found: dict[str, dict[str, Any]] = {}
        for (name, version), plan in sorted(engine.plans.items()):
            entry = found.setdefault(name, {"name": name, "versions": []})
            entry["versions"].append(version)
            entry["label"] = plan.orch.display_label
            entry["active"] = engine.active.get(name)
        for name, entry in found.items():
            orch = engine.plans[(name, entry["active"] or entry["versions"][-1])].orch
            entry["start"] = orch.start.kind
            entry["inputs"] = [v.name for v in orch.variables if v.is_input]
        return list(found.values())

    def definition(self, name: str, version: int | None = None) -> dict[str, Any]:
        """A deployed definition in its file form (`orchlab.definition.serialize.to_dict`)."""
        from orchlab.definition.serialize import to_dict

        return to_dict(self.engine.definition(name, version))

    # --- the Work Guide --------------------------------------------------------------------------

    def _user(self, user: str) -> str:
        if user != SYSTEM and user not in self.engine.directory.users:
            raise PermissionDenied(f"user {user!r} is not in the directory")
        return user

    def item_row(self, item: WorkItem, now: dt.datetime, user: str | None = None) -> dict[str, Any]:
        """An open work item as a table row; `via` names the group or queue it reached `user`
        through ("" when it is theirs, or when no user is given)."""
        run = self.engine.state.runs[item.run_id]
        if user is None or item.owner == user or item.assignee_type == "User":
            via = ""
        else:
            via = f"{item.assignee_type.lower()} {item.assignee}"  # type: ignore[union-attr]
        return {
            "id": item.id,
            "label": item.label,
            "step": item.step_name,
            "orchestration": run.plan.orch.display_label,
            "orchestration_name": run.name,
            "run_id": run.id,
            "context": item.context,
            "assignee": item.assignee,
            "assignee_type": item.assignee_type,
            "owner": item.owner,
            "via": via,
            "created": item.created,
            "age": (now - item.created).total_seconds(),
            "status": str(item.status),
        }

    def inbox(
        self, user: str, sort: str = "age", descending: bool = True, limit: int = 100
    ) -> dict[str, Any]:
        """A person's open work items: theirs, and their groups' and queues' (routed ones only
        for the member they were routed to). Oldest first by default; `total` counts them all,
        `mine` those assigned or routed to the person themselves. Only the first `limit` are
        returned, so a queue of thousands costs one pass over them, not thousands of rows."""
        self._user(user)
        if sort not in INBOX_SORTS:
            raise EngineError(f"inbox: sort {sort!r}: expected one of {', '.join(INBOX_SORTS)}")
        items = self.engine.work_items(user)  # oldest first
        mine = sum(1 for w in items if w.owner == user or w.assignee_type == "User")
        if sort == "age":
            if not descending:  # the youngest first
                items.reverse()
        else:
            runs = self.engine.state.runs
            keys: dict[str, Callable[[WorkItem], Any]] = {
                "label": lambda w: (w.label.casefold(), w.id),
                "orchestration": lambda w: (runs[w.run_id].plan.orch.display_label, w.id),
                "run": lambda w: w.id,
                "context": lambda w: (w.context or "", w.id),
                "assigned": lambda w: (f"{w.assignee_type} {w.assignee}", w.id),
            }
            items.sort(key=keys[sort], reverse=descending)
        now = self.engine.clock.now()
        rows = [self.item_row(w, now, user) for w in items[:limit]]
        return {"user": user, "now": now, "items": rows, "total": len(items), "mine": mine}

    def work_item(self, item_id: str, user: str) -> dict[str, Any]:
        """Everything the Work Guide shows for one item: its form, record, inputs, diagram.

        `can_act` says whether `user` may submit it (else `why_not` says why).
        """
        engine = self.engine
        self._user(user)
        item = self._open_item(item_id)
        run = engine.state.runs[item.run_id]
        plan = run.plan
        step: InteractiveStep = plan.steps[item.step_name]  # type: ignore[assignment]
        record = None
        if item.context and item.context in engine.state.records:
            found = engine.state.records[item.context]
            record = {"Id": item.context, "object": found["object"], "fields": found["fields"]}
        try:
            inputs = plan.inputs(step.inputs, Scope(plan, run, engine.state.records))
        except Exception:  # shown for reference only: an unreadable one must not hide the form
            inputs = {}
        why_not = ""
        if not engine.can_act(item, user):
            who = f"{item.assignee_type} {item.assignee!r}" + (
                f" (routed to {item.owner!r})" if item.owner else ""
            )
            why_not = f"it is assigned to {who}; only its assignees, members or admins may act"
        return {
            "item": self.item_row(item, engine.clock.now(), user),
            "screen": screen_to_dict(plan.screens[step.screen]),
            "step_description": step.description,
            "record": record,
            "inputs": inputs,
            # Without a record in the record store, the run's own data is the context.
            "variables": {} if record else _shown_variables(run),
            "can_act": not why_not,
            "why_not": why_not,
            "diagram": self._diagram_of(run),
        }

    def _open_item(self, item_id: str) -> WorkItem:
        item = self.engine.work_item(item_id)  # NotFound, or WorkItemClosed for a closed run
        if item.status is WorkItemStatus.COMPLETED:
            raise WorkItemClosed(
                f"work item {item_id!r} was already completed by "
                f"{item.completed_by or 'the system'} at {item.completed:%Y-%m-%d %H:%M}"  # type: ignore[union-attr]
            )
        return item

    def complete(
        self,
        item_id: str,
        user: str,
        values: Mapping[str, Any],
        comments: str | None = None,
        inbox: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Submit a work item as `user`; what happened next: the run's status and new items.

        With `inbox` (the arguments of `inbox()` but the user), the person's inbox as it is
        afterwards comes with the answer, under "inbox": one call instead of two.
        """
        engine = self.engine
        item = self._open_item(item_id)
        run = engine.state.runs[item.run_id]  # kept: a run that ends here leaves the state
        before = set(run.items)
        engine.complete_work_item(item_id, user, dict(values), comments=comments or None)
        moved = self._moved(run, before, f"{user} completed {item.label!r}")
        if inbox is not None:
            moved["inbox"] = self.inbox(user, **inbox)
        return moved

    def _moved(self, run: Run, before: set[str], done: str) -> dict[str, Any]:
        now = self.engine.clock.now()
        fresh = [
            run.items[i]
            for i in run.items
            if i not in before and run.items[i].status is WorkItemStatus.ASSIGNED
        ]
        return {
            "done": done,
            "run_id": run.id,
            "orchestration": run.plan.orch.display_label,
            "run_status": str(run.status),
            "stage": run.stage.name if run.stage else None,
            "error": run.error,
            "next": [self.item_row(w, now) for w in fresh]
            if run.id in self.engine.state.runs
            else [],
            "diagram": self._diagram_of(run),
        }

    def start_form(self, name: str) -> dict[str, Any]:
        """The input variables of an orchestration as a screen, to start a run from a form."""
        orch = self.engine.definition(name)
        return {"name": name, "label": orch.display_label, "screen": screen_to_dict(_inputs(orch))}

    def start_run(self, name: str, values: Mapping[str, Any], by: str) -> dict[str, Any]:
        """Start a run of the active version from form values (typed and checked first)."""
        engine = self.engine
        orch = engine.definition(name)
        screen = _inputs(orch)
        clean, errors = check_form(screen, values)
        if errors:
            raise FormInvalid(screen.name, errors)
        inputs = {k: v for k, v in clean.items() if v is not None}
        run = engine.start_run(name, inputs, by=by)
        return self._moved(run, set(), f"{by} started {orch.display_label!r}")

    # --- diagrams --------------------------------------------------------------------------------

    def _diagram_of(self, run: Run) -> str:
        # No run id in the picture: many runs stand at the same point, and share one drawing.
        picture = replace(run.picture(), title="")
        return self._svg.svg(run.plan.orch, picture)

    def diagram(self, run_id: str) -> dict[str, Any]:
        """The run's diagram with its state (open runs from memory, closed ones from the log)."""
        run = self.engine.state.runs.get(run_id) or queries.replay(self.engine, run_id)
        return {"run_id": run_id, "status": str(run.status), "svg": self._diagram_of(run)}

    # --- the runs monitor ------------------------------------------------------------------------

    def runs(self, **query: Any) -> dict[str, Any]:
        """A page of runs: filters `orchestration`, `status`, `text`; `sort`, `descending`,
        `offset`, `limit`. Returns {"rows", "total", "now"}."""
        return queries.runs_page(self.engine, **query)

    def open_items(self, **query: Any) -> dict[str, Any]:
        """A page of open work items: filters `orchestration`, `assignee`, `text`; sorting and
        paging as `runs`."""
        return queries.items_page(self, **query)

    def run_detail(self, run_id: str) -> dict[str, Any]:
        """A run's row, diagram, timeline (its log: who did what, when, how long), open items."""
        engine = self.engine
        detail = queries.run_row(engine, run_id)
        run = engine.state.runs.get(run_id)
        now = engine.clock.now()
        detail["timeline"] = queries.timeline(engine, run_id)
        detail["open_items"] = (
            [
                self.item_row(w, now)
                for w in run.items.values()
                if w.status is WorkItemStatus.ASSIGNED
            ]
            if run is not None
            else []
        )
        detail["svg"] = self._diagram_of(run or queries.replay(engine, run_id))
        return detail

    def _admin(self, run_id: str, by: str, verb: str) -> dict[str, Any]:
        engine = self.engine
        act = {
            "cancel": engine.cancel_run,
            "suspend": engine.suspend_run,
            "resume": engine.resume_run,
            "publish": engine.publish_event,
        }[verb]
        run = engine.state.runs.get(run_id)
        before = set(run.items) if run is not None else set()
        moved = act(run_id, by=by)
        return self._moved(moved, before, f"{by}: {verb} {run_id}")

    def cancel_run(self, run_id: str, by: str) -> dict[str, Any]:
        return self._admin(run_id, by, "cancel")

    def suspend_run(self, run_id: str, by: str) -> dict[str, Any]:
        return self._admin(run_id, by, "suspend")

    def resume_run(self, run_id: str, by: str) -> dict[str, Any]:
        """Resume a suspended run, or an errored one after its error (failed steps retry)."""
        return self._admin(run_id, by, "resume")

    def publish_event(self, run_id: str, by: str) -> dict[str, Any]:
        return self._admin(run_id, by, "publish")

    def reassign(self, item_id: str, to: str, by: str) -> dict[str, Any]:
        item = self.engine.reassign_work_item(item_id, to, by=by)
        return self.item_row(item, self.engine.clock.now())

    # --- the designer ----------------------------------------------------------------------------

    def deploy(self, definition: Mapping[str, Any], by: str) -> dict[str, Any]:
        """Deploy a definition (its file form) as a new active version."""
        from orchlab.definition.serialize import from_dict

        orch = self.engine.deploy(from_dict(definition), by=by)
        return {"name": orch.name, "version": orch.version}

    def outbox(self, work_item_id: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        """The latest notification emails (newest first), optionally of one work item."""
        return queries.outbox(self.engine, work_item_id, limit)


def _shown_variables(run: Run) -> dict[str, Any]:
    return {k: v for k, v in run.variables.items() if v is not None and not isinstance(v, dict)}


def _inputs(orch: Any) -> Screen:
    fields = []
    for var in orch.variables:
        if not var.is_input:
            continue
        kind = _KIND_OF_TYPE.get(var.type, FieldKind.TEXT)
        fields.append(
            Field(var.name, kind, var.name.replace("_", " ").capitalize(), default=var.default)
        )
    return Screen(f"start {orch.name}", tuple(fields), f"Start {orch.display_label}")
