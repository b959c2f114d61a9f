"""The designer as widgets: the path's elements, their editors, screens, start and variables,
the Debug panel; beside them the live diagram and the `validate()` problems."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as w

from orchlab.definition.model import Orchestration
from orchlab.definition.registry import Registry
from orchlab.service.protocol import Backend
from orchlab.ui.designer import DesignerPresenter
from orchlab.ui.draft import DecisionDraft, EndDraft, StageDraft
from orchlab.ui.views.debug import DebugPanel
from orchlab.ui.views.editors import (
    DecisionEditor,
    EndEditor,
    ScreenEditor,
    StageEditor,
    StartEditor,
    VariableEditor,
    text,
)
from orchlab.ui.views.style import Busy, esc, header, message_html, style_sheet
from orchlab.ui.views.work_guide import card

__all__ = ["Designer"]

_ICONS = {"stage": "▭", "decision": "◆", "end": "●"}


def _small(icon: str, tooltip: str, cls: str = "") -> w.Button:
    button = w.Button(icon=icon, tooltip=tooltip, layout=w.Layout(width="36px"))
    if cls:
        button.add_class(cls)
    return button


class Designer(w.VBox):
    """Build or edit an orchestration without writing code.

    Args:
        backend: the engine to deploy to and load from (`connect(...)` or `AppApi(engine)`);
            without one the designer works on files only.
        orchestration: what to open: a definition, an example's key ("loan"), or None for a
            new orchestration with one stage.
        user: who deploys (default: the first admin of the directory).
    """

    def __init__(
        self,
        backend: Backend | None = None,
        orchestration: Orchestration | str | None = None,
        *,
        user: str | None = None,
        registry: Registry | None = None,
    ) -> None:
        p = self.presenter = DesignerPresenter(
            backend,
            orchestration if isinstance(orchestration, Orchestration) else None,
            registry=registry,
        )
        if isinstance(orchestration, str):
            p.load_example(orchestration)
        self.busy = Busy()
        people = p.directory()["users"]
        admins = [u["username"] for u in people if u["is_admin"]]
        self.act_as = w.Dropdown(
            options=[(f"{u['name']} ({u['username']})", u["username"]) for u in people],
            value=user or (admins[0] if admins else people[0]["username"] if people else None),
            description="Deploy as",
            layout=w.Layout(width="280px"),
            style={"description_width": "72px"},
        )
        from orchlab.definition.examples import EXAMPLES

        opens = [("— open —", "")] + [(f"example: {k}", f"example:{k}") for k in EXAMPLES]
        if backend is not None:
            opens += [
                (f"deployed: {o['label']}", f"deployed:{o['name']}")
                for o in backend.orchestrations()
            ]
        self.open_choice = w.Dropdown(options=opens, layout=w.Layout(width="260px"))
        self.open_choice.add_class("orchlab-open")
        self.open_choice.observe(self._on_open, names="value")
        self.new_button = w.Button(description="New", icon="file")
        self.new_button.on_click(lambda _: self._do(p.new))
        self.path = w.Text(value=p.path, layout=w.Layout(width="260px"), continuous_update=True)
        self.path.observe(lambda c: setattr(p, "path", c["new"]), names="value")
        self.load_button = w.Button(description="Load", icon="folder-open")
        self.load_button.on_click(lambda _: self._do(p.load))
        self.save_button = w.Button(description="Save", icon="save")
        self.save_button.add_class("orchlab-save")
        self.save_button.on_click(lambda _: self._do(p.save))
        self.deploy_button = w.Button(description="Deploy", icon="upload", button_style="success")
        self.deploy_button.add_class("orchlab-deploy")
        self.deploy_button.on_click(lambda _: self._do(p.deploy, self.act_as.value))
        self.deploy_button.disabled = backend is None
        toolbar = w.HBox(
            [
                self.open_choice,
                self.new_button,
                self.path,
                self.load_button,
                self.save_button,
                self.deploy_button,
            ],
            layout=w.Layout(flex_flow="row wrap", align_items="center"),
        )
        self.message = w.HTML()

        # The path: elements on the left, the selected one's editor on the right.
        self.elements = w.Select(rows=10, layout=w.Layout(width="240px"))
        self.elements.observe(self._on_select_element, names="value")
        self.add_stage = w.Button(description="Stage", icon="plus", layout=w.Layout(width="110px"))
        self.add_decision = w.Button(
            description="Decision", icon="plus", layout=w.Layout(width="110px")
        )
        self.add_end = w.Button(description="End", icon="plus", layout=w.Layout(width="110px"))
        for button, kind in (
            (self.add_stage, "stage"),
            (self.add_decision, "decision"),
            (self.add_end, "end"),
        ):
            button.add_class(f"orchlab-add-{kind}")
            button.on_click(lambda _, k=kind: self._structure(p.add_element, k))
        self.up = _small("arrow-up", "Move up", "orchlab-element-up")
        self.down = _small("arrow-down", "Move down", "orchlab-element-down")
        self.delete = _small("trash", "Delete", "orchlab-element-delete")
        self.up.on_click(lambda _: self._structure(p.move_element, -1))
        self.down.on_click(lambda _: self._structure(p.move_element, 1))
        self.delete.on_click(lambda _: self._structure(p.delete_element))
        self.editor_box = w.VBox(layout=w.Layout(flex="1 1 520px", margin="0 0 0 12px"))
        self.editor: StageEditor | DecisionEditor | EndEditor | None = None
        path_tab = w.HBox(
            [
                w.VBox(
                    [
                        self.elements,
                        w.HBox([self.up, self.down, self.delete]),
                        self.add_stage,
                        self.add_decision,
                        self.add_end,
                    ]
                ),
                self.editor_box,
            ],
            layout=w.Layout(flex_flow="row wrap"),
        )

        # Screens.
        self.screens = w.Select(rows=6, layout=w.Layout(width="240px"))
        self.screens.observe(self._on_select_screen, names="value")
        self.add_screen = w.Button(
            description="Screen", icon="plus", layout=w.Layout(width="110px")
        )
        self.add_screen.add_class("orchlab-add-screen")
        self.add_screen.on_click(lambda _: self._structure(p.add_screen))
        self.delete_screen = _small("trash", "Delete the screen")
        self.delete_screen.on_click(lambda _: self._structure(p.delete_screen))
        self.screen_box = w.VBox(layout=w.Layout(flex="1 1 520px", margin="0 0 0 12px"))
        self.screen_editor: ScreenEditor | None = None
        screens_tab = w.HBox(
            [
                w.VBox([self.screens, w.HBox([self.add_screen, self.delete_screen])]),
                self.screen_box,
            ],
            layout=w.Layout(flex_flow="row wrap"),
        )

        # The orchestration itself: names, start, variables.
        self.name = text("API name", p.draft.name)
        self.label = text("Label", p.draft.label)
        self.description = text("Description", p.draft.description, area=True)
        self.start_box = w.VBox()
        self.variables = w.Select(rows=5, layout=w.Layout(width="240px"))
        self.variables.observe(self._on_select_variable, names="value")
        self.add_variable = w.Button(
            description="Variable", icon="plus", layout=w.Layout(width="110px")
        )
        self.add_variable.add_class("orchlab-add-variable")
        self.add_variable.on_click(lambda _: self._structure(p.add_variable))
        self.delete_variable = _small("trash", "Delete the variable")
        self.delete_variable.on_click(lambda _: self._structure(p.delete_variable))
        self.variable_box = w.VBox(layout=w.Layout(flex="1 1 420px", margin="0 0 0 12px"))
        variable_list = w.VBox([self.variables, w.HBox([self.add_variable, self.delete_variable])])
        about_tab = w.VBox(
            [
                self.name, self.label, self.description, self.start_box,
                w.HTML('<div class="orchlab-field-label">Variables</div>'),
                w.HBox([variable_list, self.variable_box]),
            ]
        )  # fmt: skip

        self.debug = DebugPanel(p, self._changed)
        self.tabs = w.Tab(children=[path_tab, screens_tab, about_tab, self.debug])
        for i, title in enumerate(("Path", "Screens", "Start and data", "Debug")):
            self.tabs.set_title(i, title)

        self.diagram = w.HTML()
        self.diagram.add_class("orchlab-diagram")
        self.problems = w.HTML()
        self.problems.add_class("orchlab-problems")
        right = w.VBox(
            [card(self.problems, title="Problems"), card(self.diagram)],
            layout=w.Layout(flex="1 1 420px", min_width="380px"),
        )
        left = w.VBox([self.tabs], layout=w.Layout(flex="1 1 720px", margin="0 12px 0 0"))
        super().__init__(
            [
                style_sheet(),
                header(
                    "Designer",
                    self.busy.widget,
                    self.act_as,
                    subtitle="stages, steps, decisions; no code",
                ),
                toolbar,
                self.message,
                w.HBox(
                    [left, right], layout=w.Layout(flex_flow="row wrap", align_items="flex-start")
                ),
            ]
        )
        self.add_class("orchlab-app")
        self.add_class("orchlab-designer")
        self._bind_about()
        self.rebuild()

    # --- events ----------------------------------------------------------------------------------

    def _do(self, action: Callable[..., Any], *args: Any) -> None:
        with self.busy:
            action(*args)
        self.rebuild()

    def _structure(self, action: Callable[..., Any], *args: Any) -> None:
        action(*args)
        self.rebuild()

    def _on_open(self, change: dict[str, Any]) -> None:
        value = change["new"]
        if not value:
            return
        kind, _, name = value.partition(":")
        p = self.presenter
        self._do(p.load_example if kind == "example" else p.load_deployed, name)
        self.open_choice.value = ""

    def _on_select_element(self, change: dict[str, Any]) -> None:
        if not self._syncing and change["new"] is not None:
            self.presenter.select_element(change["new"])
            self.rebuild()

    def _on_select_screen(self, change: dict[str, Any]) -> None:
        if not self._syncing and change["new"] is not None:
            self.presenter.select_screen(change["new"])
            self.rebuild()

    def _on_select_variable(self, change: dict[str, Any]) -> None:
        if not self._syncing and change["new"] is not None:
            self.presenter.select_variable(change["new"])
            self.rebuild()

    _syncing = False

    def _bind_about(self) -> None:
        p = self.presenter
        # The draft object changes when another orchestration is opened: bind through it.
        for control, name in (
            (self.name, "name"),
            (self.label, "label"),
            (self.description, "description"),
        ):
            control.observe(
                lambda c, n=name: (
                    None if self._syncing else (p.edit(p.draft, **{n: c["new"]}), self._changed())
                ),
                names="value",
            )

    # --- showing the presenter -------------------------------------------------------------------

    def rebuild(self) -> None:
        """Editors for what is selected now (after a selection, an open, or a shape change)."""
        p = self.presenter
        self._syncing = True
        try:
            element = p.element
            if isinstance(element, StageDraft):
                self.editor = StageEditor(p, element, self._changed, self.rebuild)
            elif isinstance(element, DecisionDraft):
                self.editor = DecisionEditor(p, element, self._changed, self.rebuild)
            elif isinstance(element, EndDraft):
                self.editor = EndEditor(p, element, self._changed, self.rebuild)
            else:
                self.editor = None
            self.editor_box.children = (
                (self.editor,) if self.editor else (w.HTML("Add a stage to begin."),)
            )
            screen = p.screen
            self.screen_editor = (
                ScreenEditor(p, screen, self._changed, self.rebuild) if screen else None
            )
            self.screen_box.children = (self.screen_editor,) if self.screen_editor else ()
            self.start_editor = StartEditor(p, p.draft.start, self._changed, self.rebuild)
            self.start_box.children = (
                w.HTML('<div class="orchlab-field-label">Start</div>'),
                self.start_editor,
            )
            variable = p.variable
            self.variable_editor = (
                VariableEditor(p, variable, self._changed, self.rebuild) if variable else None
            )
            self.variable_box.children = (self.variable_editor,) if self.variable_editor else ()
            self.name.value, self.label.value = p.draft.name, p.draft.label
            self.description.value = p.draft.description
        finally:
            self._syncing = False
        self._changed()

    def _changed(self) -> None:
        """Repaint what every edit can change: lists, message, problems, diagram."""
        p = self.presenter
        self._syncing = True
        try:
            options = [
                (f"{i + 1}. {_ICONS[e.kind]} {e.name}", i) for i, e in enumerate(p.draft.elements)
            ]
            if list(self.elements.options) != options:
                self.elements.options = options
            self.elements.value = p.element_index
            screens = [(s.name, i) for i, s in enumerate(p.draft.screens)]
            if list(self.screens.options) != screens:
                self.screens.options = screens
            self.screens.value = p.screen_index
            variables = [(f"{v.name} ({v.type})", i) for i, v in enumerate(p.draft.variables)]
            if list(self.variables.options) != variables:
                self.variables.options = variables
            self.variables.value = p.variable_index
        finally:
            self._syncing = False
        self.message.value = message_html(p.message)
        if self.diagram.value != p.diagram:
            self.diagram.value = p.diagram
        self.problems.value = _problems_html(p)


def _problems_html(p: DesignerPresenter) -> str:
    if not p.findings:
        return (
            '<div class="orchlab-message orchlab-message-success">'
            "✔ no problems: ready to debug and deploy</div>"
        )
    rows = "".join(
        f"<tr><td>{'⚠' if f.severity == 'warning' else '✖'}</td><td>{esc(f.element)}</td>"
        f"<td class='orchlab-code'>{esc(f.field)}</td><td>{esc(f.message)}</td></tr>"
        for f in p.findings
    )
    errors = len(p.errors)
    head = f"{errors} error{'s' * (errors != 1)}, {len(p.findings) - errors} warnings"
    return (
        f'<div class="orchlab-muted">{head}</div>'
        f'<div class="orchlab-timeline"><table>{rows}</table></div>'
    )
