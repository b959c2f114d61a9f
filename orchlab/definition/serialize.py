"""Definitions to and from plain dicts, JSON and YAML files, such that `load(save(x)) == x`.

The file uses the builder's words. An element is a mapping whose first key names its type
and holds its API name (`stage: Triage`); a step likewise (`background: Score`). Fields at
their defaults are left out, so a hand-written file stays short::

    schema_version: 1
    name: Case_Escalation
    label: Case escalation
    version: 1
    start:                        # left out: autolaunched (runs start with start_run)
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
    elements:                     # the path starts at the first element (else: first: Name)
      - stage: Triage
        steps:
          - background: Score     # background: flow | interactive: screen | external: action
            flow: score_case      # (async: true: it finishes in a later call)
            inputs: {amount: {ref: $Record.Amount}}
            outputs: {score: case_score}       # flow output -> orchestration variable
          - interactive: Triage_review
            screen: triage_form
            assignee: {queue: Support_Tier2}   # user | group | queue | reference
            after: [Score]        # entry; or when: <conditions> | {evaluation: flow, inputs: {}}
            context: {ref: $Record.Id}
            notify: {subject: 'Case {!$Record.CaseNumber}', body: Please triage.}
            done_when: {evaluation: review_done, inputs: {case: {ref: $Record.Id}}}
        exit: {logic: or, items: [[Triage_review.Outputs.priority, equals, P1]]}
        next: Amount_check        # or {goto: Name}: a Go To connector; left out: the path ends
        on_fault: Recovery
      - decision: Amount_check
        outcomes:
          - {name: Large, when: [[$Record.Amount, '>', 1000]], to: Escalation}
        default: Work             # left out: the default outcome ends the path
        default_label: Standard
      - end: Done
    kept:                         # left out: nothing; parts of an imported file, written back
      - {owner: 'stage:Triage', text: <locationX>176</locationX>}

Values: text, numbers, true/false, null and lists are written as they are, and dates and
datetimes as YAML timestamps. Anything else is a mapping with one key: `{ref: $Record.Id}`
(a reference; plain text is always a literal), `{decimal: '12.50'}`, `{date: 2024-01-31}`,
`{datetime: '2024-01-31T09:30:00+00:00'}` (JSON uses these two for all dates) or
`{record: {...}}` (a literal mapping). Tuple values come back as lists, and a datetime's
`fold` (set only for the repeated hour when clocks go back) is not kept.

Conditions: a list of items that must all hold, or `{logic: or | '1 AND (2 OR 3)', items:
[...]}`. An item is `[left, operator, right]`, `[left, operator]` for the unary is_null,
is_blank, is_changed and was_set, or `{left: ..., op: ..., right: ...}`; `left` is a
reference path, and operators may be spelled any way `parse_operator` reads (`'>'`, `IsNull`).

Files carry `schema_version`; `from_dict` upgrades older ones through `MIGRATIONS`.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from orchlab.definition import model as m
from orchlab.definition.codec import (
    KINDS,
    REQUIRED,
    DefinitionError,
    Kind,
    Node,
    Noted,
    collecting,
    decode_value,
    encode_value,
    enum_kind,
    listing,
    read_fields,
    record,
    show,
    spec,
    write_fields,
)
from orchlab.definition.conditions import Condition, Conditions, Operator, parse_operator
from orchlab.definition.values import ValueType
from orchlab.definition.yaml_dialect import parse, yaml_dump
from orchlab.limits import MAX_ELEMENTS

__all__ = ["SCHEMA_VERSION", "MIGRATIONS", "DefinitionError", "to_dict", "from_dict"]
__all__ += ["dumps", "loads", "save", "load"]

SCHEMA_VERSION = 1


def _unversioned(data: dict[str, Any]) -> dict[str, Any]:
    """0 -> 1: a dict without `schema_version` (version 0) is in version 1's format: no-op.

    The pattern of every migration: it gets a deep copy of a version-n dict and returns it as
    version n + 1 (`from_dict` sets `schema_version`). Were version 2 to rename `next` to
    `then`, say, `MIGRATIONS[1]` would do ``for e in data["elements"]: e["then"] = e.pop("next")``.
    """
    return data


# from_version -> the function upgrading a definition dict from it to from_version + 1.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {0: _unversioned}

_UNARY = frozenset({Operator.IS_NULL, Operator.IS_BLANK, Operator.IS_CHANGED, Operator.WAS_SET})


# --- kinds of the model: conditions, entry/exit rules, connectors, assignees, start ---------


def _write_conditions(block: Conditions | None, path: str, key: str, native: bool) -> Any:
    if block is None:
        return None
    items: list[Any] = []
    for i, c in enumerate(block.items):
        item = [c.left.path, c.operator.value]
        if c.right is not None or c.operator not in _UNARY:  # [left, is_null] needs no right
            item.append(encode_value(c.right, f"{path} {key} items[{i}]".strip(), native))
        items.append(item)
    return items if block.logic == "and" else {"logic": block.logic, "items": items}


def _read_conditions(node: Node, key: str, default: Any) -> Any:
    data = node.get(key, "conditions", lambda v: isinstance(v, list | Mapping), default)
    return _conditions(data, node.inner(key)) if node.has(key) else data


def _conditions(data: Any, path: str) -> Conditions:
    node = Node({"items": data} if isinstance(data, list) else data, path, ("logic", "items"))
    items = node.items("items")
    found = tuple(_condition(item, f"{path} items[{i}]") for i, item in enumerate(items))
    return Conditions(found, node.text("logic", "and"))


def _condition(item: Any, path: str) -> Condition:
    if isinstance(item, Mapping):
        node = Node(item, path, ("left", "op", "right"))
        left, op = node.get("left", "a reference path", lambda v: True, REQUIRED), node.text("op")
        right, has_right = item.get("right"), "right" in item
    elif isinstance(item, list) and len(item) in (2, 3):
        left, op, has_right = item[0], item[1], len(item) == 3
        right = item[2] if has_right else None
    else:
        raise DefinitionError(
            f"{path}: expected [left, operator, right], [left, operator] or a mapping with "
            f"left, op and right; got {show(item)}"
        )
    try:
        operator = parse_operator(op)
    except ValueError as error:
        raise DefinitionError(f"{path}: operator: {error}") from None
    if not has_right and operator not in _UNARY:
        raise DefinitionError(f"{path}: operator {operator} needs a right side: [left, {op}, x]")
    left, right = decode_value(left, f"{path} left"), decode_value(right, f"{path} right")
    try:
        return Condition(left, operator, right)
    except ValueError as error:  # a ConditionError or an empty reference path
        raise DefinitionError(f"{path} left: expected a reference path; {error}") from None


_K: dict[str, Kind] = {**KINDS, "conditions": Kind(_write_conditions, _read_conditions)}
_K |= {"event": enum_kind(m.TriggerEvent), "value_type": enum_kind(ValueType)}
_K |= {"field_kind": enum_kind(m.FieldKind)}
_EVALUATION = spec("evaluation=flow inputs:map", _K)


def _write_rule(rule: Any, path: str, key: str, native: bool) -> Any:
    if isinstance(rule, m.Requirements):
        return _write_conditions(rule.conditions, path, key, native)
    if isinstance(rule, m.EvaluationFlow):
        return write_fields(rule, _EVALUATION, f"{path} {key}".strip(), native)
    return None  # the defaults: start with the stage, all steps complete, form submitted


def _read_rule(node: Node, key: str, default: Any) -> Any:
    if not node.has(key):
        return default
    data, path = node.data[key], node.inner(key)
    if isinstance(data, Mapping):
        Node(data, path, ("logic", "items", "evaluation", "inputs"))  # one message, both forms
        if "evaluation" in data:
            inner = Node(data, path, (r[0] for r in _EVALUATION))
            return m.EvaluationFlow(**read_fields(inner, m.EvaluationFlow, _EVALUATION))
    return m.Requirements(_conditions(data, path))


def _read_connector(node: Node, key: str, default: Any) -> Any:
    expected = "an element name or {goto: Name} (a Go To connector)"
    data = node.get(key, expected, lambda v: isinstance(v, str | Mapping), default)
    if not isinstance(data, Mapping):
        return m.Connector(data) if isinstance(data, str) else data
    return m.Connector(Node(data, node.inner(key), ("goto",)).text("goto"), goto=True)


def _read_assignee(node: Node, key: str, default: Any) -> Any:
    kinds = [k.value for k in m.AssigneeKind]
    if not node.has(key):
        return None  # nobody yet: the work item waits in no one's list
    data = Node(node.data[key], node.inner(key), kinds).data
    if (
        len(data) != 1
        or next(iter(data)) not in kinds
        or not isinstance(next(iter(data.values())), str)
    ):
        node.fail(key, f"one of {', '.join(kinds)} with a name, e.g. {{queue: Support}}", data)
    ((kind, name),) = data.items()
    return m.Assignee(m.AssigneeKind(kind), name)


_K["rule"] = Kind(_write_rule, _read_rule)
_K["after"] = Kind(
    lambda v, path, key, native: list(v.steps) if isinstance(v, m.AfterSteps) else None,
    lambda n, k, d: m.AfterSteps(n.names(k)) if n.has(k) else d,
)
_K["connector"] = Kind(
    lambda v, path, key, native: v and ({"goto": v.target} if v.goto else v.target),
    _read_connector,
)
_K["assignee"] = Kind(lambda v, path, key, native: v and {v.kind.value: v.name}, _read_assignee)
_K["notify"] = record(m.Notification, spec("subject body", _K))
_START = spec("type:- object on:event! only_when_changed:flag when=conditions:conditions", _K)


def _read_start(node: Node, key: str, default: Any) -> Any:
    if not node.has(key):
        return m.Autolaunched()
    inner = Node(node.data[key], "start", (r[0] for r in _START))
    kinds = ("record", "autolaunched")
    if inner.get("type", "record or autolaunched", lambda v: v in kinds, None) == "autolaunched":
        Node(inner.data, "start", ("type",))  # nothing else belongs to an autolaunched start
        return m.Autolaunched()
    return m.RecordTrigger(**read_fields(inner, m.RecordTrigger, _START))


_K["start"] = Kind(
    lambda v, path, key, native: {"type": "record"} | write_fields(v, _START, "start", native),
    _read_start,
)

# --- the tables: file keys in the order they are written ------------------------------------
_IO = "after=entry:after when=entry:rule inputs:map outputs:outputs"
_BACKGROUND = f"background=name flow label {_IO} description async=asynchronous:flag"
_INTERACTIVE = f"interactive=name screen assignee:assignee label {_IO} context=context_record:value"
_INTERACTIVE += " notify=notification:notify done_when=exit:rule description"
_EXTERNAL = f"external=name action label {_IO} timeout:number description async=asynchronous:flag"
_K["steps"] = listing(
    {
        "background": (m.BackgroundStep, spec(_BACKGROUND, _K)),
        "interactive": (m.InteractiveStep, spec(_INTERACTIVE, _K)),
        "external": (m.ExternalStep, spec(_EXTERNAL, _K)),
    }
)
_OUTCOME = spec("name label when=conditions:conditions to=next:connector", _K)
_K["outcomes"] = listing({"outcome": (m.Outcome, _OUTCOME)}, keyed=False)
_STAGE = "stage=name label description steps:steps exit:rule next:connector on_fault:connector"
_DECISION = "decision=name label description outcomes:outcomes default:connector default_label"
_K["elements"] = listing(
    {
        "stage": (m.Stage, spec(_STAGE, _K)),
        "decision": (m.Decision, spec(_DECISION, _K)),
        "end": (m.End, spec("end=name:text! label", _K)),  # "!": End's default name too
    }
)
_FIELD = "name kind:field_kind! label required:flag default:value min:value max:value"
_FIELD += " min_length:integer max_length:integer regex choices:names help"
_K["fields"] = listing({"field": (m.Field, spec(_FIELD, _K))}, keyed=False)
_SCREEN = spec("name label description fields:fields", _K)
_K["screens"] = listing({"screen": (m.Screen, _SCREEN)}, keyed=False)
_VARIABLE = "name type:value_type! object collection=is_collection:flag input=is_input:flag"
_VARIABLE += " output=is_output:flag default:value description"
_K["variables"] = listing({"variable": (m.Variable, spec(_VARIABLE, _K))}, keyed=False)
_K["kept"] = listing({"part": (m.KeptPart, spec("owner text", _K))}, keyed=False)
_TOP = spec(
    "schema_version:- name label description version:integer! is_template:flag "
    "source_template start:start variables:variables screens:screens first:- elements:elements "
    "kept:kept",
    _K,
)


# --- dicts --------------------------------------------------------------------------------------


def _write(orch: m.Orchestration, native: bool) -> dict[str, Any]:
    first = orch.elements[0].name if orch.elements else None
    extra = {"schema_version": SCHEMA_VERSION, "first": orch.first if orch.first != first else None}
    return write_fields(orch, _TOP, "", native, **extra)


def to_dict(orch: m.Orchestration) -> dict[str, Any]:
    """The definition as plain JSON-compatible data (dates and decimals as one-key mappings)."""
    return _write(orch, native=False)


def from_dict(data: Mapping[str, Any]) -> m.Orchestration:
    """Build the definition from its dict form, upgrading an older schema_version first."""
    if not isinstance(data, Mapping):
        raise DefinitionError(f"(top level): expected a mapping; got {show(data)}")
    version = data.get("schema_version", 0)
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
    elements = data.get("elements")
    if isinstance(elements, list) and len(elements) > MAX_ELEMENTS:  # refused before it is read
        raise DefinitionError(
            f"(top level): field 'elements': {len(elements):,} elements; expected at most "
            f"{MAX_ELEMENTS:,}"
        )
    with collecting() as problems:
        try:
            node = Node(data, "", (r[0] for r in _TOP))
            kwargs = read_fields(node, m.Orchestration, _TOP)
            first = node.text("first", None)
        except DefinitionError as error:
            problems.append(str(error))
        except Noted:
            pass
        if problems:
            raise DefinitionError.every(problems)
    return m.Orchestration(**kwargs, first=first)


# --- text and files -----------------------------------------------------------------------------


def _check_format(format: str) -> str:
    if format not in ("yaml", "json"):
        raise DefinitionError(f"format: expected yaml or json; got {show(format)}")
    return format


def dumps(orch: m.Orchestration, format: str = "yaml") -> str:
    """The definition as YAML (the default; dates stay dates) or JSON text."""
    if _check_format(format) == "json":
        return json.dumps(to_dict(orch), indent=2, ensure_ascii=False) + "\n"
    return yaml_dump(_write(orch, native=True))


def loads(text: str, format: str | None = None, *, source: str = "") -> m.Orchestration:
    """Read YAML or JSON text (`None`: JSON if it starts with '{'); `source` prefixes errors."""
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


def save(orch: m.Orchestration, path: str | os.PathLike[str]) -> Path:
    """Write a .yaml, .yml or .json file: replaced whole or, on any error, left as it was."""
    target = Path(path)
    if target.suffix.lower() not in _SUFFIXES:
        raise DefinitionError(
            f"{target}: expected a .yaml, .yml or .json suffix; got {target.suffix or 'none'!r}"
        )
    text = dumps(orch, _SUFFIXES[target.suffix.lower()])  # errors here leave the file alone
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")  # then swapped in whole
    try:
        with open(tmp, "x", encoding="utf-8") as out:  # plain open: the umask sets the mode
            out.write(text)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def load(path: str | os.PathLike[str]) -> m.Orchestration:
    """Read a definition file; the suffix gives the format (any other suffix: sniffed)."""
    source = Path(path)
    text = source.read_text(encoding="utf-8")
    return loads(text, _SUFFIXES.get(source.suffix.lower()), source=str(source))
