"""The Work Guide as widgets: act as a person, their inbox, the open item's form, the run diagram.

Every widget mirrors `WorkGuidePresenter`; a click or a change calls the presenter, then
`render()` brings every widget in line with it again.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import ipywidgets as w

from orchlab.service.protocol import Backend
from orchlab.ui.common import age_text, query_params
from orchlab.ui.views.forms import FormView
from orchlab.ui.views.style import Busy, esc, header, message_html, style_sheet
from orchlab.ui.work_guide import INBOX_COLUMNS, INBOX_LIMIT, WorkGuidePresenter, assigned_text

__all__ = ["WorkGuide", "card"]

# Pixel widths of the inbox columns after the first (the item's label, a button).
_LABEL_WIDTH = 190
_WIDTHS = {"orchestration": 104, "run": 70, "context": 88, "assigned": 176, "age": 54}


def card(*children: w.Widget, title: str = "") -> w.VBox:
    parts = [w.HTML(f'<div class="orchlab-card-title">{esc(title)}</div>')] if title else []
    box = w.VBox([*parts, *children])
    box.add_class("orchlab-card")
    return box


def cells(
    values: list[tuple[str, str]], widths: dict[str, int], html: dict[str, str] | None = None
) -> str:
    """Table cells of fixed widths (so rows line up under the sort buttons); `html` gives
    markup to show instead of a cell's text (its text stays the tooltip)."""
    html = html or {}
    spans = "".join(
        f'<span style="width:{widths[key]}px" title="{esc(text)}">{html.get(key, esc(text))}</span>'
        for key, text in values
    )
    return f'<div class="orchlab-cells">{spans}</div>'


class _Row:
    """One reusable inbox row: a button with the item's label, and the other cells as HTML."""

    def __init__(self, on_open: Callable[[str], None]) -> None:
        self.item_id = ""
        self.button = w.Button(layout=w.Layout(width=f"{_LABEL_WIDTH}px"))
        self.button.add_class("orchlab-link")
        self.button.on_click(lambda _: on_open(self.item_id))
        self.cells = w.HTML()
        self.box = w.HBox([self.button, self.cells])
        self.box.add_class("orchlab-row")

    def show(self, row: dict[str, Any] | None, selected: bool) -> None:
        if row is None:
            self.item_id = ""
            self.box.layout.display = "none"
            return
        self.item_id = row["id"]
        self.box.layout.display = None
        self.button.description = row["label"]
        self.button.tooltip = f"Open {row['id']}"
        values = [
            ("orchestration", row["orchestration"]),
            ("run", row["run_id"]),
            ("context", row["context"] or "—"),
            ("assigned", assigned_text(row)),
            ("age", age_text(row["age"])),
        ]
        self.cells.value = cells(values, _WIDTHS)
        (self.box.add_class if selected else self.box.remove_class)("orchlab-row-selected")


class WorkGuide(w.VBox):
    """A person's Work Guide. `link` is a query string such as ``item=R000001-W1&user=sam``
    (Voilà passes the page's in the environment variable QUERY_STRING, the default)."""

    def __init__(
        self,
        backend: Backend,
        user: str | None = None,
        item: str | None = None,
        *,
        link: str | None = None,
    ) -> None:
        params = query_params(link if link is not None else os.environ.get("QUERY_STRING"))
        p = self.presenter = WorkGuidePresenter(
            backend, user or params.get("user"), item or params.get("item")
        )
        self._syncing = False
        self.busy = Busy()
        self.act_as = w.Dropdown(
            options=[(p.display_name(u), u) for u in p.usernames],
            description="Act as",
            layout=w.Layout(width="260px"),
            style={"description_width": "52px"},
        )
        self.act_as.observe(self._on_act_as, names="value")
        self.refresh_button = w.Button(icon="refresh", tooltip="Read the inbox again")
        self.refresh_button.layout.width = "40px"
        self.refresh_button.on_click(lambda _: self._do(p.refresh))
        self.message = w.HTML()
        self.message.add_class("orchlab-message-box")

        # The inbox.
        self.inbox_title = w.HTML()
        self.sort_buttons: dict[str, w.Button] = {}
        heads = []
        for key, text in INBOX_COLUMNS:
            width = _LABEL_WIDTH if key == "label" else _WIDTHS[key]
            button = w.Button(description=text, layout=w.Layout(width=f"{width}px"))
            button.add_class("orchlab-sort")
            button.on_click(lambda _, k=key: self._do(p.sort_by, k))
            self.sort_buttons[key] = button
            heads.append(button)
        head = w.HBox(heads)
        head.add_class("orchlab-table-head")
        self.rows = [_Row(self._on_open) for _ in range(INBOX_LIMIT)]
        self.more = w.HTML()
        self.empty = w.HTML()
        inbox = card(self.inbox_title, head, *[r.box for r in self.rows], self.more, self.empty)
        inbox.add_class("orchlab-inbox")

        # Starting a run of an autolaunched orchestration.
        self.start_choice = w.Dropdown(
            options=[("— orchestration —", "")] + [(o["label"], o["name"]) for o in p.startable],
            layout=w.Layout(width="260px"),
        )
        self.start_choice.observe(self._on_start_choice, names="value")
        self.start_fields = w.VBox()
        self.start_button = w.Button(description="Start run", button_style="primary", icon="play")
        self.start_button.on_click(lambda _: self._do(p.start))
        self.start_box = card(
            w.HTML('<div class="orchlab-muted">Start a new run, as the person acting.</div>'),
            self.start_choice,
            self.start_fields,
            self.start_button,
            title="Start a run",
        )
        self.start_box.add_class("orchlab-start")

        # The open item.
        self.item_head = w.HTML()
        self.record = w.HTML()
        self.form_box = w.VBox()
        self.form_view: FormView | None = None
        self.comments = w.Textarea(
            placeholder="Comments (optional)",
            rows=2,
            layout=w.Layout(width="100%", max_width="460px"),
        )
        self.comments.observe(lambda c: setattr(p, "comments", c["new"]), names="value")
        self.submit_button = w.Button(description="Submit", button_style="primary", icon="check")
        self.submit_button.add_class("orchlab-submit")
        self.submit_button.on_click(lambda _: self._do(p.submit))
        self.cancel_button = w.Button(description="Close", tooltip="Close the form, save nothing")
        self.cancel_button.on_click(lambda _: self._do(p.close))
        self.item_card = card(
            self.item_head,
            self.record,
            self.form_box,
            self.comments,
            w.HBox([self.submit_button, self.cancel_button]),
        )
        self.item_card.add_class("orchlab-item")
        self.next_box = w.HBox()

        # The run's diagram.
        self.diagram_title = w.HTML()
        self.diagram = w.HTML()
        self.diagram.add_class("orchlab-diagram")
        diagram_card = card(self.diagram_title, self.diagram)
        diagram_card.add_class("orchlab-diagram-card")

        left = w.VBox(
            [self.message, self.next_box, self.item_card, inbox, self.start_box],
            layout=w.Layout(flex="1 1 600px", margin="0 12px 0 0", min_width="520px"),
        )
        right = w.VBox([diagram_card], layout=w.Layout(flex="1 1 420px", min_width="320px"))
        super().__init__(
            [
                style_sheet(),
                header(
                    "Work Guide",
                    self.busy.widget,
                    self.act_as,
                    self.refresh_button,
                    subtitle="your work items, one form at a time",
                ),
                w.HBox(
                    [left, right], layout=w.Layout(flex_flow="row wrap", align_items="flex-start")
                ),
            ]
        )
        self.add_class("orchlab-app")
        self.add_class("orchlab-work-guide")
        self.render()

    def open_item(self, item_id: str) -> bool:
        """Open a work item's form, as clicking its row does (it need not be on the page)."""
        with self.busy:
            opened = self.presenter.open(item_id)
        self.render()
        return opened

    # --- events ----------------------------------------------------------------------------------

    def _do(self, action: Callable[..., Any], *args: Any) -> None:
        with self.busy:
            action(*args)
        self.render()

    def _on_act_as(self, change: dict[str, Any]) -> None:
        if not self._syncing and change["new"]:
            self._do(self.presenter.act_as, change["new"])

    def _on_open(self, item_id: str) -> None:
        if item_id:
            self._do(self.presenter.open, item_id)

    def _on_start_choice(self, change: dict[str, Any]) -> None:
        if not self._syncing:
            self._do(self.presenter.choose_start, change["new"] or None)

    # --- showing the presenter -------------------------------------------------------------------

    def render(self) -> None:
        p = self.presenter
        self._syncing = True
        try:
            self.act_as.value = p.user
            self.message.value = message_html(p.message)
            self._render_inbox()
            self._render_item()
            self._render_start()
            self._render_next()
            self.diagram_title.value = (
                f'<div class="orchlab-card-title">{esc(p.diagram_title)}</div>'
                if p.diagram
                else '<div class="orchlab-card-title">Run diagram</div>'
                '<div class="orchlab-muted">Open a work item to see where its run stands.</div>'
            )
            if self.diagram.value != p.diagram:
                self.diagram.value = p.diagram
        finally:
            self._syncing = False

    def _render_inbox(self) -> None:
        p = self.presenter
        self.inbox_title.value = f'<div class="orchlab-card-title">{esc(p.title)}</div>'
        for key, text in INBOX_COLUMNS:
            arrow = (" ▼" if p.descending else " ▲") if key == p.sort else ""
            self.sort_buttons[key].description = text + arrow
        open_id = p.item["item"]["id"] if p.item else None
        for i, row in enumerate(self.rows):
            found = p.items[i] if i < len(p.items) else None
            row.show(found, found is not None and found["id"] == open_id)
        shown = min(len(p.items), len(self.rows))
        self.more.value = (
            f'<div class="orchlab-muted">Showing {shown} of {p.total}; sort to see others.</div>'
            if p.total > shown
            else ""
        )
        self.empty.value = (
            '<div class="orchlab-muted">Nothing to do. New work items appear here.</div>'
            if not p.items
            else ""
        )

    def _render_item(self) -> None:
        p = self.presenter
        if p.item is None or p.form is None:
            self.item_card.layout.display = "none"
            self.form_box.children = ()
            self.form_view = None
            return
        self.item_card.layout.display = None
        view, row = p.item, p.item["item"]
        if self.form_view is None or self.form_view.form is not p.form:
            self.form_view = FormView(p.form, disabled=not view["can_act"])
            self.form_box.children = (self.form_view,)
            self.comments.value = p.comments
        self.form_view.show_errors()
        self.submit_button.disabled = not view["can_act"]
        details = (
            f"{esc(row['orchestration'])} · run {esc(row['run_id'])} · {esc(row['id'])} · "
            f"for {esc(assigned_text(row))} · waiting {esc(age_text(row['age']))}"
        )
        description = view.get("step_description") or ""
        self.item_head.value = (
            f'<div class="orchlab-card-title" style="font-size:16px">{esc(row["label"])}</div>'
            f'<div class="orchlab-muted">{details}</div>'
            + (f"<div>{esc(description)}</div>" if description else "")
        )
        self.record.value = _record_html(view)

    def _render_start(self) -> None:
        p = self.presenter
        self.start_box.layout.display = None if p.startable else "none"
        self.start_choice.value = p.start_name or ""
        form = p.start_form
        current = self.start_fields.children[0] if self.start_fields.children else None
        if form is None:
            self.start_fields.children = ()
        elif not isinstance(current, FormView) or current.form is not form:
            self.start_fields.children = (FormView(form),)
        else:
            current.show_errors()
        self.start_button.disabled = form is None

    def _render_next(self) -> None:
        buttons = []
        for row in self.presenter.next_for_me:
            button = w.Button(description=f"Open next: {row['label']}", button_style="info")
            button.add_class("orchlab-open-next")
            button.on_click(lambda _, i=row["id"]: self._on_open(i))
            buttons.append(button)
        self.next_box.children = tuple(buttons)


def _record_html(view: dict[str, Any]) -> str:
    """The record page's stand-in: the context record's fields, and the step's inputs."""
    rows = []
    record = view.get("record")
    row = view["item"]
    if record:
        title = f"{record['object']} {record['Id']}"
        rows += [(k, v) for k, v in record["fields"].items()]
    elif row.get("context"):
        title = f"{row['context']}: the run's data"
    else:
        title = f"Run {row['run_id']}"
    rows += list((view.get("variables") or {}).items())
    rows += [(f"step input {k}", v) for k, v in (view.get("inputs") or {}).items()]
    body = "".join(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in rows)
    table = f"<table>{body}</table>" if body else ""
    return (
        f'<div class="orchlab-record"><div class="orchlab-field-label">{esc(title)}</div>'
        f"{table}</div>"
    )
