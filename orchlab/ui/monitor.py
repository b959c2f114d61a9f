"""The runs monitor's logic, without widgets: the runs and work item tables, a run's detail,
and the admin's actions, each asked first and done only when confirmed.

`MonitorPresenter` pages through the history (the backend answers one page per call, so
a hundred thousand runs cost what twenty do); `orchlab.ui.views.monitor.RunsMonitor`
mirrors it in widgets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orchlab.errors import OrchlabError
from orchlab.service.protocol import Backend
from orchlab.ui.common import Message, age_text

__all__ = [
    "ACTIONS",
    "ITEM_COLUMNS",
    "RUN_COLUMNS",
    "MonitorPresenter",
    "Pending",
    "describe",
]

# (sort key or "", heading) of the two tables.
RUN_COLUMNS = (
    ("id", "Run"),
    ("orchestration", "Orchestration"),
    ("status", "Status"),
    ("stage", "Current stage"),
    ("started", "Started"),
    ("idle", "Idle"),
    ("", "Waiting on"),
)
ITEM_COLUMNS = (
    ("label", "Work item"),
    ("orchestration", "Orchestration"),
    ("run", "Run"),
    ("assignee", "Assigned to"),
    ("age", "Age"),
)
STATUSES = ("InProgress", "Suspended", "Error", "Completed", "Canceled")
# verb -> (button text, question, statuses of the run it applies to)
_OPEN = ("InProgress", "Suspended", "Error")
ACTIONS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "cancel": ("Cancel run", "Cancel run {id}? Its open work items close.", _OPEN),
    "suspend": ("Suspend", "Suspend run {id}? It waits until resumed.", ("InProgress",)),
    "resume": ("Resume", "Resume run {id}?", ("Suspended",)),
    "retry": ("Resume after error", "Resume run {id}? Its failed steps run again.", ("Error",)),
    "publish": ("Publish event", "Publish an event to run {id}?", ("InProgress",)),
}  # fmt: skip
PAGE = 15


@dataclass(frozen=True)
class Pending:
    """An action waiting for its confirmation."""

    verb: str  # a key of ACTIONS, or "reassign"
    target: str  # run id, or work item id
    question: str
    to: str | None = None  # for reassign: the new user, group or queue


def describe(row: dict[str, Any]) -> tuple[str, str, str]:
    """A log row as (what happened, who, how long) for the timeline."""
    kind = row["kind"]
    stage, step, item = row.get("stage_name"), row.get("step_name"), row.get("work_item_id")
    actor = row.get("actor") or ""
    took = age_text(row["duration"]) if row.get("duration") is not None else ""
    assignee = f"{(row.get('assignee_type') or '').lower()} {row.get('assignee') or ''}".strip()
    what = {
        "StartInstance": "Run started",
        "EndInstance": "Run completed",
        "CancelInstance": "Run canceled",
        "FailInstance": f"Run failed: {row.get('comments') or ''}",
        "SuspendInstance": "Run suspended",
        "ResumeInstance": "Run resumed",
        "StartStage": f"Stage {stage} started",
        "EndStage": f"Stage {stage} completed",
        "DiscontinueStage": f"Stage {stage} discontinued",
        "FailStage": f"Stage {stage} failed",
        "StartStep": f"Step {step} started",
        "EndStep": f"Step {step} completed",
        "DiscontinueStep": f"Step {step} discontinued",
        "FailStep": f"Step {step} failed: {row.get('comments') or ''}",
        "StartWorkItem": f"Work item {item} for {assignee}",
        "EndWorkItem": f"Work item {item} completed",
        "ReassignWorkItem": f"Work item {item} reassigned to {assignee}",
        "TakeOutcome": f"Decision: {row.get('comments') or 'default outcome'}",
        "PublishEvent": "Orchestration event published",
    }.get(kind, kind)
    if kind == "EndWorkItem" and not actor:
        actor = "system"
    return what, actor, took


class MonitorPresenter:
    """The admin's view of runs and work items.

    Args:
        backend: `AppApi(engine)` or a `ServiceClient`.
        user: whom to act as (default: the first admin of the directory).
    """

    def __init__(self, backend: Backend, user: str | None = None) -> None:
        self.backend = backend
        directory = backend.directory()
        self.people = directory["users"]
        self.targets: list[tuple[str, str]] = (
            [(f"user: {u['username']}", u["username"]) for u in directory["users"]]
            + [(f"group: {g['name']}", g["name"]) for g in directory["groups"]]
            + [(f"queue: {q['name']}", q["name"]) for q in directory["queues"]]
        )
        self.orchestrations = [(o["label"], o["name"]) for o in backend.orchestrations()]
        admins = [p["username"] for p in self.people if p["is_admin"]]
        self.user = user or (admins[0] if admins else self.people[0]["username"])
        self.filters: dict[str, Any] = {"orchestration": None, "status": None, "text": ""}
        self.sort, self.descending, self.offset = "started", True, 0
        self.item_filters: dict[str, Any] = {"orchestration": None, "assignee": None, "text": ""}
        self.item_sort, self.item_descending, self.item_offset = "age", True, 0
        self.runs: dict[str, Any] = {"rows": [], "total": 0}
        self.items: dict[str, Any] = {"rows": [], "total": 0}
        self.run_id: str | None = None
        self.detail: dict[str, Any] | None = None
        self.item_id: str | None = None
        self.reassign_to: str | None = None
        self.pending: Pending | None = None
        self.message = Message()
        self.refresh()

    # --- reading ---------------------------------------------------------------------------------

    def refresh(self) -> None:
        self.load_runs()
        self.load_items()
        if self.run_id:
            self.detail = self.backend.run_detail(self.run_id)

    def load_runs(self) -> None:
        query = {k: v for k, v in self.filters.items() if v}
        self.runs = self.backend.runs(
            **query, sort=self.sort, descending=self.descending, offset=self.offset, limit=PAGE
        )

    def load_items(self) -> None:
        query = {k: v for k, v in self.item_filters.items() if v}
        self.items = self.backend.open_items(
            **query,
            sort=self.item_sort,
            descending=self.item_descending,
            offset=self.item_offset,
            limit=PAGE,
        )
        if self.item_id and self.item_id not in {r["id"] for r in self.items["rows"]}:
            self.item_id = None

    def filter_runs(self, **filters: Any) -> None:
        """Set filters (orchestration, status, text); the table starts again at its first page."""
        unknown = set(filters) - set(self.filters)
        if unknown:
            raise KeyError(
                f"runs have no filter {sorted(unknown)}; expected {sorted(self.filters)}"
            )
        self.filters.update(filters)
        self.offset = 0
        self.load_runs()

    def filter_items(self, **filters: Any) -> None:
        self.item_filters.update(filters)
        self.item_offset = 0
        self.load_items()

    def sort_runs(self, key: str) -> None:
        if not key:
            return
        if key == self.sort:
            self.descending = not self.descending
        else:
            self.sort, self.descending = key, key in ("started", "idle")
        self.offset = 0
        self.load_runs()

    def sort_items(self, key: str) -> None:
        if key == self.item_sort:
            self.item_descending = not self.item_descending
        else:
            self.item_sort, self.item_descending = key, key == "age"
        self.item_offset = 0
        self.load_items()

    def page_runs(self, step: int) -> None:
        """Move a page forward (+1) or back (-1), staying within the table."""
        last = max(0, (self.runs["total"] - 1) // PAGE * PAGE)
        self.offset = min(max(0, self.offset + step * PAGE), last)
        self.load_runs()

    def page_items(self, step: int) -> None:
        last = max(0, (self.items["total"] - 1) // PAGE * PAGE)
        self.item_offset = min(max(0, self.item_offset + step * PAGE), last)
        self.load_items()

    def page_text(self, page: dict[str, Any], offset: int) -> str:
        total = page["total"]
        if not total:
            return "no matches"
        return f"{offset + 1:,} to {offset + len(page['rows']):,} of {total:,}"

    def select_run(self, run_id: str) -> None:
        try:
            self.detail = self.backend.run_detail(run_id)
        except OrchlabError as exc:
            self.message = Message("error", str(exc))
            return
        self.run_id = run_id
        self.pending = None

    def select_item(self, item_id: str) -> None:
        self.item_id = item_id
        self.pending = None

    def act_as(self, user: str) -> None:
        self.user = user
        self.pending = None
        self.message = Message()

    # --- acting ----------------------------------------------------------------------------------

    def can(self, verb: str) -> bool:
        """Whether the selected run's status allows the action (rights are checked on doing)."""
        if self.detail is None:
            return False
        return self.detail["status"] in ACTIONS[verb][2]

    def ask(self, verb: str) -> None:
        """Ask for a confirmation before an action on the selected run (or item, to reassign)."""
        if verb == "reassign":
            if not self.item_id or not self.reassign_to:
                self.message = Message("warning", "Pick a work item and whom to give it to first.")
                return
            self.pending = Pending(
                verb,
                self.item_id,
                f"Reassign {self.item_id} to {self.reassign_to}?",
                self.reassign_to,
            )
            return
        if self.run_id is None:
            self.message = Message("warning", "Pick a run first.")
            return
        self.pending = Pending(verb, self.run_id, ACTIONS[verb][1].format(id=self.run_id))

    def dismiss(self) -> None:
        self.pending = None

    def confirm(self) -> bool:
        """Do the pending action as the person acting; True when the engine did it."""
        pending, self.pending = self.pending, None
        if pending is None:
            return False
        backend = self.backend
        try:
            if pending.verb == "reassign":
                row = backend.reassign(pending.target, pending.to or "", self.user)
                owner = (
                    f" (routed to {row['owner']})"
                    if row.get("owner") and row["assignee_type"] != "User"
                    else ""
                )
                kind = row["assignee_type"].lower()
                done = f"Reassigned {pending.target} to {kind} {row['assignee']}{owner}."
            else:
                call = {
                    "cancel": backend.cancel_run,
                    "suspend": backend.suspend_run,
                    "resume": backend.resume_run,
                    "retry": backend.resume_run,
                    "publish": backend.publish_event,
                }[pending.verb]
                outcome = call(pending.target, self.user)
                done = f"Run {pending.target} is {outcome['run_status']}."
        except OrchlabError as exc:  # PermissionDenied says who may
            self.message = Message("error", f"Not done: {exc}")
            return False
        self.message = Message("success", done)
        self.refresh()
        return True
