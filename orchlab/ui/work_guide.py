"""The Work Guide's logic, without widgets: whom it acts as, the inbox, the open item, submit.

`WorkGuidePresenter` calls a `Backend` (the engine in process, or the engine service) and
keeps what the page shows; `orchlab.ui.views.work_guide.WorkGuide` mirrors it in widgets.
Every refusal becomes a `Message` for the page; nothing is raised at the person.

"""

from __future__ import annotations

from typing import Any

from orchlab.errors import (
    DirectoryError,
    EngineError,
    FormInvalid,
    NotFound,
    OrchlabError,
    PermissionDenied,
    WorkItemClosed,
)
from orchlab.service.protocol import Backend, screen_from_dict
from orchlab.ui.common import Message
from orchlab.ui.forms import FormState

__all__ = ["INBOX_COLUMNS", "INBOX_LIMIT", "WorkGuidePresenter", "assigned_text"]

# (sort key, heading): the inbox table's columns, in order.
INBOX_COLUMNS = (
    ("label", "Work item"),
    ("orchestration", "Orchestration"),
    ("run", "Run"),
    ("context", "Record"),
    ("assigned", "Assigned to"),
    ("age", "Age"),
)
INBOX_LIMIT = 15  # rows on the page; the title counts them all, sorting brings others up


def assigned_text(row: dict[str, Any]) -> str:
    kind = (row.get("assignee_type") or "").lower()
    text = f"{kind} {row['assignee']}"
    if row.get("owner") and kind != "user":
        text += f" → {row['owner']}"
    return text


class WorkGuidePresenter:
    """A person's Work Guide: act as someone, see their inbox, open an item, submit its form.

    Args:
        backend: `AppApi(engine)` or a `ServiceClient`.
        user: whom to act as first (default: the first user of the directory).
        item: a work item to open at once (what an email's link asks for); when no user is
            given, the guide acts as the person the item is for.
    """

    def __init__(self, backend: Backend, user: str | None = None, item: str | None = None):
        self.backend = backend
        directory = backend.directory()
        self.people: list[dict[str, Any]] = directory["users"]
        self.members = {
            g["name"]: g["members"] for g in (*directory["groups"], *directory["queues"])
        }
        self.user: str | None = None
        self.sort, self.descending = "age", True
        self.items: list[dict[str, Any]] = []
        self.total = self.mine = 0
        self.item: dict[str, Any] | None = None  # the open work item's view
        self.form: FormState | None = None
        self.comments = ""
        self.outcome: dict[str, Any] | None = None  # what the last submit led to
        self.diagram = ""  # the SVG beside the form
        self.diagram_title = ""
        self.message = Message()
        self.startable = [o for o in backend.orchestrations() if o["start"] == "autolaunched"]
        self.start_name: str | None = None
        self.start_form: FormState | None = None
        first = user or (self._for_whom(item) if item else None) or self.people[0]["username"]
        self.act_as(first)
        if item:
            self.open(item)

    # --- whom, and their inbox -------------------------------------------------------------------

    @property
    def usernames(self) -> list[str]:
        return [p["username"] for p in self.people]

    def _for_whom(self, item_id: str) -> str | None:
        """The person a linked item is for: its user or routed owner, else a member of its team."""
        try:
            view = self.backend.work_item(item_id, self.people[0]["username"])
        except OrchlabError:
            return None  # open() below says what is wrong with the link
        row = view["item"]
        if row["owner"] or row["assignee_type"] == "User":
            return row["owner"] or row["assignee"]
        members = self.members.get(row["assignee"], [])
        return members[0] if members else None

    def act_as(self, user: str) -> None:
        if user not in self.usernames:
            self.message = Message("error", f"{user!r} is not a user of the directory")
            return
        self.user = user
        self.close()
        self.outcome = None
        self.message = Message()
        self.refresh()

    @property
    def _inbox_query(self) -> dict[str, Any]:
        return {"sort": self.sort, "descending": self.descending, "limit": INBOX_LIMIT}

    def refresh(self) -> None:
        """Read the inbox again (items others completed leave it)."""
        assert self.user is not None
        self._show_inbox(self.backend.inbox(self.user, **self._inbox_query))

    def _show_inbox(self, found: dict[str, Any]) -> None:
        self.items, self.total, self.mine = found["items"], found["total"], found["mine"]

    def sort_by(self, key: str) -> None:
        """Sort by a column; the same column again flips the order."""
        if key == self.sort:
            self.descending = not self.descending
        else:
            self.sort, self.descending = key, key == "age"  # oldest first; names A to Z
        self.refresh()

    @property
    def title(self) -> str:
        teams = self.total - self.mine
        count = f"{self.total} open item{'s' * (self.total != 1)}"
        if self.total:
            count += f" ({self.mine} yours, {teams} via groups and queues)"
        return f"Inbox of {self.display_name(self.user)}: {count}"

    def display_name(self, username: str | None) -> str:
        for p in self.people:
            if p["username"] == username:
                return f"{p['name']} ({username})" if p["name"] != username else username
        return username or ""

    # --- one item --------------------------------------------------------------------------------

    def open(self, item_id: str) -> bool:
        """Open an item's form; False (and a message) if it is gone or not found."""
        assert self.user is not None
        try:
            view = self.backend.work_item(item_id, self.user)
        except (WorkItemClosed, NotFound) as exc:
            self.close()
            self.message = Message("warning", f"{exc}. It has left the inbox.")
            self.refresh()
            return False
        except PermissionDenied as exc:
            self.message = Message("error", str(exc))
            return False
        self.item = view
        self.form = FormState(screen_from_dict(view["screen"]))
        self.comments = ""
        self.outcome = None
        self.diagram = view["diagram"]
        row = view["item"]
        self.diagram_title = f"Run {row['run_id']} · {row['orchestration']}"
        if view["can_act"]:
            self.message = Message()
        else:
            self.message = Message(
                "warning", f"{self.user} may not submit this item: {view['why_not']}"
            )
        return True

    def close(self) -> None:
        self.item = None
        self.form = None

    def set_value(self, name: str, value: Any) -> None:
        if self.form is not None:
            self.form.set(name, value)

    def submit(self) -> bool:
        """Send the form to the engine; True when it was accepted and the run moved on."""
        if self.item is None or self.form is None or self.user is None:
            self.message = Message("warning", "Open a work item first.")
            return False
        item_id = self.item["item"]["id"]
        label = self.item["item"]["label"]
        try:
            outcome = self.backend.complete(
                item_id,
                self.user,
                self.form.submission(),
                self.comments.strip() or None,
                inbox=self._inbox_query,  # the inbox as it is now, in the same call
            )
        except FormInvalid as exc:
            self.form.errors = dict(exc.errors)
            count = len(exc.errors)
            self.message = Message(
                "error",
                f"Nothing was saved: {count} field{'s' * (count != 1)} need{'s' * (count == 1)} "
                "attention (see below).",
            )
            return False
        except WorkItemClosed as exc:
            self.close()
            self.message = Message("warning", f"Nothing was saved: {exc}. It has left your inbox.")
            self.refresh()
            return False
        except (PermissionDenied, NotFound, EngineError, DirectoryError) as exc:
            self.message = Message("error", f"Nothing was saved: {exc}")
            return False
        self.close()
        self.outcome = outcome
        self.diagram = outcome["diagram"]
        self.message = Message("success", f"Submitted {label!r}.", tuple(self.next_lines(outcome)))
        self._show_inbox(outcome["inbox"])
        return True

    def next_lines(self, outcome: dict[str, Any]) -> list[str]:
        """What happened next, in words: the new items and whom they went to, or the run's end."""
        lines = [
            f"Next: {row['label']!r} ({row['id']}) for {assigned_text(row)}"
            for row in outcome["next"]
        ]
        status = outcome["run_status"]
        if status == "InProgress" and not lines:
            stage = outcome.get("stage")
            lines.append(
                f"Run {outcome['run_id']} goes on" + (f" in stage {stage}." if stage else ".")
            )
        elif status != "InProgress":
            extra = f": {outcome['error']}" if outcome.get("error") else ""
            lines.append(f"Run {outcome['run_id']} is {status}{extra}.")
        return lines

    @property
    def next_for_me(self) -> list[dict[str, Any]]:
        """New items from the last submit that are in this person's inbox (to open next)."""
        if not self.outcome:
            return []
        mine = {row["id"] for row in self.items}
        return [row for row in self.outcome["next"] if row["id"] in mine]

    # --- starting a run --------------------------------------------------------------------------

    def choose_start(self, name: str | None) -> None:
        """Pick an orchestration to start; its input variables become a form."""
        self.start_name = name
        self.start_form = None
        if name:
            found = self.backend.start_form(name)
            self.start_form = FormState(screen_from_dict(found["screen"]))

    def start(self) -> bool:
        if self.start_name is None or self.start_form is None or self.user is None:
            self.message = Message("warning", "Choose an orchestration to start first.")
            return False
        try:
            outcome = self.backend.start_run(
                self.start_name, self.start_form.submission(), self.user
            )
        except FormInvalid as exc:
            self.start_form.errors = dict(exc.errors)
            self.message = Message("error", "Nothing was started: check the inputs below.")
            return False
        except OrchlabError as exc:
            self.message = Message("error", f"Nothing was started: {exc}")
            return False
        self.close()
        self.outcome = outcome
        self.diagram = outcome["diagram"]
        self.diagram_title = f"Run {outcome['run_id']} · {outcome['orchestration']}"
        self.message = Message(
            "success", f"Started run {outcome['run_id']}.", tuple(self.next_lines(outcome))
        )
        self.start_form = FormState(self.start_form.screen)  # ready for the next one
        self.refresh()
        return True
