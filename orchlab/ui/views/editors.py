"""The designer's editors: one small form per kind of part (conditions, rules, steps, stages,
decisions, ends, screens and fields, variables, the start).

Each editor writes into its draft through `DesignerPresenter.edit` (so every change is
checked and drawn), and calls `changed()` so the designer repaints what depends on it;
`rebuild()` is asked for when the shape changes (a row, an outcome or a step added).
Text boxes report when the person leaves them or presses Enter, not on every key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as w

from orchlab.definition.conditions import Operator
from orchlab.definition.model import FieldKind, TriggerEvent
from orchlab.definition.values import ValueType
from orchlab.ui.designer import DesignerPresenter, logic_problem
from orchlab.ui.draft import (
    ASSIGNEE_KINDS,
    END,
    FOLLOWING,
    STEP_KINDS,
    ConditionsDraft,
    DecisionDraft,
    EndDraft,
    FieldDraft,
    OutcomeDraft,
    ScreenDraft,
    StageDraft,
    StartDraft,
    StepDraft,
    VariableDraft,
)
from orchlab.ui.views.style import esc

__all__ = [
    "ConditionsEditor",
    "DecisionEditor",
    "EndEditor",
    "FieldEditor",
    "StageEditor",
    "StartEditor",
    "StepEditor",
    "VariableEditor",
    "text",
]

Hook = Callable[[], None]
_LABEL = {"description_width": "110px"}


def text(description: str, value: str, *, area: bool = False, placeholder: str = "") -> w.Text:
    cls = w.Textarea if area else w.Text
    box = cls(
        value=value,
        description=description,
        placeholder=placeholder,
        continuous_update=False,
        style=_LABEL,
        layout=w.Layout(width="100%", max_width="520px"),
    )
    if area:
        box.rows = 3
    return box


def dropdown(description: str, options: list[Any], value: Any) -> w.Dropdown:
    values = [o[1] if isinstance(o, tuple) else o for o in options]
    if value not in values:
        options = [*options, (f"{value} (unknown)", value)] if value else options
    return w.Dropdown(
        options=options,
        value=value if value in values or value else values[0] if values else None,
        description=description,
        style=_LABEL,
        layout=w.Layout(width="100%", max_width="520px"),
    )


def combo(description: str, options: list[str], value: str, placeholder: str = "") -> w.Combobox:
    return w.Combobox(
        value=value,
        options=sorted(set(options)),
        description=description,
        placeholder=placeholder,
        ensure_option=False,
        continuous_update=False,
        style=_LABEL,
        layout=w.Layout(width="100%", max_width="520px"),
    )


def bind(widget: w.ValueWidget, p: DesignerPresenter, target: Any, name: str, hook: Hook) -> None:
    """Write the widget's value into `target.name` through the presenter, then repaint."""

    def write(change: dict[str, Any]) -> None:
        p.edit(target, **{name: change["new"]})
        hook()

    widget.observe(write, names="value")


def section(title: str, *children: w.Widget) -> w.VBox:
    box = w.VBox(
        [
            w.HTML(f'<div class="orchlab-field-label" style="margin-top:6px">{esc(title)}</div>'),
            *children,
        ]
    )
    return box


# --- conditions and rules ------------------------------------------------------------------------

_OPERATORS = [op.value for op in Operator]
_LOGIC = [("All hold (AND)", "and"), ("Any holds (OR)", "or"), ("Custom logic", "custom")]


class ConditionsEditor(w.VBox):
    """Numbered conditions, left / operator / right, and how they join (custom logic with the
    parser's error shown under the very column it points at)."""

    def __init__(
        self, p: DesignerPresenter, block: ConditionsDraft, changed: Hook, title: str = ""
    ) -> None:
        self.p, self.block, self.changed = p, block, changed
        self.rows_box = w.VBox()
        self.add = w.Button(
            description="Add condition", icon="plus", layout=w.Layout(width="150px")
        )
        self.add.add_class("orchlab-add-condition")
        self.add.on_click(lambda _: self._add())
        custom = block.logic not in ("and", "or")
        self.logic = w.Dropdown(
            options=_LOGIC,
            value="custom" if custom else block.logic,
            layout=w.Layout(width="160px"),
        )
        self.custom = w.Text(
            value=block.logic if custom else "",
            placeholder="1 AND (2 OR 3)",
            continuous_update=False,
            layout=w.Layout(width="240px", display=None if custom else "none"),
        )
        self.custom.add_class("orchlab-logic")
        self.logic.observe(self._on_logic, names="value")
        self.custom.observe(lambda c: self._set_logic(c["new"]), names="value")
        self.error = w.HTML()
        head = [w.HTML(f'<span class="orchlab-muted">{esc(title)}</span>')] if title else []
        super().__init__(
            [*head, self.rows_box, w.HBox([self.add, self.logic, self.custom]), self.error]
        )
        self.add_class("orchlab-conditions")
        self._rows()
        self._show_error()

    def _rows(self) -> None:
        rows = []
        self.lefts, self.ops, self.rights = [], [], []
        for i, row in enumerate(self.block.rows):
            number = w.HTML(f"<b>{i + 1}</b>", layout=w.Layout(width="16px"))
            left = w.Text(
                value=row[0],
                placeholder="$Record.Amount",
                continuous_update=False,
                layout=w.Layout(width="170px"),
            )
            op = w.Dropdown(
                options=_OPERATORS,
                value=row[1] if row[1] in _OPERATORS else "equals",
                layout=w.Layout(width="124px"),
            )
            right = w.Text(
                value=row[2],
                placeholder="1000 or {!ref}",
                continuous_update=False,
                layout=w.Layout(width="116px"),
            )
            drop = w.Button(
                icon="trash", tooltip="Delete this condition", layout=w.Layout(width="36px")
            )
            for control, column in ((left, 0), (op, 1), (right, 2)):
                control.observe(
                    lambda c, r=row, k=column: self._cell(r, k, c["new"]), names="value"
                )
            drop.on_click(lambda _, k=i: self._drop(k))
            self.lefts.append(left)
            self.ops.append(op)
            self.rights.append(right)
            rows.append(w.HBox([number, left, op, right, drop]))
        self.rows_box.children = tuple(rows)

    def _cell(self, row: list[str], column: int, value: str) -> None:
        row[column] = value
        self.p.update()
        self.changed()

    def _add(self) -> None:
        self.p.add_condition(self.block)
        self._rows()
        self._show_error()
        self.changed()

    def _drop(self, index: int) -> None:
        self.p.delete_condition(self.block, index)
        self._rows()
        self._show_error()
        self.changed()

    def _on_logic(self, change: dict[str, Any]) -> None:
        custom = change["new"] == "custom"
        self.custom.layout.display = None if custom else "none"
        if custom:
            count = len(self.block.rows)
            self.custom.value = self.custom.value or " AND ".join(
                str(i) for i in range(1, count + 1)
            )
            self._set_logic(self.custom.value)
        else:
            self._set_logic(change["new"])

    def _set_logic(self, logic: str) -> None:
        if self.logic.value == "custom" and logic in ("and", "or"):
            return
        self.p.edit(self.block, logic=logic or "and")
        self._show_error()
        self.changed()

    def _show_error(self) -> None:
        problem = logic_problem(self.block) if self.block.logic not in ("and", "or") else None
        if problem is None:
            self.error.value = ""
            return
        message, column = problem
        logic = self.block.logic
        caret = ""
        if column:
            caret = " " * (column - 1) + "^"
        self.error.value = (
            f'<pre class="orchlab-code" style="margin:2px 0">{esc(logic)}\n'
            f'<span class="orchlab-caret">{esc(caret)}</span></pre>'
            f'<div class="orchlab-error orchlab-logic-error">{esc(message)}</div>'
        )


class RuleEditor(w.VBox):
    """An entry or exit rule: the default, conditions, an evaluation flow (or after steps)."""

    def __init__(
        self,
        p: DesignerPresenter,
        target: Any,
        prefix: str,
        kinds: list[tuple[str, str]],
        changed: Hook,
        siblings: list[str] | None = None,
    ) -> None:
        self.p, self.target, self.prefix, self.changed = p, target, prefix, changed
        kind = getattr(target, prefix)
        self.kind = dropdown(prefix.capitalize(), kinds, kind)
        self.kind.observe(self._on_kind, names="value")
        self.conditions = ConditionsEditor(p, getattr(target, f"{prefix}_conditions"), changed)
        self.flow = combo(
            "Evaluation flow", p.choices["evaluation"], getattr(target, f"{prefix}_flow")
        )
        bind(self.flow, p, target, f"{prefix}_flow", changed)
        self.inputs = text(
            "Its inputs",
            getattr(target, f"{prefix}_inputs"),
            area=True,
            placeholder="name = {!ref}",
        )
        bind(self.inputs, p, target, f"{prefix}_inputs", changed)
        self.after: w.SelectMultiple | None = None
        parts: list[w.Widget] = [self.kind]
        if siblings is not None:
            self.after = w.SelectMultiple(
                options=siblings,
                value=tuple(s for s in target.after if s in siblings),
                description="After steps",
                rows=min(max(len(siblings), 2), 5),
                style=_LABEL,
            )
            self.after.observe(
                lambda c: (p.edit(target, after=list(c["new"])), changed()), names="value"
            )
            parts.append(self.after)
        parts += [self.conditions, self.flow, self.inputs]
        super().__init__(parts)
        self._show()

    def _on_kind(self, change: dict[str, Any]) -> None:
        self.p.edit(self.target, **{self.prefix: change["new"]})
        self._show()
        self.changed()

    def _show(self) -> None:
        kind = getattr(self.target, self.prefix)
        self.conditions.layout.display = None if kind == "conditions" else "none"
        for control in (self.flow, self.inputs):
            control.layout.display = None if kind == "evaluation" else "none"
        if self.after is not None:
            self.after.layout.display = None if kind == "after" else "none"


# --- path elements -------------------------------------------------------------------------------


def _connector_options(p: DesignerPresenter, own: str) -> list[tuple[str, str]]:
    names = [n for n in p.choices["element"] if n != own]
    return [
        ("the next element in the list", FOLLOWING),
        ("end the run", END),
        *((n, n) for n in names),
    ]


class StepEditor(w.VBox):
    """One step: kind, what it calls, who does it, when it starts and ends, its data."""

    def __init__(
        self, p: DesignerPresenter, stage: StageDraft, step: StepDraft, changed: Hook, rebuild: Hook
    ) -> None:
        self.p, self.step, self.changed, self.rebuild = p, step, changed, rebuild
        self.name = text("Step name", step.name)
        self.name.observe(self._rename, names="value")
        self.label = text("Label", step.label)
        bind(self.label, p, step, "label", changed)
        self.kind = dropdown("Kind", list(STEP_KINDS), step.kind)
        self.kind.observe(lambda c: (p.edit(step, kind=c["new"]), rebuild()), names="value")
        what = {
            "background": ("Flow", "flow"),
            "external": ("Action", "action"),
            "interactive": ("Screen", "screen"),
        }
        title, choices = what[step.kind]
        self.target = combo(title, p.choices[choices], step.target)
        bind(self.target, p, step, "target", changed)
        parts: list[w.Widget] = [self.name, self.label, self.kind, self.target]
        siblings = [s.name for s in stage.steps if s is not step]
        self.entry = RuleEditor(
            p, step, "entry",
            [("when the stage starts", "default"), ("after other steps", "after"),
             ("when conditions hold", "conditions"), ("evaluation flow", "evaluation")],
            changed, siblings,
        )  # fmt: skip
        if step.kind == "interactive":
            directory = p.directory_names()
            self.assignee_kind = dropdown("Assignee is a", list(ASSIGNEE_KINDS), step.assignee_kind)
            bind(self.assignee_kind, p, step, "assignee_kind", changed)
            self.assignee = combo("Assignee", directory, step.assignee, "a name, or $Record.Owner")
            bind(self.assignee, p, step, "assignee", changed)
            self.context = text("Context record", step.context, placeholder="$Record.Id")
            bind(self.context, p, step, "context", changed)
            self.exit = RuleEditor(
                p, step, "exit",
                [("when the form is submitted", "default"), ("when conditions hold", "conditions"),
                 ("evaluation flow", "evaluation")],
                changed,
            )  # fmt: skip
            self.notify_subject = text(
                "Email subject", step.notify_subject, placeholder="New work item: {!$Record.Name}"
            )
            bind(self.notify_subject, p, step, "notify_subject", changed)
            self.notify_body = text("Email body", step.notify_body, area=True)
            bind(self.notify_body, p, step, "notify_body", changed)
            parts += [self.assignee_kind, self.assignee, self.context]
            parts += [section("Entry", self.entry), section("Exit", self.exit)]
            parts += [section("Notification", self.notify_subject, self.notify_body)]
        else:
            parts.append(section("Entry", self.entry))
            if step.kind == "external":
                self.timeout = text("Timeout (s)", step.timeout)
                bind(self.timeout, p, step, "timeout", changed)
                parts.append(self.timeout)
        self.inputs = text(
            "Inputs", step.inputs, area=True, placeholder="amount = {!$Record.Amount}"
        )
        bind(self.inputs, p, step, "inputs", changed)
        self.outputs = text(
            "Outputs", step.outputs, area=True, placeholder="flow_output = variable"
        )
        bind(self.outputs, p, step, "outputs", changed)
        self.description = text("Description", step.description)
        bind(self.description, p, step, "description", changed)
        parts += [section("Data", self.inputs, self.outputs), self.description]
        super().__init__(parts)
        self.add_class("orchlab-step-editor")

    def _rename(self, change: dict[str, Any]) -> None:
        if self.p.rename_step(change["new"]):
            self.rebuild()
        else:
            self.name.value = self.step.name
            self.changed()


class StageEditor(w.VBox):
    def __init__(
        self, p: DesignerPresenter, stage: StageDraft, changed: Hook, rebuild: Hook
    ) -> None:
        self.p, self.stage, self.changed, self.rebuild = p, stage, changed, rebuild
        self.name = text("Stage name", stage.name)
        self.name.observe(self._rename, names="value")
        self.label = text("Label", stage.label)
        bind(self.label, p, stage, "label", changed)
        self.next = dropdown("Then go to", _connector_options(p, stage.name), stage.next)
        bind(self.next, p, stage, "next", changed)
        self.goto = w.Checkbox(value=stage.goto, description="as a Go To connector", indent=False)
        bind(self.goto, p, stage, "goto", changed)
        self.on_fault = dropdown(
            "On fault",
            [("no fault path", ""), *((n, n) for n in p.choices["element"] if n != stage.name)],
            stage.on_fault,
        )
        bind(self.on_fault, p, stage, "on_fault", changed)
        self.exit = RuleEditor(
            p, stage, "exit",
            [("when all steps complete", "default"), ("when conditions hold", "conditions"),
             ("evaluation flow", "evaluation")],
            changed,
        )  # fmt: skip
        self.description = text("Description", stage.description)
        bind(self.description, p, stage, "description", changed)
        # Steps: a list with its buttons, and the selected step's editor.
        self.steps = w.Select(
            options=self._step_options(), value=p.step_index, rows=min(max(len(stage.steps), 3), 6),
            layout=w.Layout(width="300px"),
        )  # fmt: skip
        self.steps.observe(lambda c: (p.select_step(c["new"]), rebuild()), names="value")
        self.add_buttons = {}
        for kind in STEP_KINDS:
            button = w.Button(
                description=kind.capitalize(), icon="plus", layout=w.Layout(width="120px")
            )
            button.add_class(f"orchlab-add-{kind}")
            button.on_click(lambda _, k=kind: (p.add_step(k), rebuild()))
            self.add_buttons[kind] = button
        self.up = w.Button(
            icon="arrow-up", tooltip="Move the step up", layout=w.Layout(width="36px")
        )
        self.down = w.Button(
            icon="arrow-down", tooltip="Move the step down", layout=w.Layout(width="36px")
        )
        self.delete = w.Button(
            icon="trash", tooltip="Delete the step", layout=w.Layout(width="36px")
        )
        self.up.on_click(lambda _: (p.move_step(-1), rebuild()))
        self.down.on_click(lambda _: (p.move_step(1), rebuild()))
        self.delete.on_click(lambda _: (p.delete_step(), rebuild()))
        step = p.step
        self.step_editor = (
            StepEditor(p, stage, step, changed, rebuild) if step is not None else None
        )
        steps = w.VBox(
            [
                w.HBox([self.steps, w.VBox([self.up, self.down, self.delete])]),
                w.HBox(list(self.add_buttons.values())),
                *([self.step_editor] if self.step_editor else []),
            ]
        )
        steps.add_class("orchlab-card")
        super().__init__(
            [
                self.name, self.label, w.HBox([self.next, self.goto]), self.on_fault,
                section("Exit", self.exit), self.description,
                section("Steps (they run in parallel unless an entry chains them)", steps),
            ]
        )  # fmt: skip
        self.add_class("orchlab-stage-editor")

    def _step_options(self) -> list[tuple[str, int]]:
        icons = {"background": "⚙", "interactive": "☺", "external": "⇄"}
        return [(f"{icons.get(s.kind, '')} {s.name}", i) for i, s in enumerate(self.stage.steps)]

    def _rename(self, change: dict[str, Any]) -> None:
        if self.p.rename_element(change["new"]):
            self.rebuild()
        else:
            self.name.value = self.stage.name
            self.changed()


class _OutcomeBox(w.VBox):
    def __init__(
        self,
        p: DesignerPresenter,
        decision: DecisionDraft,
        index: int,
        changed: Hook,
        rebuild: Hook,
    ) -> None:
        outcome: OutcomeDraft = decision.outcomes[index]
        self.name = text("Outcome", outcome.name)
        bind(self.name, p, outcome, "name", changed)
        self.label = text("Label", outcome.label)
        bind(self.label, p, outcome, "label", changed)
        names = [n for n in p.choices["element"] if n != decision.name]
        self.to = dropdown("Go to", [("end the run", END), *((n, n) for n in names)], outcome.to)
        bind(self.to, p, outcome, "to", changed)
        self.goto = w.Checkbox(value=outcome.goto, description="as a Go To connector", indent=False)
        bind(self.goto, p, outcome, "goto", changed)
        self.conditions = ConditionsEditor(p, outcome.conditions, changed, "taken when")
        self.delete = w.Button(
            description="Delete outcome", icon="trash", layout=w.Layout(width="150px")
        )
        self.delete.on_click(lambda _: (p.delete_outcome(index), rebuild()))
        super().__init__(
            [self.name, self.label, w.HBox([self.to, self.goto]), self.conditions, self.delete]
        )
        self.add_class("orchlab-card")
        self.add_class("orchlab-outcome")


class DecisionEditor(w.VBox):
    def __init__(
        self, p: DesignerPresenter, decision: DecisionDraft, changed: Hook, rebuild: Hook
    ) -> None:
        self.p, self.decision, self.changed, self.rebuild = p, decision, changed, rebuild
        self.name = text("Decision name", decision.name)
        self.name.observe(self._rename, names="value")
        self.label = text("Label", decision.label)
        bind(self.label, p, decision, "label", changed)
        self.outcomes = [
            _OutcomeBox(p, decision, i, changed, rebuild) for i in range(len(decision.outcomes))
        ]
        self.add_outcome = w.Button(
            description="Add outcome", icon="plus", layout=w.Layout(width="150px")
        )
        self.add_outcome.on_click(lambda _: (p.add_outcome(), rebuild()))
        self.default = dropdown(
            "Default goes to", _connector_options(p, decision.name), decision.default
        )
        bind(self.default, p, decision, "default", changed)
        self.default_label = text("Default label", decision.default_label)
        bind(self.default_label, p, decision, "default_label", changed)
        super().__init__(
            [
                self.name, self.label,
                section("Outcomes, tried in order", *self.outcomes, self.add_outcome),
                self.default, self.default_label,
            ]
        )  # fmt: skip
        self.add_class("orchlab-decision-editor")

    def _rename(self, change: dict[str, Any]) -> None:
        if self.p.rename_element(change["new"]):
            self.rebuild()
        else:
            self.name.value = self.decision.name
            self.changed()


class EndEditor(w.VBox):
    def __init__(self, p: DesignerPresenter, end: EndDraft, changed: Hook, rebuild: Hook) -> None:
        self.p, self.end = p, end
        self.name = text("End name", end.name)
        self.name.observe(
            lambda c: rebuild() if p.rename_element(c["new"]) else changed(), names="value"
        )
        self.label = text("Label", end.label)
        bind(self.label, p, end, "label", changed)
        super().__init__([self.name, self.label])


# --- screens, variables, start -------------------------------------------------------------------


class FieldEditor(w.VBox):
    def __init__(self, p: DesignerPresenter, f: FieldDraft, changed: Hook, rebuild: Hook) -> None:
        self.name = text("Field name", f.name)
        self.name.observe(lambda c: (p.edit(f, name=c["new"].strip()), rebuild()), names="value")
        self.kind = dropdown("Kind", [k.value for k in FieldKind], f.kind)
        bind(self.kind, p, f, "kind", changed)
        self.label = text("Label", f.label)
        bind(self.label, p, f, "label", changed)
        self.required = w.Checkbox(value=f.required, description="Required", indent=False)
        bind(self.required, p, f, "required", changed)
        self.default = text("Default", f.default, placeholder="a value, e.g. true or 12")
        self.choices = text("Choices", f.choices, placeholder="comma separated: P1, P2, P3")
        self.min = text("Min", f.min)
        self.max = text("Max", f.max)
        self.min_length = text("Min length", f.min_length)
        self.max_length = text("Max length", f.max_length)
        self.regex = text("Pattern", f.regex, placeholder="a regular expression, e.g. [A-Z]-\\d{3}")
        self.help = text("Help text", f.help)
        for name in (
            "default",
            "choices",
            "min",
            "max",
            "min_length",
            "max_length",
            "regex",
            "help",
        ):
            bind(getattr(self, name), p, f, name, changed)
        super().__init__(
            [
                self.name, self.kind, self.label, self.required, self.default, self.choices,
                w.HBox([self.min, self.max]), w.HBox([self.min_length, self.max_length]),
                self.regex, self.help,
            ]
        )  # fmt: skip
        self.add_class("orchlab-field-editor")


class ScreenEditor(w.VBox):
    def __init__(
        self, p: DesignerPresenter, screen: ScreenDraft, changed: Hook, rebuild: Hook
    ) -> None:
        self.name = text("Screen name", screen.name)
        self.name.observe(
            lambda c: rebuild() if p.rename_screen(c["new"]) else changed(), names="value"
        )
        self.label = text("Label", screen.label)
        bind(self.label, p, screen, "label", changed)
        self.fields = w.Select(
            options=[(f"{f.name} ({f.kind})", i) for i, f in enumerate(screen.fields)],
            value=p.field_index,
            rows=min(max(len(screen.fields), 3), 6),
            layout=w.Layout(width="300px"),
        )
        self.fields.observe(lambda c: (p.select_field(c["new"]), rebuild()), names="value")
        self.add = w.Button(description="Add field", icon="plus", layout=w.Layout(width="120px"))
        self.add.add_class("orchlab-add-field")
        self.add.on_click(lambda _: (p.add_field(), rebuild()))
        self.up = w.Button(icon="arrow-up", layout=w.Layout(width="36px"))
        self.down = w.Button(icon="arrow-down", layout=w.Layout(width="36px"))
        self.delete = w.Button(icon="trash", layout=w.Layout(width="36px"))
        self.up.on_click(lambda _: (p.move_field(-1), rebuild()))
        self.down.on_click(lambda _: (p.move_field(1), rebuild()))
        self.delete.on_click(lambda _: (p.delete_field(), rebuild()))
        f = p.field
        self.field_editor = FieldEditor(p, f, changed, rebuild) if f is not None else None
        super().__init__(
            [
                self.name, self.label,
                w.HBox([self.fields, w.VBox([self.up, self.down, self.delete])]), self.add,
                *([self.field_editor] if self.field_editor else []),
            ]
        )  # fmt: skip


class VariableEditor(w.VBox):
    def __init__(
        self, p: DesignerPresenter, v: VariableDraft, changed: Hook, rebuild: Hook
    ) -> None:
        self.name = text("Variable", v.name)
        self.name.observe(lambda c: (p.edit(v, name=c["new"].strip()), rebuild()), names="value")
        self.type = dropdown("Type", [t.value for t in ValueType], v.type)
        bind(self.type, p, v, "type", changed)
        self.input = w.Checkbox(value=v.input, description="input (given at start)", indent=False)
        self.output = w.Checkbox(value=v.output, description="output", indent=False)
        self.collection = w.Checkbox(value=v.collection, description="a list", indent=False)
        for name in ("input", "output", "collection"):
            bind(getattr(self, name), p, v, name, changed)
        self.default = text("Default", v.default)
        bind(self.default, p, v, "default", changed)
        self.description = text("Description", v.description)
        bind(self.description, p, v, "description", changed)
        super().__init__(
            [
                self.name,
                self.type,
                w.HBox([self.input, self.output, self.collection]),
                self.default,
                self.description,
            ]
        )


class StartEditor(w.VBox):
    """How runs start: on demand (autolaunched) or when a record is saved."""

    def __init__(
        self, p: DesignerPresenter, start: StartDraft, changed: Hook, rebuild: Hook
    ) -> None:
        self.kind = dropdown(
            "Runs start",
            [("on demand (autolaunched)", "autolaunched"), ("when a record is saved", "record")],
            start.kind,
        )
        self.kind.observe(lambda c: (p.edit(start, kind=c["new"]), rebuild()), names="value")
        parts: list[w.Widget] = [self.kind]
        if start.kind == "record":
            self.object = text("Object", start.object, placeholder="Case")
            bind(self.object, p, start, "object", changed)
            self.on = dropdown("On", [e.value for e in TriggerEvent], start.on)
            bind(self.on, p, start, "on", changed)
            self.only_when_changed = w.Checkbox(
                value=start.only_when_changed,
                description="only when the record changes to meet the conditions",
                indent=False,
            )
            bind(self.only_when_changed, p, start, "only_when_changed", changed)
            self.conditions = ConditionsEditor(p, start.conditions, changed, "entry conditions")
            parts += [self.object, self.on, self.only_when_changed, self.conditions]
        super().__init__(parts)
        self.add_class("orchlab-start-editor")
