"""The designer's logic, without widgets: edit a draft, see it drawn and checked, save, deploy.

`DesignerPresenter` holds an `OrchestrationDraft` and what is selected in it. Every edit
goes through it, so renames follow the name everywhere it is used (connectors, `after`
lists, references such as ``Review.Outputs.ok`` and ``{!Review.Outputs.ok}``), and after
every edit the draft is built, validated and drawn again. `orchlab.ui.views.designer`
mirrors it in widgets; the Debug panel is `orchlab.ui.debug.Debugger`.
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path
from typing import Any

from orchlab.definition.logic import parse_logic
from orchlab.definition.model import Orchestration
from orchlab.definition.registry import Registry
from orchlab.errors import LogicError, OrchlabError
from orchlab.service.protocol import Backend
from orchlab.ui.common import Message
from orchlab.ui.draft import (
    END,
    FOLLOWING,
    STEP_KINDS,
    ConditionsDraft,
    DecisionDraft,
    DraftError,
    EndDraft,
    FieldDraft,
    OrchestrationDraft,
    OutcomeDraft,
    ScreenDraft,
    StageDraft,
    StepDraft,
    VariableDraft,
)

__all__ = ["DesignerPresenter", "Finding", "logic_problem"]

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class Finding:
    """One line of the problems list: severity, element, field, message."""

    __slots__ = ("element", "field", "message", "severity")

    def __init__(self, severity: str, element: str, field: str, message: str) -> None:
        self.severity, self.element, self.field, self.message = severity, element, field, message

    def __repr__(self) -> str:
        return f"{self.severity}: {self.element}: {self.field}: {self.message}"


def logic_problem(block: ConditionsDraft) -> tuple[str, int | None] | None:
    """The parser's error for custom logic text, with its 1-based column (None when fine)."""
    text = block.logic.strip()
    if text.lower() in ("and", "or"):
        return None
    try:
        tree = parse_logic(block.logic)
    except LogicError as exc:
        return str(exc), exc.column
    beyond = sorted(n for n in tree.numbers() if n > len(block.rows))
    if beyond:
        return f"custom logic names condition {beyond[0]}, but there are {len(block.rows)}", None
    return None


def _ref_renamer(old: str, new: str) -> tuple[re.Pattern[str], str]:
    # A reference's first part is a name: "Old", "Old.Status", "{!Old.Outputs.x}".
    return re.compile(rf"(?<![\w$.]){re.escape(old)}(?=\.|\}}|$|\s|,)"), new


class DesignerPresenter:
    """An orchestration being designed.

    Args:
        backend: where `deploy` and `load_deployed` go (`AppApi` or `ServiceClient`); the
            designer works without one, on files.
        draft: what to start from (default: one empty stage).
        registry: the flows that `validate` checks against (the default registry, with the
            example flows, when None).
    """

    def __init__(
        self,
        backend: Backend | None = None,
        draft: OrchestrationDraft | Orchestration | None = None,
        *,
        registry: Registry | None = None,
    ) -> None:
        import orchlab.definition.examples  # noqa: F401 - the example flows, for validation
        from orchlab.definition.registry import registry as default_registry

        self.backend = backend
        self.registry = registry if registry is not None else default_registry
        if isinstance(draft, Orchestration):
            draft = OrchestrationDraft.of(draft)
        self.draft = draft or OrchestrationDraft(elements=[StageDraft("Stage_1")])
        self.element_index: int | None = 0 if self.draft.elements else None
        self.step_index: int | None = None
        self.screen_index: int | None = 0 if self.draft.screens else None
        self.field_index: int | None = None
        self.variable_index: int | None = None
        self.path = "orchestration.yaml"
        self.orch: Orchestration | None = None  # the last draft that could be built
        self.findings: list[Finding] = []
        self.diagram = ""
        self._drawn = ""
        self.message = Message()
        self._directory: dict[str, Any] | None = None
        self.update()

    def directory(self) -> dict[str, Any]:
        """Users, groups and queues: the backend's, or the demo people's without a backend."""
        if self._directory is None:
            if self.backend is not None:
                self._directory = self.backend.directory()
            else:
                from orchlab.simulate.demo import GROUPS, PEOPLE, QUEUES

                self._directory = {
                    "users": [
                        {"username": u, "name": n, "is_admin": a} for u, (n, a) in PEOPLE.items()
                    ],
                    "groups": [{"name": g, "members": m} for g, m in GROUPS.items()],
                    "queues": [
                        {"name": q, "members": m, "routing": r} for q, (m, r) in QUEUES.items()
                    ],
                }
        return self._directory

    def directory_names(self) -> list[str]:
        d = self.directory()
        return (
            [u["username"] for u in d["users"]]
            + [g["name"] for g in d["groups"]]
            + [q["name"] for q in d["queues"]]
        )

    # --- what is selected ------------------------------------------------------------------------

    @property
    def element(self) -> StageDraft | DecisionDraft | EndDraft | None:
        i = self.element_index
        return self.draft.elements[i] if i is not None and i < len(self.draft.elements) else None

    @property
    def stage(self) -> StageDraft | None:
        e = self.element
        return e if isinstance(e, StageDraft) else None

    @property
    def step(self) -> StepDraft | None:
        stage, i = self.stage, self.step_index
        return (
            stage.steps[i] if stage is not None and i is not None and i < len(stage.steps) else None
        )

    @property
    def screen(self) -> ScreenDraft | None:
        i = self.screen_index
        return self.draft.screens[i] if i is not None and i < len(self.draft.screens) else None

    @property
    def field(self) -> FieldDraft | None:
        screen, i = self.screen, self.field_index
        return (
            screen.fields[i]
            if screen is not None and i is not None and i < len(screen.fields)
            else None
        )

    @property
    def variable(self) -> VariableDraft | None:
        i = self.variable_index
        return self.draft.variables[i] if i is not None and i < len(self.draft.variables) else None

    def select_element(self, index: int | None) -> None:
        self.element_index = index
        stage = self.stage
        self.step_index = 0 if stage is not None and stage.steps else None

    def select_step(self, index: int | None) -> None:
        self.step_index = index

    def select_screen(self, index: int | None) -> None:
        self.screen_index = index
        screen = self.screen
        self.field_index = 0 if screen is not None and screen.fields else None

    def select_field(self, index: int | None) -> None:
        self.field_index = index

    def select_variable(self, index: int | None) -> None:
        self.variable_index = index

    # --- editing ---------------------------------------------------------------------------------

    def edit(self, part: Any, /, **changes: Any) -> None:
        """Change fields of a draft part (what a form's controls do), then check and draw."""
        for name, value in changes.items():
            if not hasattr(part, name):
                raise AttributeError(f"{type(part).__name__} has no field {name!r}")
            setattr(part, name, value)
        self.update()

    def _unique(self, base: str, taken: list[str]) -> str:
        n = 1
        while f"{base}_{n}" in taken:
            n += 1
        return f"{base}_{n}"

    def _names(self) -> list[str]:
        return [e.name for e in self.draft.elements] + self.draft.step_names()

    def add_element(self, kind: str, name: str | None = None) -> None:
        """Add a stage, decision or end after the selected element (or at the end)."""
        names = self._names()
        if name is None:
            name = {
                "stage": self._unique("Stage", names),
                "decision": self._unique("Decision", names),
            }.get(kind, "End" if "End" not in names else self._unique("End", names))
        made: StageDraft | DecisionDraft | EndDraft
        if kind == "stage":
            made = StageDraft(name)
        elif kind == "decision":
            made = DecisionDraft(name, outcomes=[OutcomeDraft(self._unique("Outcome", names))])
        elif kind == "end":
            made = EndDraft(name)
        else:
            raise ValueError(f"element kind {kind!r}: expected stage, decision or end")
        at = len(self.draft.elements) if self.element_index is None else self.element_index + 1
        self.draft.elements.insert(at, made)
        self.select_element(at)
        self.update()

    def rename_element(self, new: str) -> bool:
        """Rename the selected element, and every connector and reference that names it."""
        element = self.element
        if element is None:
            return False
        old, new = element.name, new.strip()
        if not self._rename_ok(old, new):
            return False
        element.name = new
        for e in self.draft.elements:
            if isinstance(e, StageDraft):
                e.next = new if e.next == old else e.next
                e.on_fault = new if e.on_fault == old else e.on_fault
            elif isinstance(e, DecisionDraft):
                e.default = new if e.default == old else e.default
                for o in e.outcomes:
                    o.to = new if o.to == old else o.to
        if self.draft.first == old:
            self.draft.first = new
        self._rename_references(old, new)
        self.message = Message("success", f"Renamed {old} to {new} everywhere it is used.")
        self.update()
        return True

    def _rename_ok(self, old: str, new: str) -> bool:
        if new == old:
            return False
        if not _NAME.match(new):
            self.message = Message(
                "error",
                f"{new!r} is not an API name: letters, digits and _, starting with a letter",
            )
            return False
        if new in self._names():
            self.message = Message("error", f"{new!r} is already used by another element or step")
            return False
        return True

    def _rename_references(self, old: str, new: str) -> None:
        pattern, repl = _ref_renamer(old, new)

        def fix(text: str) -> str:
            return pattern.sub(repl, text)

        def fix_block(block: ConditionsDraft) -> None:
            for row in block.rows:
                row[0], row[2] = fix(row[0]), fix(row[2])

        fix_block(self.draft.start.conditions)
        for e in self.draft.elements:
            if isinstance(e, DecisionDraft):
                for o in e.outcomes:
                    fix_block(o.conditions)
            elif isinstance(e, StageDraft):
                fix_block(e.exit_conditions)
                e.exit_inputs = fix(e.exit_inputs)
                for s in e.steps:
                    fix_block(s.entry_conditions)
                    fix_block(s.exit_conditions)
                    s.inputs, s.entry_inputs, s.exit_inputs = (
                        fix(s.inputs),
                        fix(s.entry_inputs),
                        fix(s.exit_inputs),
                    )
                    s.context, s.notify_subject, s.notify_body = (
                        fix(s.context),
                        fix(s.notify_subject),
                        fix(s.notify_body),
                    )
                    if s.assignee_kind == "reference":
                        s.assignee = fix(s.assignee)
                    s.after = [new if a == old else a for a in s.after]

    def move_element(self, delta: int) -> None:
        """Move the selected element up (-1) or down (+1); "next element" connectors follow."""
        i = self.element_index
        if i is None:
            return
        j = i + delta
        if not 0 <= j < len(self.draft.elements):
            return
        items = self.draft.elements
        items[i], items[j] = items[j], items[i]
        self.element_index = j
        self.update()

    def delete_element(self) -> None:
        element = self.element
        if element is None:
            return
        name = element.name
        del self.draft.elements[self.element_index]  # type: ignore[arg-type]
        for e in self.draft.elements:  # what pointed at it now follows the list (or ends)
            if isinstance(e, StageDraft):
                e.next = FOLLOWING if e.next == name else e.next
                e.on_fault = "" if e.on_fault == name else e.on_fault
            elif isinstance(e, DecisionDraft):
                e.default = FOLLOWING if e.default == name else e.default
                for o in e.outcomes:
                    o.to = END if o.to == name else o.to
        if self.draft.first == name:
            self.draft.first = ""
        count = len(self.draft.elements)
        self.select_element(min(self.element_index or 0, count - 1) if count else None)
        self.message = Message("info", f"Deleted {name}.")
        self.update()

    # --- steps -----------------------------------------------------------------------------------

    def add_step(self, kind: str = "background", name: str | None = None) -> None:
        stage = self.stage
        if stage is None:
            self.message = Message("warning", "Select a stage to add a step to.")
            return
        if kind not in STEP_KINDS:
            raise ValueError(f"step kind {kind!r}: expected one of {', '.join(STEP_KINDS)}")
        step = StepDraft(name or self._unique("Step", self._names()), kind)
        at = len(stage.steps) if self.step_index is None else self.step_index + 1
        stage.steps.insert(at, step)
        self.step_index = at
        self.update()

    def rename_step(self, new: str) -> bool:
        step, stage = self.step, self.stage
        if step is None or stage is None:
            return False
        old, new = step.name, new.strip()
        if not self._rename_ok(old, new):
            return False
        step.name = new
        self._rename_references(old, new)
        self.message = Message("success", f"Renamed {old} to {new} everywhere it is used.")
        self.update()
        return True

    def move_step(self, delta: int) -> None:
        stage, i = self.stage, self.step_index
        if stage is None or i is None or not 0 <= i + delta < len(stage.steps):
            return
        stage.steps[i], stage.steps[i + delta] = stage.steps[i + delta], stage.steps[i]
        self.step_index = i + delta
        self.update()

    def delete_step(self) -> None:
        stage, step = self.stage, self.step
        if stage is None or step is None:
            return
        stage.steps.remove(step)
        for s in stage.steps:
            s.after = [a for a in s.after if a != step.name]
        self.step_index = (min(self.step_index or 0, len(stage.steps) - 1)) if stage.steps else None
        self.update()

    # --- outcomes and conditions -----------------------------------------------------------------

    def add_outcome(self) -> None:
        decision = self.element
        if isinstance(decision, DecisionDraft):
            decision.outcomes.append(OutcomeDraft(self._unique("Outcome", self._outcome_names())))
            self.update()

    def _outcome_names(self) -> list[str]:
        return [
            o.name for e in self.draft.elements if isinstance(e, DecisionDraft) for o in e.outcomes
        ]

    def delete_outcome(self, index: int) -> None:
        decision = self.element
        if isinstance(decision, DecisionDraft) and 0 <= index < len(decision.outcomes):
            del decision.outcomes[index]
            self.update()

    def add_condition(
        self, block: ConditionsDraft, left: str = "", op: str = "equals", right: str = ""
    ) -> None:
        block.rows.append([left, op, right])
        self.update()

    def delete_condition(self, block: ConditionsDraft, index: int) -> None:
        if 0 <= index < len(block.rows):
            del block.rows[index]
            self.update()

    # --- screens, fields, variables --------------------------------------------------------------

    def add_screen(self, name: str | None = None) -> None:
        taken = [s.name for s in self.draft.screens]
        self.draft.screens.append(ScreenDraft(name or self._unique("screen", taken)))
        self.select_screen(len(self.draft.screens) - 1)
        self.update()

    def rename_screen(self, new: str) -> bool:
        screen = self.screen
        if screen is None or not new.strip() or new == screen.name:
            return False
        if new in [s.name for s in self.draft.screens]:
            self.message = Message("error", f"there is already a screen {new!r}")
            return False
        old, screen.name = screen.name, new.strip()
        for e in self.draft.elements:
            if isinstance(e, StageDraft):
                for s in e.steps:
                    if s.kind == "interactive" and s.target == old:
                        s.target = screen.name
        self.update()
        return True

    def delete_screen(self) -> None:
        if self.screen is not None:
            del self.draft.screens[self.screen_index]  # type: ignore[arg-type]
            count = len(self.draft.screens)
            self.select_screen(min(self.screen_index or 0, count - 1) if count else None)
            self.update()

    def add_field(self, name: str | None = None, kind: str = "text") -> None:
        screen = self.screen
        if screen is None:
            self.message = Message("warning", "Add or select a screen first.")
            return
        taken = [f.name for f in screen.fields]
        screen.fields.append(FieldDraft(name or self._unique("field", taken), kind))
        self.field_index = len(screen.fields) - 1
        self.update()

    def move_field(self, delta: int) -> None:
        screen, i = self.screen, self.field_index
        if screen is None or i is None or not 0 <= i + delta < len(screen.fields):
            return
        screen.fields[i], screen.fields[i + delta] = screen.fields[i + delta], screen.fields[i]
        self.field_index = i + delta
        self.update()

    def delete_field(self) -> None:
        screen, f = self.screen, self.field
        if screen is not None and f is not None:
            screen.fields.remove(f)
            self.field_index = (
                (min(self.field_index or 0, len(screen.fields) - 1)) if screen.fields else None
            )
            self.update()

    def add_variable(
        self, name: str | None = None, type: str = "text", *, input: bool = False
    ) -> None:
        taken = [v.name for v in self.draft.variables]
        self.draft.variables.append(
            VariableDraft(name or self._unique("variable", taken), type, input)
        )
        self.variable_index = len(self.draft.variables) - 1
        self.update()

    def delete_variable(self) -> None:
        if self.variable is not None:
            del self.draft.variables[self.variable_index]  # type: ignore[arg-type]
            count = len(self.draft.variables)
            self.variable_index = min(self.variable_index or 0, count - 1) if count else None
            self.update()

    # --- checking and drawing --------------------------------------------------------------------

    def update(self) -> None:
        """Build the draft, validate it, draw it (what every edit ends with)."""
        from orchlab.definition.validate import validate

        try:
            orch = self.draft.build()
        except DraftError as exc:
            self.findings = [Finding("error", e, f, msg) for e, f, msg in exc.problems]
            return  # the diagram keeps showing the last draft that could be read
        self.orch = orch
        self.findings = [
            Finding(p.severity.value, p.element, p.field, p.message)
            for p in validate(orch, self.registry)
        ]
        self._draw(orch)

    def _draw(self, orch: Orchestration) -> None:
        from orchlab.errors import RenderError
        from orchlab.render.graph import pipe, to_graph

        graph = to_graph(orch)
        if graph.source == self._drawn:
            return
        try:
            svg = pipe(graph, "svg").decode("utf-8")
        except RenderError as exc:  # no dot, or a half-typed name it cannot draw: say so
            self.diagram = f'<pre class="orchlab-error">{escape(str(exc))}</pre>'
            return
        self.diagram = svg[svg.find("<svg") :]
        self._drawn = graph.source

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def choices(self) -> dict[str, list[str]]:
        """Names the forms offer: flows, actions, evaluation flows, screens, elements, steps."""
        from orchlab.definition.registry import FlowKind

        by_kind: dict[str, list[str]] = {k.value: [] for k in FlowKind}
        for spec in self.registry:
            by_kind[spec.kind.value].append(spec.name)
        return {
            "flow": sorted(by_kind["flow"]),
            "action": sorted(by_kind["action"]),
            "evaluation": sorted(by_kind["evaluation"]),
            "screen": [s.name for s in self.draft.screens],
            "element": [e.name for e in self.draft.elements],
        }

    # --- files and deploying ---------------------------------------------------------------------

    def _replace(self, draft: OrchestrationDraft, said: str) -> None:
        self.draft = draft
        self.select_element(0 if draft.elements else None)
        self.select_screen(0 if draft.screens else None)
        self.variable_index = 0 if draft.variables else None
        self._drawn = ""
        self.message = Message("success", said)
        self.update()

    def new(self, name: str = "New_Orchestration") -> None:
        self._replace(
            OrchestrationDraft(name, elements=[StageDraft("Stage_1")]), f"New orchestration {name}."
        )

    def load_example(self, key: str) -> None:
        from orchlab.definition.examples import EXAMPLES

        self._replace(OrchestrationDraft.of(EXAMPLES[key]()), f"Loaded the example {key}.")

    def load_deployed(self, name: str) -> None:
        from orchlab.definition.serialize import from_dict

        if self.backend is None:
            self.message = Message(
                "error", "No engine to load from: open the designer with a backend."
            )
            return
        try:
            orch = from_dict(self.backend.definition(name))
        except OrchlabError as exc:
            self.message = Message("error", f"Not loaded: {exc}")
            return
        self._replace(OrchestrationDraft.of(orch), f"Loaded {name} v{orch.version} as deployed.")

    def save(self, path: str | None = None) -> bool:
        """Save as YAML (or JSON by the suffix); refused while fields cannot be read."""
        from orchlab.definition.serialize import save

        self.path = path or self.path
        try:
            orch = self.draft.build()
            written = save(orch, self.path)
        except (OrchlabError, OSError) as exc:
            self.message = Message("error", f"Not saved: {exc}")
            return False
        count = len(self.errors)
        note = f" It still has {count} error{'s' * (count != 1)}." if count else ""
        self.message = Message("success", f"Saved {written}.{note}")
        return True

    def load(self, path: str | None = None) -> bool:
        from orchlab.definition.serialize import load

        self.path = path or self.path
        try:
            orch = load(self.path)
        except (OrchlabError, OSError) as exc:
            self.message = Message("error", f"Not loaded: {exc}")
            return False
        self._replace(OrchestrationDraft.of(orch), f"Loaded {Path(self.path)}.")
        return True

    def deploy(self, by: str) -> bool:
        """Deploy as a new active version through the backend (the engine checks the rights)."""
        from orchlab.definition.serialize import to_dict

        if self.backend is None:
            self.message = Message(
                "error", "No engine to deploy to: open the designer with a backend."
            )
            return False
        if self.errors:
            count = len(self.errors)
            self.message = Message(
                "error", f"Not deployed: fix the {count} error{'s' * (count != 1)} first."
            )
            return False
        try:
            found = self.backend.deploy(to_dict(self.draft.build()), by)
        except OrchlabError as exc:
            self.message = Message("error", f"Not deployed: {exc}")
            return False
        self.draft.version = found["version"]
        self.message = Message(
            "success", f"Deployed {found['name']} v{found['version']} as {by}; new runs use it."
        )
        self.update()
        return True
