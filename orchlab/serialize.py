"""Definitions to and from plain dicts, JSON and YAML files, such that `load(save(x)) == x`.

The file uses the builder's words. Each element is a mapping whose first key names its
type and its API name (`stage: Triage`); steps do the same (`background: Score`). Fields
at their defaults are left out, so a hand-written file stays short::

    schema_version: 1
    name: Case_Escalation
    label: Case escalation
    version: 1
    start:                        # left out: autolaunched (started with start_run)
      type: record                # record | autolaunched
      object: Case
      on: update                  # create | update | create_or_update
      only_when_changed: true
      when: [[$Record.Severity, equals, High]]
    variables:
      - {name: amount, type: currency, input: true, default: {decimal: '1000.00'}}
    screens:
      - name: triage_form
        label: Triage
        fields:
          - {name: priority, kind: picklist, required: true, choices: [P1, P2]}
    elements:                     # the path starts at the first element (else `first: Name`)
      - stage: Triage
        steps:
          - background: Score     # background (flow) | interactive (screen) | external (action)
            flow: score_case
            inputs: {amount: {ref: $Record.Amount}}
            outputs: {score: case_score}       # flow output -> orchestration variable
          - interactive: Triage_review
            screen: triage_form
            assignee: {queue: Support_Tier2}   # user | group | queue | reference
            after: [Score]        # entry; or `when: <conditions>` or `when: {evaluation: flow}`
            context: {ref: $Record.Id}
            notify: {subject: 'Case {!$Record.CaseNumber}', body: Please triage.}
            done_when: {evaluation: review_done, inputs: {case: {ref: $Record.Id}}}
        exit: {logic: or, items: [[Triage_review.Outputs.priority, equals, P1]]}
        next: Amount_check        # or {to: Name, goto: true}; left out: the path ends here
        on_fault: Recovery
      - decision: Amount_check
        outcomes:
          - {name: Large, when: [[$Record.Amount, '>', 1000]], to: Escalation}
        default: Work             # left out: the default outcome ends the path
        default_label: Standard
      - end: Done

Values: text, numbers, true/false, null and lists are written as they are, dates and
datetimes as YAML timestamps. Anything else is a mapping with one key: `{ref: $Record.Id}`
(a reference; plain text is always a literal), `{decimal: '12.50'}`, `{date: '2024-01-31'}`,
`{datetime: '2024-01-31T09:30:00+00:00'}` (JSON uses these for all dates) or `{record: {...}}`.

Conditions: `{logic: and | or | '1 AND (2 OR 3)', items: [...]}`, or just the list of
items (all must hold). An item is `[left, operator, right]`, `[left, operator]` for the
unary is_null, is_blank, is_changed and was_set, or `{left: ..., op: ..., right: ...}`;
`left` is a reference path, and operators are spelled any way `parse_operator` accepts.

Files carry `schema_version`; `from_dict` upgrades older ones through `MIGRATIONS`.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from orchlab._serial import DefinitionError, Node, decode_value, encode_value, parse
from orchlab._serial import read_fields, show, spec, write_fields, yaml_dump
from orchlab.conditions import Condition, ConditionError, Conditions, Operator, parse_operator
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
    Variable,
)

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

# from_version -> a function upgrading a definition dict to from_version + 1. `from_dict`
# passes each one a deep copy and sets schema_version itself, so a migration only moves fields:
#
#     def _v1_to_v2(data: dict) -> dict:
#         """Version 2 renamed `next` to `then`."""
#         for element in data.get("elements", []):
#             if "next" in element:
#                 element["then"] = element.pop("next")
#         return data
#
#     MIGRATIONS[1] = _v1_to_v2  # with SCHEMA_VERSION = 2
#
# Version 1 is the first format, so there is nothing to upgrade yet.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}

_TOP = spec(
    "schema_version:* name label description version:integer! is_template:flag source_template "
    "start:* variables:* screens:* first:* elements:*"
)
_START = spec("type:* object on:event! only_when_changed:flag when:*")
_VARIABLE = spec(
    "name type:value_type! object collection=is_collection:flag input=is_input:flag "
    "output=is_output:flag default:value description"
)
_SCREEN = spec("name label description fields:*")
_FIELD = spec(
    "name kind:field_kind! label required:flag default:value min:value max:value "
    "min_length:integer max_length:integer regex choices:names help"
)
_IO = "after:* when:* inputs:map outputs:outputs"
_STEPS: dict[str, tuple[type, Any]] = {
    "background": (BackgroundStep, spec(f"background=name label flow {_IO} description")),
    "interactive": (
        InteractiveStep,
        spec(
            f"interactive=name label screen assignee:* {_IO} context=context_record:value "
            "notify:* done_when:* description"
        ),
    ),
    "external": (
        ExternalStep,
        spec(f"external=name label action {_IO} timeout:number description"),
    ),
}
_NOTIFY = spec("subject body")
_ELEMENTS: dict[str, tuple[type, Any]] = {
    "stage": (Stage, spec("stage=name label description steps:* exit:* next:* on_fault:*")),
    "decision": (
        Decision,
        spec("decision=name label description outcomes:* default:* default_label"),
    ),
    "end": (End, spec("end=name label")),
}
_OUTCOME = spec("name label when:* to:* goto:*")
_RULE_KEYS = ("logic", "items", "evaluation", "inputs")
_UNARY = frozenset({Operator.IS_NULL, Operator.IS_BLANK, Operator.IS_CHANGED, Operator.WAS_SET})


def _named(path: str, kind: str, name: Any) -> str:
    """A path for messages: `elements[2] (stage 'Work')`."""
    return f"{path} ({kind} {name!r})" if isinstance(name, str) else path


# --- writing ---------------------------------------------------------------------------------------


class _Writer:
    def __init__(self, native: bool) -> None:
        self.native = native  # YAML keeps dates as dates; JSON needs tagged text

    def conditions(self, block: Conditions, where: str) -> dict[str, Any]:
        items: list[Any] = []
        for i, c in enumerate(block.items):
            item = [c.left.path, c.operator.value]
            if c.right is not None or c.operator not in _UNARY:
                item.append(encode_value(c.right, f"{where} items[{i}]", self.native))
            items.append(item)
        return {"logic": block.logic, "items": items}

    def rule(self, rule: Any, where: str) -> Any:
        if isinstance(rule, Requirements):
            return self.conditions(rule.conditions, where)
        if isinstance(rule, EvaluationFlow):
            return write_fields(rule, spec("evaluation=flow inputs:map"), where, self.native)
        return None  # the defaults: start with the stage, all steps complete, form submitted

    @staticmethod
    def connector(c: Connector | None) -> Any:
        return c if c is None else {"to": c.target, "goto": True} if c.goto else c.target

    def step(self, s: Any, where: str) -> dict[str, Any]:
        kind = next(k for k, (cls, _) in _STEPS.items() if isinstance(s, cls))
        where = _named(where, kind, s.name)
        after = isinstance(s.entry, AfterSteps)
        extra = {"after": list(s.entry.steps) if after else None, "when": self.rule(s.entry, where)}
        if isinstance(s, InteractiveStep):
            note = s.notification
            extra["assignee"] = s.assignee and {s.assignee.kind.value: s.assignee.name}
            extra["notify"] = note and write_fields(note, _NOTIFY, where, self.native)
            extra["done_when"] = self.rule(s.exit, where)
        return write_fields(s, _STEPS[kind][1], where, self.native, extra)

    def element(self, e: Any, where: str) -> dict[str, Any]:
        where = _named(where, e.element_type, e.name)
        extra: dict[str, Any] = {}
        if isinstance(e, Stage):
            steps = [self.step(s, f"{where} steps[{i}]") for i, s in enumerate(e.steps)]
            extra = {"steps": steps or None, "exit": self.rule(e.exit, where)}
            extra |= {"next": self.connector(e.next), "on_fault": self.connector(e.on_fault)}
        elif isinstance(e, Decision):
            extra = {"outcomes": [], "default": self.connector(e.default)}
            for i, o in enumerate(e.outcomes):
                at = _named(f"{where} outcomes[{i}]", "outcome", o.name)
                goto = (o.next and o.next.goto) or None
                more = {"when": self.conditions(o.conditions, at), "goto": goto}
                more["to"] = o.next and o.next.target
                extra["outcomes"].append(write_fields(o, _OUTCOME, at, self.native, more))
        return write_fields(e, _ELEMENTS[e.element_type][1], where, self.native, extra)

    def orchestration(self, o: Orchestration) -> dict[str, Any]:
        start = None
        if isinstance(o.start, RecordTrigger):
            when = o.start.conditions and self.conditions(o.start.conditions, "start")
            start = write_fields(
                o.start, _START, "start", self.native, {"type": "record", "when": when}
            )
        screens = []
        for i, s in enumerate(o.screens):
            at = _named(f"screens[{i}]", "screen", s.name)
            fields = [
                write_fields(f, _FIELD, _named(f"{at} fields[{j}]", "field", f.name), self.native)
                for j, f in enumerate(s.fields)
            ]
            screens.append(write_fields(s, _SCREEN, at, self.native, {"fields": fields or None}))
        extra = {
            "schema_version": SCHEMA_VERSION,
            "start": start,
            "variables": [
                write_fields(
                    v, _VARIABLE, _named(f"variables[{i}]", "variable", v.name), self.native
                )
                for i, v in enumerate(o.variables)
            ]
            or None,
            "screens": screens or None,
            "first": o.first if o.first != (o.elements[0].name if o.elements else None) else None,
            "elements": [self.element(e, f"elements[{i}]") for i, e in enumerate(o.elements)],
        }
        return write_fields(o, _TOP, "(top level)", self.native, extra)


def to_dict(orch: Orchestration) -> dict[str, Any]:
    """The definition as plain JSON-compatible data (dates and decimals as tagged text)."""
    return _Writer(native=False).orchestration(orch)


# --- reading ---------------------------------------------------------------------------------------


def _node(data: Any, path: str, kind: str, rows: Any, name_key: str = "name") -> Node:
    """The mapping at `path`, its message path naming it once its name is known."""
    name = data.get(name_key) if isinstance(data, Mapping) else None
    return Node(data, _named(path, kind, name), (r[0] for r in rows))


def _conditions(data: Any, where: str) -> Conditions:
    if isinstance(data, list):
        data = {"items": data}  # a bare list: all must hold
    node = Node(data, where, ("logic", "items"))
    items = node.items("items")
    found = tuple(_condition(item, f"{where} items[{i}]") for i, item in enumerate(items))
    return Conditions(found, node.text("logic", "and"))


def _condition(item: Any, where: str) -> Condition:
    if isinstance(item, Mapping):
        node = Node(item, where, ("left", "op", "right"))
        left, op = node.get("left", "a reference", lambda v: True), node.text("op")
        right, has_right = item.get("right"), "right" in item
    elif isinstance(item, list) and len(item) in (2, 3):
        left, op, has_right = item[0], item[1], len(item) == 3
        right = item[2] if has_right else None
    else:
        raise DefinitionError(
            f"{where}: expected [left, operator, right], [left, operator] or a mapping with "
            f"left, op and right; got {show(item)}"
        )
    try:
        operator = parse_operator(op)
    except ConditionError as error:
        raise DefinitionError(f"{where}: operator: {error}") from None
    if not has_right and operator not in _UNARY:
        raise DefinitionError(
            f"{where}: operator {operator.value} needs a right side: [left, {operator.value}, right]"
        )
    left, right = decode_value(left, f"{where} left"), decode_value(right, f"{where} right")
    try:
        return Condition(left, operator, right)
    except ValueError as error:  # ConditionError or a bad reference path
        raise DefinitionError(f"{where}: left: expected a reference path; {error}") from None


def _rule(node: Node, key: str, default: Any) -> Any:
    data = node.data.get(key)
    if data is None:
        return default
    where = node.where(key)
    if isinstance(data, Mapping):
        Node(data, where, _RULE_KEYS)  # an unknown key gets one message naming both forms
        if "evaluation" in data:
            inner = Node(data, where, ("evaluation", "inputs"))
            return EvaluationFlow(inner.text("evaluation"), inner.pairs("inputs"))
    return Requirements(_conditions(data, where))


def _connector(node: Node, key: str) -> Connector | None:
    data = node.data.get(key)
    if data is None or isinstance(data, str):
        return data and Connector(data)
    inner = Node(data, node.where(key), ("to", "goto"))
    return Connector(inner.text("to"), inner.flag("goto"))


def _kind(data: Any, path: str, kinds: Mapping[str, Any]) -> str:
    """The key naming an element's or step's type (and its name)."""
    if not isinstance(data, Mapping):
        raise DefinitionError(f"{path}: expected a mapping; got {show(data)}")
    found = [k for k in kinds if k in data]
    if len(found) != 1:
        got = " and ".join(map(repr, found)) or (repr(next(iter(data))) if data else "nothing")
        raise DefinitionError(
            f"{path}: field 'kind': expected one of {', '.join(kinds)}; got {got}"
        )
    return found[0]


def _assignee(node: Node) -> Assignee | None:
    data = node.data.get("assignee")
    if data is None:
        return None
    kinds = [k.value for k in AssigneeKind]
    Node(data, node.where("assignee"), kinds)
    if len(data) != 1 or not isinstance(next(iter(data.values())), str):
        node.fail(
            "assignee", f"one of {', '.join(kinds)} with a name, e.g. {{queue: Support}}", data
        )
    ((kind, name),) = data.items()
    return Assignee(AssigneeKind(kind), name)


def _step(data: Any, path: str) -> Any:
    kind = _kind(data, path, _STEPS)
    cls, rows = _STEPS[kind]
    node = _node(data, path, kind, rows, name_key=kind)
    kwargs = read_fields(node, cls, rows)
    if node.has("after") and node.has("when"):
        raise DefinitionError(
            f"{node.path}: fields 'after' and 'when' both given; expected one of them: after "
            "(the steps it waits for) or when (conditions or an evaluation flow)"
        )
    after = node.names("after")
    kwargs["entry"] = AfterSteps(after) if after else _rule(node, "when", OnStageStart())
    if cls is InteractiveStep:
        kwargs["exit"] = _rule(node, "done_when", FormSubmitted())
        kwargs["assignee"] = _assignee(node)
        note = node.data.get("notify")
        if note is not None:
            note = {"subject": note} if isinstance(note, str) else note
            inner = Node(note, node.where("notify"), (r[0] for r in _NOTIFY))
            kwargs["notification"] = Notification(**read_fields(inner, Notification, _NOTIFY))
    return cls(**kwargs)


def _outcome(data: Any, path: str) -> Outcome:
    node = _node(data, path, "outcome", _OUTCOME)
    if not node.has("when"):
        raise DefinitionError(f"{node.path}: missing required field 'when' (conditions)")
    to, goto = node.text("to", None), node.flag("goto")
    if goto and to is None:
        node.fail("goto", "a 'to' field naming the element to go to", goto)
    return Outcome(
        **read_fields(node, Outcome, _OUTCOME),
        conditions=_conditions(data["when"], node.where("when")),
        next=Connector(to, goto) if to is not None else None,
    )


def _element(data: Any, path: str) -> Any:
    kind = _kind(data, path, _ELEMENTS)
    cls, rows = _ELEMENTS[kind]
    node = _node(data, path, kind, rows, name_key=kind)
    kwargs = read_fields(node, cls, rows)
    if cls is Stage:
        steps = node.items("steps", [])
        kwargs["steps"] = tuple(_step(s, f"{node.path} steps[{i}]") for i, s in enumerate(steps))
        kwargs["exit"] = _rule(node, "exit", AllStepsComplete())
        kwargs["next"], kwargs["on_fault"] = _connector(node, "next"), _connector(node, "on_fault")
    elif cls is Decision:
        outcomes = node.items("outcomes")
        kwargs["outcomes"] = tuple(
            _outcome(o, f"{node.path} outcomes[{i}]") for i, o in enumerate(outcomes)
        )
        kwargs["default"] = _connector(node, "default")
    return cls(**kwargs)


def _start(node: Node) -> RecordTrigger | Autolaunched:
    data = node.data.get("start")
    if data is None:
        return Autolaunched()
    inner = Node(data, node.where("start"), (r[0] for r in _START))
    if inner.get("type", "record or autolaunched", lambda v: v in ("record", "autolaunched")) == (
        "autolaunched"
    ):
        Node(data, inner.path, ("type",))  # nothing else belongs to an autolaunched start
        return Autolaunched()
    when = data.get("when")
    return RecordTrigger(
        **read_fields(inner, RecordTrigger, _START),
        conditions=None if when is None else _conditions(when, inner.where("when")),
    )


def _screen(data: Any, path: str) -> Screen:
    node = _node(data, path, "screen", _SCREEN)
    fields = node.items("fields", [])
    return Screen(
        **read_fields(node, Screen, _SCREEN),
        fields=tuple(
            Field(
                **read_fields(_node(f, f"{node.path} fields[{i}]", "field", _FIELD), Field, _FIELD)
            )
            for i, f in enumerate(fields)
        ),
    )


def _orchestration(data: Mapping[str, Any]) -> Orchestration:
    node = Node(data, "(top level)", (r[0] for r in _TOP))
    variables = node.items("variables", [])
    return Orchestration(
        **read_fields(node, Orchestration, _TOP),
        start=_start(node),
        variables=tuple(
            Variable(
                **read_fields(
                    _node(v, f"variables[{i}]", "variable", _VARIABLE), Variable, _VARIABLE
                )
            )
            for i, v in enumerate(variables)
        ),
        screens=tuple(_screen(s, f"screens[{i}]") for i, s in enumerate(node.items("screens", []))),
        first=node.text("first", None),
        elements=tuple(_element(e, f"elements[{i}]") for i, e in enumerate(node.items("elements"))),
    )


def from_dict(data: Mapping[str, Any]) -> Orchestration:
    """Build the definition from its dict form, upgrading an older schema_version first."""
    if not isinstance(data, Mapping):
        raise DefinitionError(f"(top level): expected a mapping; got {show(data)}")
    version = data.get("schema_version", 1)  # version 1 is the first format: nothing is older
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
        for old in range(version, SCHEMA_VERSION):
            if old not in MIGRATIONS:
                raise DefinitionError(f"schema_version {old} cannot be upgraded: no migration")
            data = {**MIGRATIONS[old](data), "schema_version": old + 1}
    return _orchestration(data)


# --- text and files ---------------------------------------------------------------------------------


def _check_format(format: str) -> str:
    if format not in ("yaml", "json"):
        raise DefinitionError(f"format: expected yaml or json; got {show(format)}")
    return format


def dumps(orch: Orchestration, format: str = "yaml") -> str:
    """The definition as YAML (the default; dates stay dates) or JSON text."""
    if _check_format(format) == "json":
        return json.dumps(to_dict(orch), indent=2, ensure_ascii=False) + "\n"
    return yaml_dump(_Writer(native=True).orchestration(orch))


def loads(text: str, format: str | None = None, *, source: str = "") -> Orchestration:
    """Read YAML or JSON text; `format=None` sniffs (JSON starts with '{'). `source` prefixes errors."""
    if format is None:
        format = "json" if text.lstrip().startswith("{") else "yaml"
    data = parse(text, _check_format(format), source)
    try:
        return from_dict(data)
    except DefinitionError as error:
        if not source:
            raise
        raise DefinitionError(f"{source}: {error}") from None


_SUFFIXES = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}


def save(orch: Orchestration, path: str | os.PathLike[str]) -> Path:
    """Write a .yaml, .yml or .json file; it is replaced whole or, on any error, not touched."""
    target = Path(path)
    if target.suffix.lower() not in _SUFFIXES:
        raise DefinitionError(
            f"{target}: expected a .yaml, .yml or .json suffix; got {target.suffix or 'none'!r}"
        )
    text = dumps(orch, _SUFFIXES[target.suffix.lower()])
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise
    return target


def load(path: str | os.PathLike[str]) -> Orchestration:
    """Read a definition file; the suffix gives the format (any other suffix: sniffed)."""
    source = Path(path)
    text = source.read_text(encoding="utf-8")
    return loads(text, _SUFFIXES.get(source.suffix.lower()), source=str(source))
