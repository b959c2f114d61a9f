"""Definitions to and from plain dicts, JSON and YAML files: `load(save(x)) == x`.

The file uses the builder's words. Each element is a mapping whose first key names its
type and its API name (`stage: Triage`); steps do the same (`background: Score`).
Fields at their defaults are left out, so a hand-written file stays short::

    schema_version: 1
    name: Case_Escalation
    label: Case escalation
    version: 1
    start:                          # left out: autolaunched (started with start_run)
      type: record
      object: Case
      on: update                    # create | update | create_or_update
      only_when_changed: true
      when: {logic: and, items: [[$Record.Severity, equals, High]]}
    variables:
      - {name: amount, type: currency, input: true, default: {decimal: '1000.00'}}
    screens:
      - name: triage_form
        label: Triage
        fields:
          - {name: priority, kind: picklist, required: true, choices: [P1, P2]}
    elements:                       # the path starts at the first element (else `first: Name`)
      - stage: Triage
        steps:
          - background: Score       # background: flow | interactive: screen | external: action
            flow: score_case
            inputs: {amount: {ref: $Record.Amount}}
            outputs: {score: case_score}        # flow output -> orchestration variable
          - interactive: Triage_review
            screen: triage_form
            assignee: {queue: Support_Tier2}    # user | group | queue | reference
            after: [Score]          # entry; or when: <conditions> or when: {evaluation: flow}
            done_when: {evaluation: review_done, inputs: {case: {ref: $Record.Id}}}
            context: {ref: $Record.Id}
            notify: {subject: 'Case {!$Record.CaseNumber}', body: Please triage.}
        exit: {logic: or, items: [[Triage_review.Outputs.priority, equals, P1]]}
        next: Amount_check          # or {to: Name, goto: true}; left out: the path ends
        on_fault: Recovery
      - decision: Amount_check
        outcomes:
          - {name: Large, when: [[$Record.Amount, '>', 1000]], to: Escalation, goto: false}
        default: Work               # left out: the default outcome ends the path
        default_label: Standard
      - end: Done

Values: text, numbers, true/false, null and lists are written as they are; dates and
datetimes as YAML timestamps. Anything else is a mapping with one key: `{ref: $Record.Id}`
(a reference, never plain text), `{decimal: '12.50'}`, `{date: '2024-01-31'}`,
`{datetime: '2024-01-31T09:30:00+00:00'}` (JSON always uses these two), `{record: {...}}`.

Conditions: `{logic: and|or|'1 AND (2 OR 3)', items: [...]}` or just the list of items
(joined by and). An item is `[left, operator, right]`, `[left, operator]` for unary
operators (is_null, is_blank, is_changed, was_set), or `{left: ..., op: ..., right: ...}`;
`left` is a reference path, and operators may be spelled as `parse_operator` accepts.

Files carry `schema_version`; older ones are upgraded by `MIGRATIONS` on load.
"""

from __future__ import annotations

import copy
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from orchlab._serial import DefinitionError, Node, encode_value, parse, show, yaml_dump
from orchlab.conditions import Condition, ConditionError, Conditions, parse_operator
from orchlab.model import (
    AfterSteps,
    AllStepsComplete,
    Assignee,
    AssigneeKind,
    Autolaunched,
    BackgroundStep,
    Connector,
    Decision,
    End,
    EvaluationFlow,
    ExternalStep,
    Field,
    FieldKind,
    FormSubmitted,
    InteractiveStep,
    Notification,
    OnStageStart,
    Orchestration,
    Outcome,
    RecordTrigger,
    Requirements,
    Screen,
    Stage,
    TriggerEvent,
    Variable,
)
from orchlab.values import ValueType

__all__ = [
    "SCHEMA_VERSION",
    "MIGRATIONS",
    "DefinitionError",
    "to_dict",
    "from_dict",
    "dumps",
    "loads",
    "save",
    "load",
]

SCHEMA_VERSION = 1

# from_version -> function upgrading a definition dict to from_version + 1. from_dict hands
# each function a deep copy and sets schema_version itself, so a migration only moves fields:
#
#     def _v1_to_v2(data: dict) -> dict:
#         """v2 renamed a stage's `next` to `then`."""
#         for element in data.get("elements", []):
#             if "next" in element:
#                 element["then"] = element.pop("next")
#         return data
#
#     MIGRATIONS[1] = _v1_to_v2  # and SCHEMA_VERSION = 2
#
# Version 1 is the first format, so there is nothing to upgrade yet.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}

_FORMATS = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}
_STEP_KINDS = {"background": BackgroundStep, "interactive": InteractiveStep}
_STEP_KINDS |= {"external": ExternalStep}
_ELEMENT_KINDS = ("stage", "decision", "end")
_TOP = ("schema_version", "name", "label", "description", "version", "is_template")
_TOP += ("source_template", "start", "variables", "screens", "first", "elements")


# --- writing ---------------------------------------------------------------------------------------


def _pruned(pairs: list[tuple[str, Any, Any]]) -> dict[str, Any]:
    """A mapping of (key, value, default) without the fields that are at their default."""
    return {k: v for k, v, default in pairs if v != default or type(v) is not type(default)}


class _Writer:
    def __init__(self, native: bool) -> None:
        self.native = native  # YAML keeps dates as dates; JSON needs tagged text

    def value(self, value: Any, where: str) -> Any:
        return encode_value(value, where, self.native)

    def mapping(self, pairs: tuple[tuple[str, Any], ...], where: str) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        if len(set(keys)) != len(keys):
            raise DefinitionError(f"{where}: a name is mapped twice: {keys}; a file keeps one")
        return {k: self.value(v, f"{where}.{k}") for k, v in pairs}

    def conditions(self, block: Conditions, where: str) -> dict[str, Any]:
        items: list[Any] = []
        for i, c in enumerate(block.items):
            item = [c.left.path, c.operator.value]
            if c.right is not None or c.operator.value not in _UNARY:
                item.append(self.value(c.right, f"{where} items[{i}]"))
            items.append(item)
        return {"logic": block.logic, "items": items}

    def rule(self, rule: Any, where: str) -> Any:
        if isinstance(rule, Requirements):
            return self.conditions(rule.conditions, where)
        if isinstance(rule, EvaluationFlow):
            inputs = self.mapping(rule.inputs, f"{where} inputs")
            return _pruned([("evaluation", rule.flow, None), ("inputs", inputs, {})])
        return None  # the defaults (start with the stage, all steps, form submitted)

    @staticmethod
    def connector(c: Connector | None) -> Any:
        return c if c is None else {"to": c.target, "goto": True} if c.goto else c.target

    def step(self, s: Any, where: str) -> dict[str, Any]:
        where = f"{where} ({_kind_of(s)} {s.name!r})"
        entry = s.entry
        pairs = [(_kind_of(s), s.name, None), ("label", s.label, "")]
        if isinstance(s, BackgroundStep):
            pairs.append(("flow", s.flow, None))
        elif isinstance(s, ExternalStep):
            pairs += [("action", s.action, None), ("timeout", s.timeout, 30.0)]
        else:
            assignee = {s.assignee.kind.value: s.assignee.name} if s.assignee else None
            note = s.notification
            notify = note and _pruned([("subject", note.subject, None), ("body", note.body, "")])
            pairs += [("screen", s.screen, None), ("assignee", assignee, None)]
            pairs += [("context", self.value(s.context_record, f"{where} context"), None)]
            pairs += [("notify", notify, None), ("done_when", self.rule(s.exit, where), None)]
        pairs += [
            ("after", list(entry.steps) if isinstance(entry, AfterSteps) else None, None),
            ("when", self.rule(entry, f"{where} when"), None),
            ("inputs", self.mapping(s.inputs, f"{where} inputs"), {}),
            ("outputs", dict(s.outputs), {}),
            ("description", s.description, ""),
        ]
        return _pruned(pairs)

    def element(self, e: Any, where: str) -> dict[str, Any]:
        where = f"{where} ({e.element_type} {e.name!r})"
        pairs: list[tuple[str, Any, Any]] = [(e.element_type, e.name, None), ("label", e.label, "")]
        if isinstance(e, Stage):
            steps = [self.step(s, f"{where} steps[{i}]") for i, s in enumerate(e.steps)]
            pairs += [("steps", steps, []), ("exit", self.rule(e.exit, f"{where} exit"), None)]
            pairs += [("next", self.connector(e.next), None)]
            pairs += [("on_fault", self.connector(e.on_fault), None)]
        elif isinstance(e, Decision):
            outcomes = [
                _pruned(
                    [
                        ("name", o.name, None),
                        ("label", o.label, ""),
                        ("when", self.conditions(o.conditions, f"{where} outcomes[{i}]"), None),
                        ("to", o.next and o.next.target, None),
                        ("goto", bool(o.next and o.next.goto), False),
                    ]
                )
                for i, o in enumerate(e.outcomes)
            ]
            pairs += [("outcomes", outcomes, None), ("default", self.connector(e.default), None)]
            pairs += [("default_label", e.default_label, "Default Outcome")]
        pairs.append(("description", getattr(e, "description", ""), ""))
        return _pruned(pairs)

    def orchestration(self, o: Orchestration) -> dict[str, Any]:
        start = o.start
        if isinstance(start, RecordTrigger):
            when = start.conditions and self.conditions(start.conditions, "start when")
            start = _pruned(
                [("type", "record", None), ("object", start.object, None), ("on", start.on.value, None)]
                + [("only_when_changed", start.only_when_changed, False), ("when", when, None)]
            )
        variables = [
            _pruned(
                [("name", v.name, None), ("type", v.type.value, None), ("object", v.object, None)]
                + [("collection", v.is_collection, False), ("input", v.is_input, False)]
                + [("output", v.is_output, False), ("description", v.description, "")]
                + [("default", self.value(v.default, f"variables[{i}] default"), None)]
            )
            for i, v in enumerate(o.variables)
        ]
        screens = [
            _pruned(
                [("name", s.name, None), ("label", s.label, ""), ("description", s.description, "")]
                + [("fields", [self.field(f, f"screens[{i}]") for f in s.fields], [])]
            )
            for i, s in enumerate(o.screens)
        ]
        elements = [self.element(e, f"elements[{i}]") for i, e in enumerate(o.elements)]
        default_first = o.elements[0].name if o.elements else None
        return _pruned(
            [("schema_version", SCHEMA_VERSION, None), ("name", o.name, None)]
            + [("label", o.label, ""), ("description", o.description, "")]
            + [("version", o.version, None), ("is_template", o.is_template, False)]
            + [("source_template", o.source_template, None), ("start", start, Autolaunched())]
            + [("variables", variables, []), ("screens", screens, [])]
            + [("first", o.first, default_first), ("elements", elements, None)]
        )

    def field(self, f: Field, where: str) -> dict[str, Any]:
        where = f"{where} field {f.name!r}"
        return _pruned(
            [("name", f.name, None), ("kind", f.kind.value, None), ("label", f.label, "")]
            + [("required", f.required, False)]
            + [(k, self.value(getattr(f, k), f"{where} {k}"), None) for k in ("default", "min", "max")]
            + [("min_length", f.min_length, None), ("max_length", f.max_length, None)]
            + [("regex", f.regex, None), ("choices", list(f.choices), []), ("help", f.help, "")]
        )


_UNARY = ("is_null", "is_blank", "is_changed", "was_set")


def _kind_of(step: Any) -> str:
    return next(k for k, cls in _STEP_KINDS.items() if isinstance(step, cls))


def to_dict(orch: Orchestration) -> dict[str, Any]:
    """The definition as plain JSON-compatible data (dates and decimals as tagged text)."""
    return _Writer(native=False).orchestration(orch)


def dumps(orch: Orchestration, format: str = "yaml") -> str:
    """The definition as YAML (the default; dates stay dates) or JSON text."""
    if format == "json":
        import json

        return json.dumps(to_dict(orch), indent=2, ensure_ascii=False) + "\n"
    if format != "yaml":
        raise DefinitionError(f"format: expected yaml or json; got {show(format)}")
    return yaml_dump(_Writer(native=True).orchestration(orch))


def save(orch: Orchestration, path: str | os.PathLike[str]) -> Path:
    """Write the definition to a .yaml, .yml or .json file (replaced whole, or not at all)."""
    target = Path(path)
    text = dumps(orch, _format_of(target))  # before touching the file: a bad definition changes nothing
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise
    return target


def _format_of(path: Path, sniff: bool = False) -> str | None:
    found = _FORMATS.get(path.suffix.lower())
    if found is None and not sniff:
        raise DefinitionError(f"{path}: expected a .yaml, .yml or .json suffix; got {path.suffix!r}")
    return found


# --- reading ---------------------------------------------------------------------------------------

from orchlab._serial_read import read_orchestration  # noqa: E402 - after the shared names above


def from_dict(data: Mapping[str, Any]) -> Orchestration:
    """Build the definition from its dict form, upgrading older schema versions first."""
    if not isinstance(data, Mapping):
        raise DefinitionError(f"(top level): expected a mapping; got {show(data)}")
    # Files without a version predate nothing: version 1 was the first format.
    version = data.get("schema_version", 1)
    if type(version) is not int or version < 0:
        raise DefinitionError(
            f"(top level): field 'schema_version': expected a whole number; got {show(version)}"
        )
    if version > SCHEMA_VERSION:
        raise DefinitionError(
            f"schema_version {version} is newer than this orchlab supports ({SCHEMA_VERSION}); "
            "upgrade orchlab"
        )
    if version < SCHEMA_VERSION:
        data = copy.deepcopy(dict(data))  # migrations may edit in place; the caller's dict stays
        for step in range(version, SCHEMA_VERSION):
            if step not in MIGRATIONS:
                raise DefinitionError(f"schema_version {step} cannot be upgraded: no migration")
            data = {**MIGRATIONS[step](data), "schema_version": step + 1}
    return read_orchestration(data)


def loads(text: str, format: str | None = None, *, source: str = "") -> Orchestration:
    """Read a definition from YAML or JSON text; `format=None` sniffs (JSON starts with '{')."""
    if format is None:
        format = "json" if text.lstrip().startswith("{") else "yaml"
    if format not in ("yaml", "json"):
        raise DefinitionError(f"format: expected yaml or json; got {show(format)}")
    data = parse(text, format, source)
    try:
        return from_dict(data)
    except DefinitionError as error:
        if not source:
            raise
        raise DefinitionError(f"{source}: {error}") from None


def load(path: str | os.PathLike[str]) -> Orchestration:
    """Read a definition file; the suffix gives the format (else the text is sniffed)."""
    source = Path(path)
    return loads(source.read_text(encoding="utf-8"), _format_of(source, True), source=str(source))


# Model classes re-exported for the reader module, which imports them from here.
_MODEL = (Assignee, AssigneeKind, AllStepsComplete, Condition, ConditionError, Decision, End)
_MODEL += (FieldKind, FormSubmitted, Notification, OnStageStart, Outcome, Screen, TriggerEvent)
_MODEL += (Variable, ValueType, Node, parse_operator)
