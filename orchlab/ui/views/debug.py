"""The designer's Debug panel: start the design on a throwaway engine, act for its people,
and step from milestone to milestone with the path, the data and every condition shown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as w

from orchlab.definition.codec import decode_value
from orchlab.definition.conditions import Explanation
from orchlab.definition.yaml_dialect import parse
from orchlab.errors import OrchlabError
from orchlab.service.protocol import screen_from_dict
from orchlab.ui.common import Message
from orchlab.ui.debug import Debugger, Point
from orchlab.ui.designer import DesignerPresenter
from orchlab.ui.forms import FormState
from orchlab.ui.monitor import describe
from orchlab.ui.views.forms import FormView
from orchlab.ui.views.style import esc, message_html

__all__ = ["DebugPanel", "explanation_html", "parse_record"]


def parse_record(text: str, what: str) -> dict[str, Any]:
    """A record's fields from YAML lines such as ``Amount: 2500``."""
    if not text.strip():
        return {}
    data = parse(text, "yaml")
    if not isinstance(data, dict):
        raise ValueError(f"{what}: expected lines of Field: value, got {text.strip()[:40]!r}")
    return {str(k): decode_value(v, f"{what} {k}") for k, v in data.items()}


def _word(value: bool | None) -> str:
    return {True: "✔ true", False: "✘ false", None: "⚠ error"}[value]


def explanation_html(what: str, e: Explanation) -> str:
    """One decided block: each numbered condition with its values and result, then the logic."""
    rows = "".join(
        f"<tr><td>{i.number}</td><td class='orchlab-code'>{esc(i.text)}</td>"
        f"<td>{esc(i.left)}</td><td>{esc(i.right)}</td><td>{_word(i.result)}"
        f"{(' ' + esc(i.error)) if i.error else ''}</td></tr>"
        for i in e.items
    )
    trace = esc(e.trace) if e.trace else f'<span class="orchlab-error">{esc(e.error)}</span>'
    return (
        f'<div class="orchlab-check"><b>{esc(what)}</b>: {_word(e.result)}'
        "<table><tr><th>#</th><th>condition</th><th>left</th><th>right</th><th>result</th></tr>"
        f"{rows}</table><div class='orchlab-code'>{trace}</div></div>"
    )


class DebugPanel(w.VBox):
    """Run the design, as Salesforce's Debug with rollback: nothing reaches the history."""

    def __init__(self, p: DesignerPresenter, changed: Callable[[], None]) -> None:
        self.p = p
        self.changed = changed
        self.debugger: Debugger | None = None
        self.message = w.HTML()
        self.new_run = w.Button(description="New debug run", icon="bug", button_style="warning")
        self.new_run.add_class("orchlab-debug-new")
        self.new_run.on_click(lambda _: self.prepare())
        self.start_box = w.VBox()
        self.start_form: FormState | None = None
        self.record = w.Textarea(
            placeholder="Field: value, one per line", rows=4, layout=w.Layout(width="420px")
        )
        self.update = w.Textarea(
            placeholder="then saved again with (for update triggers)",
            rows=2,
            layout=w.Layout(width="420px"),
        )
        self.start = w.Button(description="Start", icon="play", button_style="primary")
        self.start.add_class("orchlab-debug-start")
        self.start.on_click(lambda _: self._start())
        # People's parts.
        self.items = w.Dropdown(
            description="Work item",
            style={"description_width": "80px"},
            layout=w.Layout(width="420px"),
        )
        self.items.observe(lambda _: self._show_item(), names="value")
        self.person = w.Dropdown(
            description="Act as",
            style={"description_width": "80px"},
            layout=w.Layout(width="260px"),
        )
        self.item_form: FormState | None = None
        self.item_box = w.VBox()
        self.submit = w.Button(
            description="Submit as this person",
            icon="check",
            button_style="primary",
            layout=w.Layout(width="220px"),
        )
        self.submit.add_class("orchlab-debug-submit")
        self.submit.on_click(lambda _: self._act())
        self.people = w.VBox([self.items, self.person, self.item_box, self.submit])
        # Stepping.
        self.first = w.Button(
            icon="fast-backward", tooltip="First milestone", layout=w.Layout(width="40px")
        )
        self.back = w.Button(
            icon="step-backward", tooltip="Previous milestone", layout=w.Layout(width="40px")
        )
        self.forward = w.Button(
            icon="step-forward", tooltip="Next milestone", layout=w.Layout(width="40px")
        )
        self.last = w.Button(
            icon="fast-forward", tooltip="Latest milestone", layout=w.Layout(width="40px")
        )
        self.forward.add_class("orchlab-debug-forward")
        self.back.add_class("orchlab-debug-back")
        for button, move in (
            (self.first, "first"),
            (self.back, -1),
            (self.forward, 1),
            (self.last, "last"),
        ):
            button.on_click(lambda _, m=move: self._move(m))
        self.where = w.HTML()
        self.diagram = w.HTML()
        self.diagram.add_class("orchlab-diagram")
        self.data = w.HTML()
        self.checks = w.HTML()
        self.stepper = w.VBox(
            [
                w.HBox(
                    [self.first, self.back, self.forward, self.last, self.where],
                    layout=w.Layout(align_items="center"),
                ),
                w.HBox(
                    [
                        w.Box([self.diagram], layout=w.Layout(flex="1 1 380px")),
                        w.VBox(
                            [self.data, self.checks],
                            layout=w.Layout(flex="1 1 380px", margin="0 0 0 12px"),
                        ),
                    ],
                    layout=w.Layout(flex_flow="row wrap"),
                ),
            ]
        )
        super().__init__([
            w.HTML(
                '<div class="orchlab-muted">Runs the design on a throwaway engine in memory with a '
                "copy of the directory; nothing is written to any history.</div>"
            ),
            self.new_run, self.message, self.start_box, self.people, self.stepper,
        ])  # fmt: skip
        self.add_class("orchlab-debug")
        self.render()

    def _say(self, message: Message) -> None:
        self.message.value = message_html(message)

    def prepare(self) -> None:
        """A fresh throwaway engine with the current design deployed."""
        p = self.p
        self.debugger = None
        if p.errors or p.orch is None:
            self._say(
                Message(
                    "error",
                    f"Fix the {len(p.errors)} error{'s' * (len(p.errors) != 1)} first: the "
                    "engine runs only valid definitions.",
                )
            )
            self.render()
            return
        try:
            self.debugger = Debugger(p.orch, p.directory(), p.registry)
        except OrchlabError as exc:
            self._say(Message("error", str(exc)))
            self.render()
            return
        d = self.debugger
        if d.record_triggered:
            start = d.orch.start
            self.start_form = None
            on = getattr(start, "on", "")
            self.start_box.children = (
                w.HTML(
                    f"<b>A {esc(getattr(start, 'object', ''))} record is saved</b> "
                    f"(trigger: {esc(on)})"
                ),
                self.record,
                self.update,
                self.start,
            )
        else:
            self.start_form = FormState(screen_from_dict(d.start_form()["screen"]))
            self.start_box.children = (
                w.HTML("<b>Inputs</b>"),
                FormView(self.start_form),
                self.start,
            )
        self._say(Message("info", f"Ready: {d.orch.name} v{d.orch.version} on a throwaway engine."))
        self.render()

    def _start(self) -> None:
        d = self.debugger
        if d is None:
            return
        try:
            if d.record_triggered:
                run = d.start(
                    record=parse_record(self.record.value, "record"),
                    update=parse_record(self.update.value, "update") or None,
                )
            else:
                run = d.start(values=self.start_form.submission() if self.start_form else {})
        except (OrchlabError, ValueError) as exc:
            if self.start_form is not None and hasattr(exc, "errors"):
                self.start_form.errors = dict(exc.errors)  # type: ignore[attr-defined]
                self.start_box.children[1].show_errors()  # type: ignore[attr-defined]
            self._say(Message("error", f"Not started: {exc}"))
            return
        self.start_box.children = ()
        if run is None:
            self._say(
                Message(
                    "warning",
                    "The record was saved, but the start conditions did not hold: no run.",
                )
            )
        else:
            self._say(Message("success", f"Run {run} started; step through its milestones below."))
        self.render()

    def _show_item(self) -> None:
        d = self.debugger
        item_id = self.items.value
        if d is None or not item_id:
            self.item_box.children = ()
            self.item_form = None
            return
        item = next(i for i in d.open_items() if i["id"] == item_id)
        people = d.people_for(item)
        self.person.options = people
        self.person.value = people[0] if people else None
        view = d.work_item(item_id, people[0] if people else "system")
        self.item_form = FormState(screen_from_dict(view["screen"]))
        self.item_box.children = (FormView(self.item_form),)

    def _act(self) -> None:
        d = self.debugger
        if d is None or self.item_form is None or not self.items.value:
            return
        try:
            outcome = d.act(self.items.value, self.person.value, self.item_form.submission())
        except OrchlabError as exc:
            if hasattr(exc, "errors"):
                self.item_form.errors = dict(exc.errors)  # type: ignore[attr-defined]
                self.item_box.children[0].show_errors()  # type: ignore[attr-defined]
            self._say(Message("error", f"Not submitted: {exc}"))
            return
        lines = tuple(f"Next: {r['label']} for {r['assignee']}" for r in outcome["next"])
        self._say(
            Message(
                "success",
                f"Submitted as {self.person.value}; run is {outcome['run_status']}.",
                lines,
            )
        )
        self.render()

    def _move(self, move: Any) -> None:
        d = self.debugger
        if d is None:
            return
        if move == "first":
            d.first()
        elif move == "last":
            d.last()
        else:
            d.step(move)
        self._render_point()

    def render(self) -> None:
        d = self.debugger
        started = d is not None and d.run_id is not None
        self.people.layout.display = "none"
        self.stepper.layout.display = None if d is not None and d.rows else "none"
        if d is None:
            self.start_box.children = ()
            return
        if started:
            items = d.open_items()
            self.people.layout.display = None if items else "none"
            options = [
                (f"{i['id']} {i['label']} — {i['assignee_type'].lower()} {i['assignee']}", i["id"])
                for i in items
            ]
            self.items.options = options
            if options:
                self.items.value = options[0][1]
            self._show_item()
        self._render_point()

    def _render_point(self) -> None:
        d = self.debugger
        if d is None or not d.rows:
            return
        point: Point = d.point()
        what, who, _ = describe(point.row._asdict())
        self.where.value = (
            f"&nbsp;milestone <b>{point.index + 1}</b> of {len(d.rows)}: <b>{esc(what)}</b>"
            + (f" by {esc(who)}" if who else "")
            + f" · run {esc(point.status)}"
        )
        self.diagram.value = point.svg
        variables = "".join(
            f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in point.variables.items()
        )
        outputs = "".join(
            f"<tr><td>{esc(step)}.Outputs.{esc(k)}</td><td>{esc(v)}</td></tr>"
            for step, values in point.outputs.items()
            for k, v in values.items()
        )
        self.data.value = (
            '<div class="orchlab-record">'
            '<div class="orchlab-field-label">Variables and step outputs</div>'
            f"<table>{variables}{outputs or '<tr><td>no step outputs yet</td></tr>'}</table></div>"
        )
        self.checks.value = "".join(
            explanation_html(c.what, c.explanation) for c in point.checks
        ) or ('<div class="orchlab-muted">No condition was decided at this milestone.</div>')
        self.checks.add_class("orchlab-checks")
