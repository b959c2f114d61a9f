"""The runs monitor as widgets: runs and open work items as paged tables, a run's detail with
its diagram and timeline, and the admin's actions behind a confirmation bar."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as w

from orchlab.service.protocol import Backend
from orchlab.ui.common import age_text
from orchlab.ui.monitor import (
    ACTIONS,
    ITEM_COLUMNS,
    PAGE,
    RUN_COLUMNS,
    STATUSES,
    MonitorPresenter,
    describe,
)
from orchlab.ui.views.style import Busy, badge, esc, header, message_html, style_sheet
from orchlab.ui.views.work_guide import card, cells
from orchlab.ui.work_guide import assigned_text

__all__ = ["RunsMonitor"]

_RUN_WIDTHS = {"orchestration": 140, "status": 96, "stage": 130, "started": 130, "idle": 70}
_RUN_WIDTHS[""] = 260
_ITEM_WIDTHS = {"orchestration": 140, "run": 80, "assignee": 220, "age": 70}
_FIRST = 96  # the first column: a button
_ITEM_FIRST = 220


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else ""


class _Row:
    def __init__(self, width: int, on_click: Callable[[str], None]) -> None:
        self.key = ""
        self.button = w.Button(layout=w.Layout(width=f"{width}px"))
        self.button.add_class("orchlab-link")
        self.button.on_click(lambda _: on_click(self.key))
        self.cells = w.HTML()
        self.box = w.HBox([self.button, self.cells])
        self.box.add_class("orchlab-row")

    def show(self, key: str | None, text: str, html: str, selected: bool) -> None:
        self.key = key or ""
        self.box.layout.display = None if key else "none"
        if key:
            self.button.description = text
            self.cells.value = html
        (self.box.add_class if selected else self.box.remove_class)("orchlab-row-selected")


def _sort_head(
    columns: tuple[tuple[str, str], ...],
    first: int,
    widths: dict[str, int],
    on: Callable[[str], None],
) -> tuple[w.HBox, dict[str, w.Button]]:
    buttons = {}
    for i, (key, text) in enumerate(columns):
        width = first if i == 0 else widths[key]
        button = w.Button(description=text, layout=w.Layout(width=f"{width}px"))
        button.add_class("orchlab-sort")
        button.on_click(lambda _, k=key: on(k))
        buttons[key or text] = button
    head = w.HBox(list(buttons.values()))
    head.add_class("orchlab-table-head")
    return head, buttons


class RunsMonitor(w.VBox):
    """Orchestration runs and work items of a history, for admins (and what others may see)."""

    def __init__(self, backend: Backend, user: str | None = None) -> None:
        p = self.presenter = MonitorPresenter(backend, user)
        self._syncing = False
        self.busy = Busy()
        self.act_as = w.Dropdown(
            options=[(f"{u['name']} ({u['username']})", u["username"]) for u in p.people],
            description="Act as",
            layout=w.Layout(width="260px"),
            style={"description_width": "52px"},
        )
        self.act_as.observe(self._on(lambda c: p.act_as(c["new"])), names="value")
        self.refresh_button = w.Button(icon="refresh", tooltip="Read the history again")
        self.refresh_button.layout.width = "40px"
        self.refresh_button.on_click(lambda _: self._do(p.refresh))
        self.message = w.HTML()
        self.question = w.HTML()
        self.yes = w.Button(description="Yes, do it", button_style="danger")
        self.yes.add_class("orchlab-confirm-yes")
        self.yes.on_click(lambda _: self._do(p.confirm))
        self.no = w.Button(description="No")
        self.no.on_click(lambda _: self._do(p.dismiss))
        self.confirm_bar = w.HBox([self.question, self.yes, self.no])
        self.confirm_bar.add_class("orchlab-confirm")

        # Runs.
        self.orchestration = w.Dropdown(
            options=[("All orchestrations", ""), *p.orchestrations],
            layout=w.Layout(width="220px"),
        )
        self.status = w.Dropdown(
            options=[("Any status", "")] + [(s, s) for s in STATUSES],
            layout=w.Layout(width="150px"),
        )
        self.search = w.Text(
            placeholder="run, record or stage",
            continuous_update=False,
            layout=w.Layout(width="220px"),
        )
        for control, key in (
            (self.orchestration, "orchestration"),
            (self.status, "status"),
            (self.search, "text"),
        ):
            control.observe(
                self._on(lambda c, k=key: p.filter_runs(**{k: c["new"] or None})), names="value"
            )
        for control, name in (
            (self.orchestration, "orchestration"),
            (self.status, "status"),
            (self.search, "search"),
        ):
            control.add_class(f"orchlab-filter-{name}")
        run_head, self.run_sorts = _sort_head(
            RUN_COLUMNS, _FIRST, _RUN_WIDTHS, lambda k: self._do(p.sort_runs, k)
        )
        self.run_rows = [_Row(_FIRST, lambda k: self._do(p.select_run, k)) for _ in range(PAGE)]
        self.run_pager = w.HTML()
        self.run_prev = w.Button(
            icon="chevron-left", tooltip="Previous page", layout=w.Layout(width="36px")
        )
        self.run_next = w.Button(
            icon="chevron-right", tooltip="Next page", layout=w.Layout(width="36px")
        )
        self.run_prev.on_click(lambda _: self._do(p.page_runs, -1))
        self.run_next.on_click(lambda _: self._do(p.page_runs, 1))
        runs = card(
            w.HBox([self.orchestration, self.status, self.search]),
            run_head,
            *[r.box for r in self.run_rows],
            w.HBox(
                [self.run_prev, self.run_pager, self.run_next],
                layout=w.Layout(align_items="center"),
            ),
            title="Orchestration runs",
        )
        runs.add_class("orchlab-runs")

        # A run's detail.
        self.detail_head = w.HTML()
        self.actions: dict[str, w.Button] = {}
        for verb, (text, _, _) in ACTIONS.items():
            button = w.Button(description=text, button_style="danger" if verb == "cancel" else "")
            button.add_class(f"orchlab-action-{verb}")
            button.on_click(lambda _, v=verb: self._do(p.ask, v))
            self.actions[verb] = button
        self.timeline = w.HTML()
        self.diagram = w.HTML()
        self.diagram.add_class("orchlab-diagram")
        self.detail_card = card(
            self.detail_head, w.HBox(list(self.actions.values())), self.timeline
        )
        self.detail_card.add_class("orchlab-run-detail")
        self.diagram_card = card(self.diagram)
        self.detail_row = w.HBox(
            [
                w.Box([self.detail_card], layout=w.Layout(flex="1 1 560px", margin="0 12px 0 0")),
                w.Box([self.diagram_card], layout=w.Layout(flex="1 1 420px")),
            ],
            layout=w.Layout(flex_flow="row wrap", align_items="flex-start"),
        )

        # Open work items.
        self.item_orchestration = w.Dropdown(
            options=[("All orchestrations", ""), *p.orchestrations], layout=w.Layout(width="220px")
        )
        self.item_assignee = w.Dropdown(
            options=[("Anyone", ""), *p.targets], layout=w.Layout(width="220px")
        )
        self.item_search = w.Text(
            placeholder="item, label or record",
            continuous_update=False,
            layout=w.Layout(width="200px"),
        )
        for control, key in (
            (self.item_orchestration, "orchestration"),
            (self.item_assignee, "assignee"),
            (self.item_search, "text"),
        ):
            control.observe(
                self._on(lambda c, k=key: p.filter_items(**{k: c["new"] or None})), names="value"
            )
        item_head, self.item_sorts = _sort_head(
            ITEM_COLUMNS, _ITEM_FIRST, _ITEM_WIDTHS, lambda k: self._do(p.sort_items, k)
        )
        self.item_rows = [
            _Row(_ITEM_FIRST, lambda k: self._do(p.select_item, k)) for _ in range(PAGE)
        ]
        self.item_pager = w.HTML()
        self.item_prev = w.Button(icon="chevron-left", layout=w.Layout(width="36px"))
        self.item_next = w.Button(icon="chevron-right", layout=w.Layout(width="36px"))
        self.item_prev.on_click(lambda _: self._do(p.page_items, -1))
        self.item_next.on_click(lambda _: self._do(p.page_items, 1))
        self.reassign_to = w.Dropdown(
            options=[("— reassign to —", ""), *p.targets], layout=w.Layout(width="220px")
        )
        self.reassign_to.add_class("orchlab-reassign-to")
        self.reassign_to.observe(
            self._on(lambda c: setattr(p, "reassign_to", c["new"] or None)), names="value"
        )
        self.reassign = w.Button(description="Reassign", icon="share")
        self.reassign.add_class("orchlab-action-reassign")
        self.reassign.on_click(lambda _: self._do(p.ask, "reassign"))
        self.selected_item = w.HTML()
        items = card(
            w.HBox([self.item_orchestration, self.item_assignee, self.item_search]),
            item_head,
            *[r.box for r in self.item_rows],
            w.HBox(
                [self.item_prev, self.item_pager, self.item_next],
                layout=w.Layout(align_items="center"),
            ),
            w.HBox(
                [self.selected_item, self.reassign_to, self.reassign],
                layout=w.Layout(align_items="center"),
            ),
            title="Open work items",
        )
        items.add_class("orchlab-items")

        super().__init__(
            [
                style_sheet(),
                header(
                    "Runs monitor",
                    self.busy.widget,
                    self.act_as,
                    self.refresh_button,
                    subtitle="orchestration runs and work items",
                ),
                self.message,
                self.confirm_bar,
                runs,
                self.detail_row,
                items,
            ]
        )
        self.add_class("orchlab-app")
        self.add_class("orchlab-monitor")
        self.render()

    # --- events ----------------------------------------------------------------------------------

    def _do(self, action: Callable[..., Any], *args: Any) -> None:
        with self.busy:
            action(*args)
        self.render()

    def _on(self, handler: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], None]:
        def observe(change: dict[str, Any]) -> None:
            if not self._syncing:
                self._do(handler, change)

        return observe

    # --- showing the presenter -------------------------------------------------------------------

    def render(self) -> None:
        p = self.presenter
        self._syncing = True
        try:
            self.act_as.value = p.user
            self.message.value = message_html(p.message)
            if p.pending is None:
                self.confirm_bar.layout.display = "none"
            else:
                self.confirm_bar.layout.display = None
                self.question.value = f"<b>{esc(p.pending.question)}</b>"
            self._render_runs()
            self._render_detail()
            self._render_items()
        finally:
            self._syncing = False

    def _render_runs(self) -> None:
        p = self.presenter
        for key, text in RUN_COLUMNS:
            arrow = (" ▼" if p.descending else " ▲") if key and key == p.sort else ""
            self.run_sorts[key or text].description = text + arrow
        rows = p.runs["rows"]
        for i, row_widget in enumerate(self.run_rows):
            row = rows[i] if i < len(rows) else None
            if row is None:
                row_widget.show(None, "", "", False)
                continue
            html = cells(
                [
                    ("orchestration", f"{row['orchestration']} v{row['version']}"),
                    ("status", row["status"]),
                    ("stage", row["stage"] or ""),
                    ("started", _when(row["started"])),
                    ("idle", age_text(row["idle"])),
                    ("", row["error"] or row["waiting_on"]),
                ],
                _RUN_WIDTHS,
                {"status": badge(row["status"])},
            )
            row_widget.show(row["id"], row["id"], html, row["id"] == p.run_id)
        self.run_pager.value = (
            f'<span class="orchlab-muted">{esc(p.page_text(p.runs, p.offset))}</span>'
        )
        self.run_prev.disabled = p.offset == 0
        self.run_next.disabled = p.offset + PAGE >= p.runs["total"]

    def _render_detail(self) -> None:
        p = self.presenter
        d = p.detail
        if d is None:
            self.detail_row.layout.display = "none"
            return
        self.detail_row.layout.display = None
        facts = [
            f"{esc(d['orchestration'])} v{d['version']}",
            badge(d["status"]),
            f"started {_when(d['started'])}",
        ]
        if d.get("stage"):
            facts.append(f"stage {esc(d['stage'])}")
        if d.get("record"):
            facts.append(f"record {esc(d['record'])}")
        extra = ""
        if d.get("waiting_on"):
            extra += f'<div class="orchlab-muted">Waiting on {esc(d["waiting_on"])}</div>'
        if d.get("error"):
            extra += f'<div class="orchlab-error">{esc(d["error"])}</div>'
        self.detail_head.value = (
            f'<div class="orchlab-card-title" style="font-size:16px">Run {esc(d["id"])}</div>'
            f"<div>{' · '.join(facts)}</div>{extra}"
        )
        for verb, button in self.actions.items():
            button.disabled = not p.can(verb)
        lines = []
        for row in d["timeline"]:
            what, who, took = describe(row)
            lines.append(
                f"<tr><td>{_when(row['timestamp'])}</td><td>{esc(what)}</td>"
                f"<td>{esc(who)}</td><td>{esc(took)}</td></tr>"
            )
        self.timeline.value = (
            '<div class="orchlab-timeline"><table><tr><th>When</th><th>What</th><th>Who</th>'
            f"<th>How long</th></tr>{''.join(lines)}</table></div>"
        )
        if self.diagram.value != d["svg"]:
            self.diagram.value = d["svg"]

    def _render_items(self) -> None:
        p = self.presenter
        for key, text in ITEM_COLUMNS:
            arrow = (" ▼" if p.item_descending else " ▲") if key == p.item_sort else ""
            self.item_sorts[key].description = text + arrow
        rows = p.items["rows"]
        for i, row_widget in enumerate(self.item_rows):
            row = rows[i] if i < len(rows) else None
            if row is None:
                row_widget.show(None, "", "", False)
                continue
            html = cells(
                [
                    ("orchestration", row["orchestration"]),
                    ("run", row["run_id"]),
                    ("assignee", assigned_text(row)),
                    ("age", age_text(row["age"])),
                ],
                _ITEM_WIDTHS,
            )
            row_widget.show(row["id"], row["label"], html, row["id"] == p.item_id)
            row_widget.button.tooltip = row["id"]
        self.item_pager.value = (
            f'<span class="orchlab-muted">{esc(p.page_text(p.items, p.item_offset))}</span>'
        )
        self.item_prev.disabled = p.item_offset == 0
        self.item_next.disabled = p.item_offset + PAGE >= p.items["total"]
        self.selected_item.value = (
            f"<b>{esc(p.item_id)}</b>&nbsp;"
            if p.item_id
            else '<span class="orchlab-muted">Pick a work item to reassign it.</span>&nbsp;'
        )
        self.reassign.disabled = not (p.item_id and p.reassign_to)
        self.reassign_to.value = p.reassign_to or ""
