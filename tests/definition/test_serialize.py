"""Definitions survive dicts, JSON, YAML and files exactly; bad input gets messages naming where."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import orchlab as ol
from orchlab.definition import serialize
from orchlab.definition.builder import (
    assignee_from,
    background,
    decision,
    end,
    evaluate,
    external,
    group,
    interactive,
    on_record,
    orchestration,
    outcome,
    queue,
    ref,
    screen,
    stage,
    user,
    var,
)
from orchlab.definition.conditions import (
    Condition,
    Conditions,
    Operator,
    all_of,
    any_of,
    cond,
    custom,
)
from orchlab.definition.examples import EXAMPLES
from orchlab.definition.model import (
    Autolaunched,
    BackgroundStep,
    Connector,
    Field,
    FieldKind,
    Notification,
    Orchestration,
    Variable,
)
from orchlab.definition.serialize import (
    MIGRATIONS,
    SCHEMA_VERSION,
    DefinitionError,
    dumps,
    from_dict,
    load,
    loads,
    save,
    to_dict,
)
from orchlab.definition.values import ValueType

UTC2 = dt.timezone(dt.timedelta(hours=2))
ODD = dt.timezone(dt.timedelta(seconds=1234))  # not whole minutes: YAML timestamps cannot say it


def assert_same(loaded: Any, original: Any) -> None:
    """Equal, and equal in type too: == alone lets 1 == 1.0 == True and Decimal('1.0') == 1 pass."""
    assert loaded == original
    assert repr(loaded) == repr(original)


def everything() -> Orchestration:
    """A synthetic definition using every model feature at least once."""
    fields = [
        Field("t", "text", "Text", True, "hi", None, None, 2, 40, r"[a-z]+", (), "Lower case"),
        Field("lt", FieldKind.LONG_TEXT, max_length=2000, help="Line one\nline two"),
        Field("n", "number", default=2.5, min=0, max=10.5),
        Field("c", "currency", default=Decimal("9.99"), min=Decimal("0.00"), max=1e6),
        Field("b", "checkbox", default=False),
        Field("d", "date", default=dt.date(2024, 2, 29)),
        Field("dtm", "datetime", default=dt.datetime(2024, 1, 31, 9, 30, tzinfo=UTC2)),
        Field("p", "picklist", required=True, choices=("P1", "P2"), default="P1"),
        Field("ms", "multi_select", choices=("a", "b", "c"), default=["a", "c"]),
        Field("e", "email", regex=r"^[^@]+@[^@]+$"),
    ]
    variables = [
        var("t", "text", default="yes", description="plain text that YAML 1.1 calls a bool"),
        var("i", "number", input=True, default=3),
        var("f", "number", default=3.0),
        var("amount", "currency", input=True, default=Decimal("1000.00")),
        var("flag", "boolean", output=True, default=True),
        var("day", "date", default=dt.date(1999, 12, 31)),
        var("at", "datetime", default=dt.datetime(2024, 1, 31, 23, 59, 59, 123456)),
        var("odd", "datetime", default=dt.datetime(2024, 1, 1, tzinfo=ODD)),
        var(
            "acct",
            "record",
            object="Account",
            default={"Name": "Acme", "Since": dt.date(2001, 1, 1)},
        ),
        var("tags", "text", collection=True, default=["on", "off", "1e5", "2024-01-31"]),
        Variable("anything", ValueType.ANY),
    ]
    all_ops = Conditions(
        (
            cond("$Record.A", "equals", "x"),
            cond("$Record.B", "not_equals", None),
            cond("$Record.C", "less_than", 1),
            cond("$Record.D", "less_or_equal", 1.5),
            cond("$Record.E", "greater_than", Decimal("1E+3")),
            cond("$Record.F", "greater_or_equal", dt.date(2024, 1, 1)),
            cond("$Record.G", "contains", "needle"),
            cond("$Record.H", "starts_with", ref("$Record.Prefix")),
            cond("$Record.I", "ends_with", "z"),
            cond("$Record.J", "is_null"),
            cond("$Record.K", "is_blank", False),
            cond("$Record.L", "is_changed", True),
            cond("$Record.M", "was_set", None),
        ),
        "1 AND (2 OR 3) AND NOT 4 AND 5 AND 6 AND 7 AND 8 AND 9 AND 10 AND 11 AND 12 AND 13",
    )
    work = stage(
        "Work",
        background(
            "Compute",
            "compute",
            label="Compute",
            inputs={"x": ref("$Record.X"), "k": 7, "when": dt.datetime(2024, 5, 1, 8, 0)},
            outputs={"score": "f", "ok": "flag"},
            description="Runs first",
        ),
        background("Second", "compute", after=["Compute", "Check"]),
        interactive(
            "Review",
            "form",
            user("dana"),
            label="Review it",
            when=any_of(("Compute.Outputs.score", ">", 50), ("$Record.Vip", "equals", True)),
            done_when=evaluate("review_done", case=ref("$Record.Id"), limit=Decimal("2.50")),
            inputs={"score": ref("Compute.Outputs.score")},
            outputs={"t": "t"},
            context=ref("$Record.Id"),
            notify=Notification("Review {!$Record.Name}", "Body\nwith two lines"),
            description="A person decides",
        ),
        interactive("Unassigned", "form", None, when=evaluate("ready")),
        interactive("By_group", "form", group("G"), after="Review", context="$Record.Id"),
        interactive("By_queue", "form", queue("Q"), when=all_ops),
        interactive("By_reference", "form", assignee_from("{!$Record.Owner}"), notify="Hi"),
        external(
            "Check",
            "check_api",
            label="Call API",
            inputs={"id": ref("$Record.Id"), "n": None},
            outputs={"status": "t"},
            when=evaluate("api_ready", tries=3),
            timeout=12.5,
            description="Outbound",
        ),
        external("Quick", "check_api", timeout=5),
        label="Do the work",
        exit=custom(
            "1 OR 2", ("Review.Outputs.t", "equals", "done"), ("$Record.Closed", "is_null")
        ),
        next="Route",
        on_fault="Recovery",
        description="Where it happens",
    )
    route = decision(
        "Route",
        outcome("Again", [("Review.Outputs.t", "equals", "redo")], "Work", goto=True, label="Redo"),
        outcome("Skip", all_of(("$Record.Skip", "equals", True)), None),
        outcome("Done", [("Review.Outputs.t", "equals", "done")], "Finish"),
        default=Connector("Work", goto=True),
        default_label="Otherwise",
        label="Route it",
        description="Three ways",
    )
    o = orchestration(
        "Everything",
        stage("Intro", next=None),
        work,
        route,
        end("Finish", label="All done"),
        branches=[
            [
                stage(
                    "Recovery",
                    interactive("Fix", "form", user("olivia")),
                    exit=evaluate("recovered", by=ref("$User.Id")),
                    on_fault="Finish",  # made a Go To below: the builder takes a name only
                    next="Finish",
                )
            ],
            [decision("Lonely", outcome("Never", [("$Record.X", "is_null")]), default=None)],
        ],
        label="Every feature",
        description="Uses everything.\nTwo lines.",
        version=3,
        start=on_record(
            "Account",
            "create_or_update",
            custom(
                "1 OR (2 AND 3)",
                ("$Record.A", "=", 1),
                ("$Record.B", "!=", 2),
                ("$Record.C", "is_changed"),
            ),
            only_when_changed=True,
        ),
        variables=variables,
        screens=[screen("form", *fields, label="Form", description="All kinds"), screen("empty")],
        is_template=True,
    )
    recovery = replace(o.element("Recovery"), on_fault=Connector("Finish", goto=True))
    return replace(o, elements=tuple(recovery if e.name == "Recovery" else e for e in o.elements))


def sources() -> dict[str, Any]:
    found = {name: make() for name, make in EXAMPLES.items()}
    found["everything"] = everything()
    found["everything_first"] = replace(
        everything(), first="Work", is_template=False, source_template="Everything"
    )
    found["empty"] = Orchestration("Empty", ())
    return found


SOURCES = sources()


def plain(data: Any) -> bool:
    """Only JSON types, all the way down."""
    if isinstance(data, dict):
        return all(isinstance(k, str) and plain(v) for k, v in data.items())
    if isinstance(data, list):
        return all(plain(v) for v in data)
    return data is None or isinstance(data, str | int | float | bool)


# --- round trips ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SOURCES)
def test_dict_round_trip_is_exact_and_plain(name: str) -> None:
    original = SOURCES[name]
    data = to_dict(original)
    assert plain(data)
    assert data["schema_version"] == SCHEMA_VERSION
    assert list(data)[:2] == ["schema_version", "name"]
    assert_same(from_dict(data), original)
    assert_same(from_dict(json.loads(json.dumps(data))), original)


@pytest.mark.parametrize("name", SOURCES)
@pytest.mark.parametrize("format", ["yaml", "json"])
def test_text_round_trip(name: str, format: str) -> None:
    original = SOURCES[name]
    text = dumps(original, format)
    assert_same(loads(text, format), original)
    assert_same(loads(text), original)  # sniffed


@pytest.mark.parametrize("name", SOURCES)
@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".json"])
def test_file_round_trip(name: str, suffix: str, tmp_path: Any) -> None:
    original = SOURCES[name]
    path = save(original, tmp_path / f"{name}{suffix}")
    assert path.exists()
    assert_same(load(path), original)
    assert_same(load(str(path)), original)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left behind


def test_saved_json_is_json_and_yaml_keeps_dates(tmp_path: Any) -> None:
    o = everything()
    data = json.loads(save(o, tmp_path / "e.json").read_text())
    assert {"decimal": "1000.00"} in [v.get("default") for v in data["variables"]]
    assert {"date": "1999-12-31"} in [v.get("default") for v in data["variables"]]
    text = dumps(o)
    assert "default: 1999-12-31}" in text  # a native YAML date
    assert "default: {decimal: '1000.00'}" in text
    assert "default: {datetime: '2024-01-01T00:00:00+00:20:34'}" in text  # odd offset: tagged
    assert "\n  on: create_or_update\n" in text  # `on` stays a plain key
    data = yaml.safe_load(text)
    assert data["start"]["type"] == "record"


def test_yaml_reads_like_the_builder() -> None:
    text = dumps(EXAMPLES["case_escalation"]())
    assert "  - stage: Triage\n" in text
    assert "      - background: Score\n        flow: score_case\n" in text
    assert "        inputs: {amount: {ref: $Record.Amount}}\n" in text
    assert "        assignee: {queue: Support_Tier2}\n" in text
    assert "        after: [Score]\n" in text
    assert "\n  when: [[$Record.Severity, equals, High]]\n" in text
    assert "    default: Work\n" in text
    assert "goto" not in text and "Default Outcome" not in text  # defaults are left out
    onboarding = dumps(EXAMPLES["employee_onboarding"]())
    assert "        to: {goto: HR_Paperwork}\n" in onboarding


def test_docstring_example_loads() -> None:
    doc = serialize.__doc__ or ""
    example = doc.split("::\n\n", 1)[1].split("\n\n", 1)[0]
    o = loads(re.sub(r"(?m)^    ", "", example))
    assert o.name == "Case_Escalation" and o.start.on == "update"
    assert o.variable("amount").default == Decimal("1000.00")
    st_, review = o.find_step("Triage_review")
    assert review.assignee is not None and review.assignee.name == "Support_Tier2"
    assert review.entry.steps == ("Score",)
    assert st_.next == Connector("Amount_check") and st_.on_fault == Connector("Recovery")
    assert o.element("Amount_check").outcomes[0].conditions.items[0].operator == "greater_than"
    assert o.element("Done").name == "Done"


# --- hand-written forms ---------------------------------------------------------------------------


def test_condition_spellings_and_forms() -> None:
    text = """
name: Spellings
start: {type: record, object: Case, on: create, when: {logic: or, items: [
  [$Record.A, '>', 1],
  [$Record.B, Greater Or Equal, {ref: $Record.C}],
  [$Record.D, IsNull],
  {left: $Record.E, op: '<>', right: null},
  {left: {ref: $Record.F}, op: was_set},
  ['{!$Record.G}', EqualTo, 2.50],
]}}
elements: [{end: End}]
"""
    items = loads(text).start.conditions.items
    assert items == (
        Condition(ref("$Record.A"), Operator.GREATER_THAN, 1),
        Condition(ref("$Record.B"), Operator.GREATER_OR_EQUAL, ref("$Record.C")),
        Condition(ref("$Record.D"), Operator.IS_NULL, None),
        Condition(ref("$Record.E"), Operator.NOT_EQUALS, None),
        Condition(ref("$Record.F"), Operator.WAS_SET, None),
        Condition(ref("$Record.G"), Operator.EQUALS, 2.5),
    )
    assert loads(text).start.conditions.logic == "or"


def test_yaml_dialect_keeps_text_text_and_reads_numbers() -> None:
    o = loads(
        "name: X\nvariables: [{name: a, type: text, default: yes}, {name: b, type: number, "
        "default: 1e3}, {name: c, type: boolean, default: True}, {name: d, type: text, default: "
        "'2024-01-31'}]\nelements: []\n"
    )
    assert [v.default for v in o.variables] == ["yes", 1000.0, True, "2024-01-31"]


def test_shorthands_read_as_the_long_forms() -> None:
    o = loads(
        "name: X\nelements:\n  - stage: S\n    steps:\n      - background: A\n        flow: f\n"
        "        after: B\n      - background: B\n        flow: f\n        label:\n"
    )
    a, b = o.element("S").steps
    assert a.entry.steps == ("B",) and b.label == ""
    assert o.start == Autolaunched()
    assert loads("name: X\nstart: {type: autolaunched}\nelements: []").start.kind == "autolaunched"


# --- values: a property test ----------------------------------------------------------------------

_ZONES = st.sampled_from([None, dt.UTC, UTC2, dt.timezone(-dt.timedelta(hours=9, minutes=30)), ODD])
_REF = st.from_regex(
    r"\$?[A-Za-z_][A-Za-z0-9_]{0,8}(\.[A-Za-z_][A-Za-z0-9_]{0,8}){0,2}", fullmatch=True
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.decimals(allow_nan=False),
    st.text(),
    st.dates(),
    st.datetimes(timezones=_ZONES).map(lambda d: d.replace(fold=0)),  # fold is not kept
    _REF.map(ref),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def _conditions(draw: Any) -> Conditions:
    items = []
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(list(Operator)))
        unary = op in serialize._UNARY
        right = draw(st.sampled_from([None, True, False]) if unary else _VALUES)
        items.append(Condition(draw(_REF), op, right))
    logic = draw(st.sampled_from(["and", "or", "1 AND NOT (2 OR 3)", "weird ) text"]))
    return Conditions(tuple(items), logic)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_conditions(), _conditions(), st.lists(_VALUES, max_size=4), st.text())
def test_random_conditions_and_values_round_trip(
    when: Conditions, start: Conditions, values: list[Any], text: str
) -> None:
    o = orchestration(
        "P",
        stage(
            "S",
            background("A", "f", inputs={f"i{n}": v for n, v in enumerate(values)}, when=when),
            label=text,
        ),
        decision("D", outcome("O", when, "S", goto=True), default=None, description=text),
        start=on_record("Obj", when=start),
        variables=[var(f"v{n}", "any", default=v) for n, v in enumerate(values)],
    )
    assert_same(from_dict(to_dict(o)), o)
    assert_same(loads(dumps(o, "json")), o)
    assert_same(loads(dumps(o, "yaml")), o)


# --- errors ---------------------------------------------------------------------------------------


def case() -> dict[str, Any]:
    return to_dict(EXAMPLES["case_escalation"]())


def _set(path: str, value: Any) -> Any:
    """A mutation of the case_escalation dict: set (or with value=KeyError, delete) a path."""

    def mutate(data: dict[str, Any]) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        target: Any = data
        for p in parents:
            target = target[p]
        if value is KeyError:
            del target[last]
        else:
            target[last] = value

    return mutate


def _rename(path: str, old: str, new: str) -> Any:
    def mutate(data: dict[str, Any]) -> None:
        target: Any = data
        for p in path.split("."):
            target = target[int(p) if p.isdigit() else p]
        items = list(target.items())
        target.clear()
        target.update((new if k == old else k, v) for k, v in items)

    return mutate


T, R = (
    "elements[0] (stage 'Triage')",
    "elements[0] (stage 'Triage') steps[1] (interactive 'Triage_review')",
)
ERRORS = {
    "step kind": (
        _rename("elements.0.steps.0", "background", "bakground"),
        f"{T} steps[0]: field 'kind': expected one of background, interactive, external; "
        "got 'bakground'",
    ),
    "unknown field": (
        _set("elements.0.nxt", "Work"),
        f"unknown field 'nxt' in {T}; expected one of: stage, label, description, steps, exit, "
        "next, on_fault",
    ),
    "unknown top field": (
        _set("nmae", "x"),
        "unknown field 'nmae' in (top level); expected one of: ",
    ),
    "wrong type": (_set("elements.0.label", 3), f"{T}: field 'label': expected text; got 3"),
    "missing": (
        _set("elements.0.steps.0.flow", KeyError),
        f"{T} steps[0] (background 'Score'): missing required field 'flow' (text)",
    ),
    "missing name": (_set("name", KeyError), "(top level): missing required field 'name' (text)"),
    "null name": (_set("name", None), "(top level): missing required field 'name' (text)"),
    "elements not a list": (
        _set("elements", "Triage"),
        "(top level): field 'elements': expected a list; got 'Triage'",
    ),
    "element kind": (
        _rename("elements.1", "decision", "choice"),
        "elements[1]: field 'kind': expected one of stage, decision, end; got 'choice'",
    ),
    "two element kinds": (
        _set("elements.1.stage", "X"),
        "elements[1]: field 'kind': expected one of stage, decision, end; "
        "got 'stage' and 'decision'",
    ),
    "element not a mapping": (
        _set("elements.1", "Amount_check"),
        "elements[1]: expected a mapping; got 'Amount_check'",
    ),
    "trigger event": (
        _set("start.on", "updat"),
        "start: field 'on': expected one of create, update, create_or_update; got 'updat'",
    ),
    "start type": (
        _set("start.type", "manual"),
        "start: field 'type': expected record or autolaunched; got 'manual'",
    ),
    "autolaunched with object": (
        _set("start.type", "autolaunched"),
        "unknown field 'object' in start; expected one of: type",
    ),
    "field kind": (
        _set("screens.0.fields.0.kind", "dropdown"),
        "screens[0] (screen 'triage_form') fields[0] (field 'priority'): field 'kind': "
        "expected one "
        "of text, long_text, number, currency, checkbox, date, datetime, picklist, multi_select, "
        "email; got 'dropdown'",
    ),
    "variable type": (
        _set("variables", [{"name": "v", "type": "string"}]),
        "variables[0] (variable 'v'): field 'type': expected one of text, number, currency, "
        "boolean, "
        "date, datetime, record, any; got 'string'",
    ),
    "flag": (
        _set("screens.0.fields.0.required", "yes"),
        "(field 'priority'): field 'required': expected true or false; got 'yes'",
    ),
    "whole number": (
        _set("screens.2.fields.0.max_length", 2.5),
        "screens[2] (screen 'work_form') fields[0] (field 'resolution'): field 'max_length': "
        "expected a whole number; got 2.5",
    ),
    "field of another step kind": (
        _set("elements.0.steps.0.timeout", 10),
        f"unknown field 'timeout' in {T} steps[0] (background 'Score'); expected one of: "
        "background, flow, label, after, when, inputs, outputs, description",
    ),
    "number": (
        _set("elements.0.steps.0", {"external": "X", "action": "a", "timeout": "fast"}),
        f"{T} steps[0] (external 'X'): field 'timeout': expected a number; got 'fast'",
    ),
    "assignee kind": (
        _set("elements.0.steps.1.assignee", {"team": "X"}),
        f"unknown field 'team' in {R} assignee; expected one of: user, group, queue, reference",
    ),
    "assignee two kinds": (
        _set("elements.0.steps.1.assignee", {"user": "a", "queue": "b"}),
        f"{R}: field 'assignee': expected one of user, group, queue, reference with a name",
    ),
    "operator": (
        _set("elements.1.outcomes.0.when.0.1", "greter_than"),
        "elements[1] (decision 'Amount_check') outcomes[0] (outcome 'Large_amount') when items[0]: "
        "operator: unknown operator 'greter_than'; use one of equals, not_equals",
    ),
    "missing right": (
        _set("elements.1.outcomes.0.when.0", ["$Record.Amount", "greater_than"]),
        "outcomes[0] (outcome 'Large_amount') when items[0]: operator greater_than needs a right "
        "side: [left, greater_than, x]",
    ),
    "condition shape": (
        _set("elements.1.outcomes.0.when.0", "$Record.Amount > 1000"),
        "when items[0]: expected [left, operator, right], [left, operator] or a mapping with left, "
        "op and right; got '$Record.Amount > 1000'",
    ),
    "condition left": (
        _set("elements.1.outcomes.0.when.0.0", 5),
        "when items[0] left: expected a reference path; "
        "a condition's left side must be a reference, not 5",
    ),
    "bad ref": (
        _set("elements.0.steps.0.inputs.amount", {"ref": "$Record..Amount"}),
        f"{T} steps[0] (background 'Score'): field 'inputs'.amount: ref: expected a reference path",
    ),
    "bad decimal": (
        _set("elements.0.steps.0.inputs.amount", {"decimal": "12,50"}),
        "field 'inputs'.amount: decimal: expected text such as '12.50'; got '12,50'",
    ),
    "bad date": (
        _set("variables", [{"name": "d", "type": "date", "default": {"date": "31.01.2024"}}]),
        "variables[0] (variable 'd'): field 'default': date: expected text such as '2024-01-31'",
    ),
    "value mapping": (
        _set("elements.0.steps.0.inputs.amount", {"reference": "$Record.Amount"}),
        "field 'inputs'.amount: expected a literal (text, number, true/false, date, list) or a "
        "mapping with one key: ref, date, datetime, decimal, record; "
        "got a mapping with keys reference",
    ),
    "inputs not a mapping": (
        _set("elements.0.steps.0.inputs", ["amount"]),
        "field 'inputs': expected a mapping of names to values; got a list of 1 items",
    ),
    "outputs to a value": (
        _set("elements.0.steps.0.outputs", {"score": {"ref": "x"}}),
        "field 'outputs': expected a mapping of names to variable names",
    ),
    "after and when": (
        _set("elements.0.steps.1.when", [["$Record.X", "is_null"]]),
        f"{R}: fields 'after' and 'when' both given; expected one",
    ),
    "rule key": (
        _set("elements.0.exit", {"evalution": "f"}),
        f"unknown field 'evalution' in {T} exit; expected one of: logic, items, evaluation, inputs",
    ),
    "connector": (
        _set("elements.0.next", 3),
        f"{T}: field 'next': expected an element name or {{goto: Name}} (a Go To connector); got 3",
    ),
    "connector key": (
        _set("elements.0.next", {"to": "X"}),
        f"unknown field 'to' in {T} next; expected one of: goto",
    ),
    "outcome when": (
        _set("elements.1.outcomes.0.when", KeyError),
        "elements[1] (decision 'Amount_check') outcomes[0] (outcome 'Large_amount'): missing "
        "required field 'when' (conditions)",
    ),
    "outcomes": (
        _set("elements.1.outcomes", KeyError),
        "elements[1] (decision 'Amount_check'): missing required field 'outcomes' (a list)",
    ),
    "notify": (
        _set("elements.0.steps.1.notify.subjet", "x"),
        f"unknown field 'subjet' in {R} notify; expected one of: subject, body",
    ),
    "logic type": (
        _set("start.when", {"logic": 1, "items": []}),
        "start when: field 'logic': expected text; got 1",
    ),
    "condition without left": (
        _set("elements.1.outcomes.0.when.0", {"op": "is_null"}),
        "outcomes[0] (outcome 'Large_amount') when items[0]: missing required field 'left'",
    ),
    "schema version type": (
        _set("schema_version", "1"),
        "(top level): field 'schema_version': expected a whole number; got '1'",
    ),
}


@pytest.mark.parametrize("name", ERRORS)
def test_error_names_path_field_and_expectation(name: str) -> None:
    mutate, expected = ERRORS[name]
    data = case()
    mutate(data)
    before = copy.deepcopy(data)
    with pytest.raises(DefinitionError) as caught:
        from_dict(data)
    assert expected in str(caught.value)
    assert data == before  # reading changes nothing
    for text in (json.dumps(data), yaml.safe_dump(data)):  # the same message from text
        with pytest.raises(DefinitionError, match=re.escape(expected)):
            loads(text)


def test_errors_through_files_name_the_file(tmp_path: Any) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: X\nelements:\n  - stage: S\n    nxt: T\n")
    with pytest.raises(DefinitionError) as caught:
        load(path)
    assert str(caught.value) == (
        f"{path}: unknown field 'nxt' in elements[0] (stage 'S'); expected one of: stage, label, "
        "description, steps, exit, next, on_fault"
    )


@pytest.mark.parametrize(
    ("text", "format", "line", "column"),
    [
        ("name: X\nelements: [\n  {stage: S\n", "yaml", 4, 1),
        ("name: X\n  label: bad indent\n", "yaml", 2, 8),
        ('{\n  "name": "X",\n  "elements": [,]\n}', "json", 3, 16),
        ("name: X\nname: Y\nelements: []\n", "yaml", 2, 1),
        ("name: X\nvariables: [{name: d, default: 2024-02-30}]\nelements: []", "yaml", 2, 32),
    ],
)
def test_syntax_errors_give_line_and_column(text: str, format: str, line: int, column: int) -> None:
    with pytest.raises(DefinitionError) as caught:
        loads(text, format)
    error = caught.value
    assert (error.line, error.column) == (line, column)
    assert f"at line {line}, column {column}: " in str(error)
    assert f"invalid {format.upper()}" in str(error)


@pytest.mark.parametrize("tagged", ["!!binary aGk=", "!!set {a: null}"])
def test_yaml_only_types_are_not_values(tagged: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        loads(f"name: X\nvariables: [{{name: b, default: {tagged}}}]\nelements: []")
    assert str(caught.value).startswith(
        "variables[0] (variable 'b'): field 'default': expected a literal (text, number, "
        "true/false, date, list) or a mapping with one key"
    )


def test_duplicate_keys_are_errors() -> None:
    with pytest.raises(DefinitionError, match="duplicate key 'name'"):
        loads("name: X\nname: Y\nelements: []\n")
    with pytest.raises(DefinitionError, match="duplicate key 'name' in a JSON object"):
        loads('{"name": "X", "name": "Y", "elements": []}')


@pytest.mark.parametrize(
    ("text", "got"), [("", "null"), ("- a\n", "a list of 1 items"), ("3", "3")]
)
def test_not_a_mapping(text: str, got: str) -> None:
    with pytest.raises(
        DefinitionError, match=re.escape(f"(top level): expected a mapping; got {got}")
    ):
        loads(text)


def test_newer_schema_version_is_refused() -> None:
    data = case() | {"schema_version": 99}
    with pytest.raises(DefinitionError) as caught:
        from_dict(data)
    assert (
        str(caught.value)
        == "schema_version 99 is newer than this orchlab supports (1); upgrade orchlab"
    )


def test_missing_schema_version_is_version_0_upgraded_unchanged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = case()
    del data["schema_version"]
    assert_same(from_dict(data), EXAMPLES["case_escalation"]())
    assert MIGRATIONS[0](copy.deepcopy(data)) == data  # the shipped 0 -> 1 step is a no-op
    seen: list[dict[str, Any]] = []
    monkeypatch.setitem(MIGRATIONS, 0, lambda d: seen.append(d) or d)
    from_dict(data)
    assert seen == [data] and seen[0] is not data  # it ran, on a copy


def test_fake_v0_migration_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []

    def v0_to_v1(data: dict[str, Any]) -> dict[str, Any]:
        """The imagined version 0 called the elements `path`."""
        seen.append(data["schema_version"])
        data["elements"] = data.pop("path")
        return data

    monkeypatch.setitem(MIGRATIONS, 0, v0_to_v1)
    old = case()
    old["schema_version"] = 0
    old["path"] = old.pop("elements")
    before = copy.deepcopy(old)
    assert_same(from_dict(old), EXAMPLES["case_escalation"]())
    assert seen == [0]
    assert old == before  # the caller's dict is not upgraded in place
    monkeypatch.delitem(MIGRATIONS, 0)
    with pytest.raises(DefinitionError, match="schema_version 0 cannot be upgraded: no migration"):
        from_dict(old)


def test_migrations_chain_to_the_current_version(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a (pretend) version 3, a version-1 dict goes through 1 -> 2 -> 3 in order."""
    steps: list[tuple[int, int]] = []
    monkeypatch.setattr(serialize, "SCHEMA_VERSION", 3)
    for n in (1, 2):
        monkeypatch.setitem(
            MIGRATIONS, n, lambda d, n=n: steps.append((n, d["schema_version"])) or d
        )
    assert case()["schema_version"] == 3  # written as the current version
    assert_same(from_dict(case() | {"schema_version": 1}), EXAMPLES["case_escalation"]())
    assert steps == [(1, 1), (2, 2)]
    with pytest.raises(DefinitionError, match=r"schema_version 4 is newer .* \(3\); upgrade"):
        from_dict(case() | {"schema_version": 4})


def test_bad_formats_and_suffixes_change_nothing(tmp_path: Any) -> None:
    o = EXAMPLES["loan"]()
    with pytest.raises(
        DefinitionError, match=r"expected a \.yaml, \.yml or \.json suffix; got '\.txt'"
    ):
        save(o, tmp_path / "loan.txt")
    with pytest.raises(DefinitionError, match="format: expected yaml or json; got 'xml'"):
        dumps(o, "xml")
    with pytest.raises(DefinitionError, match="format: expected yaml or json; got 'toml'"):
        loads("name: X", "toml")
    assert list(tmp_path.iterdir()) == []


def test_unsavable_value_leaves_the_file_alone(tmp_path: Any) -> None:
    path = save(EXAMPLES["loan"](), tmp_path / "loan.yaml")
    before = path.read_text()
    bad = orchestration("Bad", stage("S", background("A", "f", inputs={"x": object()})))
    with pytest.raises(
        DefinitionError,
        match=re.escape(
            "elements[0] (stage 'S') steps[0] (background 'A'): field 'inputs'.x: "
            "cannot save a value of type object"
        ),
    ):
        save(bad, path)
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["loan.yaml"]


def test_unsavable_shapes_name_where(tmp_path: Any) -> None:
    twice = BackgroundStep("A", "f", inputs=(("x", 1), ("x", 2)))
    with pytest.raises(DefinitionError, match=r"field 'inputs': a name is mapped twice: x, x"):
        to_dict(orchestration("T", stage("S", twice)))
    odd = Orchestration("O", (replace(stage("S"), steps=("not a step",)),))  # type: ignore[arg-type]
    with pytest.raises(
        DefinitionError, match=re.escape("elements[0] (stage 'S') steps[0]: cannot")
    ):
        save(odd, tmp_path / "o.yaml")
    assert list(tmp_path.iterdir()) == []


def test_empty_element_mapping() -> None:
    with pytest.raises(DefinitionError, match=re.escape("elements[0]: field 'kind': expected one")):
        loads("name: X\nelements: [{}]")
    with pytest.raises(DefinitionError, match="got an empty mapping"):
        loads("name: X\nelements: [{}]")


def test_saved_files_get_ordinary_permissions_and_other_suffixes_are_sniffed(
    tmp_path: Any,
) -> None:
    import os

    umask = os.umask(0o022)
    os.umask(umask)
    path = save(EXAMPLES["loan"](), tmp_path / "loan.json")
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    copy_ = tmp_path / "loan.definition"
    copy_.write_text(path.read_text())
    assert_same(load(copy_), EXAMPLES["loan"]())
    copy_.write_text(dumps(EXAMPLES["loan"]()))
    assert_same(load(copy_), EXAMPLES["loan"]())


def test_definition_error_is_a_value_error() -> None:
    assert issubclass(DefinitionError, ValueError)


def test_examples_to_tmp(tmp_path: Any) -> None:
    """Each example saved as YAML starts with the version, fits in 100 columns and reads back."""
    for name, make in EXAMPLES.items():
        path = save(make(), tmp_path / f"{name}.yaml")
        text = path.read_text()
        assert text.startswith("schema_version: 1\nname: ")
        assert max(len(line) for line in text.splitlines()) <= 100
        assert_same(load(path), make())


def test_load_reports_every_mistake_at_once() -> None:
    text = """
name: Many_mistakes
inptus: {}
elements:
  - stage: One
    steps:
      - background: A
        flow: a
        inptus: {x: 1}
      - interactive: B
        screen: s
        assignee: {team: T}
  - decision: D
    outcomes:
      - {name: Big, when: [[amount, '>']], to: One}
    default: {goto: 3}
"""
    with pytest.raises(DefinitionError) as caught:
        loads(text)
    problems = caught.value.problems
    assert str(caught.value).startswith(f"{len(problems)} problems:")
    joined = "\n".join(problems)
    assert "unknown field 'inptus' in (top level)" in joined
    assert "unknown field 'inptus' in elements[0] (stage 'One') steps[0] (background 'A')" in joined
    assert "steps[1] (interactive 'B'): field 'assignee'" in joined
    assert "outcomes[0] (outcome 'Big') when items[0]: operator greater_than needs" in joined
    assert "elements[1] (decision 'D') default: field 'goto': expected text; got 3" in joined
    assert len(problems) >= 5


@pytest.mark.parametrize("end", [ol.end(), ol.end("End"), ol.end("End", label="Done")])
def test_an_end_with_the_default_name_round_trips(end) -> None:
    orch = ol.orchestration("With_end", ol.stage("One", ol.background("A", "a")), end)
    assert loads(dumps(orch)) == orch
    assert from_dict(to_dict(orch)) == orch
    assert to_dict(orch)["elements"][-1]["end"] == "End"


def test_kept_parts_round_trip_and_are_checked() -> None:
    from orchlab.definition.model import KeptPart, Orchestration, Stage

    kept = (KeptPart("stage:A", "<locationX>1</locationX>"), KeptPart("", "<x>é & 'q'</x>"))
    orch = Orchestration("Kept", (Stage("A"),), kept=kept)
    for format in ("yaml", "json"):
        assert serialize.loads(serialize.dumps(orch, format)) == orch
    assert "kept" not in serialize.to_dict(Orchestration("Plain", (Stage("A"),)))
    data = serialize.to_dict(orch)
    data["kept"][0]["where"] = "x"
    with pytest.raises(serialize.DefinitionError, match="unknown field 'where' in kept"):
        serialize.from_dict(data)
