"""A screen's form as widgets: each field kind as the right control, with marks, hints, errors.

`FormView` mirrors a `FormState`: a change in a control is written to the state at once, and
`show_errors()` puts the state's per-field errors next to the fields.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from orchlab.definition.model import Field, FieldKind
from orchlab.ui.forms import FormState
from orchlab.ui.views.style import esc

__all__ = ["FormView", "control_for"]

_PLACEHOLDERS = {
    FieldKind.NUMBER: "a number, e.g. 12",
    FieldKind.CURRENCY: "an amount, e.g. 1200.00",
    FieldKind.EMAIL: "name@example.com",
}


def _wide() -> w.Layout:
    # A new Layout for each control: a shared one would be closed with the first form.
    return w.Layout(width="100%", max_width="460px")


def control_for(f: Field, value: Any) -> w.ValueWidget:
    """The control for a field kind, showing `value` (a `FormState` value).

    Numbers and amounts are text boxes, not number spinners: what a person typed reaches
    the engine's check as typed, so "12O" gets an error message instead of vanishing.
    """
    kind = f.kind
    if kind is FieldKind.LONG_TEXT:
        return w.Textarea(value=value or "", rows=3, layout=_wide())
    if kind is FieldKind.CHECKBOX:
        # The checkbox carries its label; a required one is marked as the other fields are.
        label = (f.label or f.name) + (" *" if f.required else "")
        return w.Checkbox(value=bool(value), indent=False, description=label)
    if kind is FieldKind.DATE:
        return w.DatePicker(value=value)
    if kind is FieldKind.DATETIME:
        return w.NaiveDatetimePicker(value=value)
    if kind is FieldKind.PICKLIST:
        # "" stands for "nothing chosen": a Dropdown shows no label at all for the value None.
        options = [("— choose —", ""), *((c, c) for c in f.choices)]
        shown = value if value in f.choices else ""
        return w.Dropdown(options=options, value=shown, layout=w.Layout(width="260px"))
    if kind is FieldKind.MULTI_SELECT:
        return w.SelectMultiple(
            options=list(f.choices),
            value=tuple(v for v in value if v in f.choices),
            rows=min(max(len(f.choices), 2), 6),
            layout=w.Layout(width="260px"),
        )
    placeholder = _PLACEHOLDERS.get(kind, "")
    return w.Text(value=value or "", placeholder=placeholder, layout=_wide())


class FormView(w.VBox):
    """The fields of a `FormState`, one under the other; `controls[name]` is each control."""

    def __init__(self, form: FormState, *, disabled: bool = False) -> None:
        self.form = form
        self.controls: dict[str, w.ValueWidget] = {}
        self._errors: dict[str, w.HTML] = {}
        self._boxes: dict[str, w.VBox] = {}
        rows = []
        for f in form.screen.fields:
            control = control_for(f, form.values[f.name])
            control.disabled = disabled
            control.observe(self._changed(f.name), names="value")
            required = ' <span class="orchlab-required" title="required">*</span>'
            label = esc(f.label or f.name) + (required if f.required else "")
            parts: list[w.Widget] = []
            if f.kind is not FieldKind.CHECKBOX:  # a checkbox carries its own label
                parts.append(w.HTML(f'<span class="orchlab-field-label">{label}</span>'))
            parts.append(control)
            hint = form.hint(f)
            if hint:
                parts.append(w.HTML(f'<div class="orchlab-hint">{esc(hint)}</div>'))
            error = w.HTML("")
            parts.append(error)
            box = w.VBox(parts)
            box.add_class("orchlab-field")
            box.add_class(f"orchlab-field-{f.name}")
            self.controls[f.name] = control
            self._errors[f.name] = error
            self._boxes[f.name] = box
            rows.append(box)
        super().__init__(rows)
        self.show_errors()

    def _changed(self, name: str) -> Any:
        def write(change: dict[str, Any]) -> None:
            self.form.set(name, change["new"])
            self._show(name, "")  # fixing a field clears its message

        return write

    def _show(self, name: str, message: str) -> None:
        self._errors[name].value = (
            f'<div class="orchlab-error">{esc(message)}</div>' if message else ""
        )
        box = self._boxes[name]
        if message:
            box.add_class("orchlab-invalid")
        else:
            box.remove_class("orchlab-invalid")

    def show_errors(self) -> None:
        """Put each field's error (from the last submit) under it; fields without one clear."""
        for name in self.controls:
            self._show(name, self.form.errors.get(name, ""))
