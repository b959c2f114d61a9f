"""Writing metadata: load -> save -> load is lossless, native orchestrations come back equal."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchlab.definition.conditions import Condition, Conditions, Operator
from orchlab.definition.examples import EXAMPLES
from orchlab.definition.model import (
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
from orchlab.definition.ref import Ref
from orchlab.definition.serialize import dumps as to_yaml
from orchlab.definition.serialize import loads as from_yaml
from orchlab.definition.values import ValueType
from orchlab.errors import MetadataError
from orchlab.salesforce import dumps, load, loads, save
from orchlab.salesforce.xml_read import parse_bytes
from tests.salesforce.conftest import CORPUS_FILES, FIXTURES, SHORT_NAMES, corpus

EVERY_FILE = [*CORPUS_FILES, FIXTURES / "Claims_Synthetic.flow-meta.xml"]
IDS = [*SHORT_NAMES, "Claims_Synthetic"]
# Corpus files the writer reproduces byte for byte (the legacy ones list ActionInput__RecordId
# at another place among the inputs; the orchestration read back is equal all the same).
IDENTICAL = ["Recruiting_Orchestration_v6", "AIM_IncidentOrchestration"]
IDENTICAL += ["Handle_User_Deactivation_auto", "Test_Orchestration", "sampleautoorch"]


@pytest.mark.parametrize("path", EVERY_FILE, ids=IDS)
def test_load_save_load_gives_an_equal_orchestration(path: Path, tmp_path: Path) -> None:
    orch = load(path).orchestration
    written = save(orch, tmp_path)
    assert written.name == f"{orch.name}.flow-meta.xml"
    again = load(written).orchestration
    assert again == orch
    assert load(save(again, tmp_path)).orchestration == orch  # and stays so
    assert from_yaml(to_yaml(orch)) == orch  # kept parts travel through YAML too


@pytest.mark.parametrize("short", IDENTICAL)
def test_saving_an_unchanged_file_reproduces_it(short: str) -> None:
    path = corpus(short)
    assert dumps(load(path).orchestration) == path.read_text(encoding="utf-8")


def test_a_saved_file_keeps_the_kept_aside_parts(tmp_path: Path) -> None:
    orch = load(FIXTURES / "Claims_Synthetic.flow-meta.xml").orchestration
    text = save(orch, tmp_path).read_text()
    for snippet in (
        "<runInMode>SystemModeWithoutSharing</runInMode>",
        "<expression>TODAY() - {!$Record.CreatedDate}</expression>",
        "<actionType>stepApproval</actionType>",
        "<exitActionType>EvaluationFlow</exitActionType>",
        "<assigneeType>Resource</assigneeType>",
        "<stringValue>backup.manager@example.com</stringValue>",
        "<formulaExpression>IF({!$Record.Amount__c} &gt; 1000, &quot;High&quot;, &quot;Low&quot;)",
        "<dataType>Picklist</dataType>",
        "<stringValue>FREE_FORM_CANVAS</stringValue>",
        "<apiVersion>63.0</apiVersion>",
        "<status>Active</status>",
    ):
        assert snippet in text, snippet
    # the stand-in variables are written as what they are, not as variables
    assert text.count("<name>fxDaysOpen</name>") == 1 and "<name>cMaxAmount</name>" in text
    assert "<stringValue>AUTO_LAYOUT_CANVAS</stringValue>" not in text  # the file's value won


def test_a_changed_model_wins_over_stale_kept_parts() -> None:
    orch = load(corpus("Orchestration_Case")).orchestration
    stage = orch.stages[0]
    first = stage.steps[0]
    background = BackgroundStep(first.name, "Some_Flow", entry=first.entry)
    stage = replace(stage, steps=(background, *stage.steps[1:]))
    changed = replace(orch, elements=(stage, *orch.elements[1:]))
    text = dumps(changed)
    assert text.count("<actionType>createWorkItem</actionType>") == 1  # only the other step's
    assert "<actionType>stepBackground</actionType>" in text


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_example_saved_as_metadata_loads_back_equal(name: str, tmp_path: Path) -> None:
    orch = EXAMPLES[name]()
    path = save(orch, tmp_path / f"{orch.name}.flow-meta.xml")
    loaded, warnings, _ = load(path)
    assert loaded == orch and warnings == []
    assert load(save(loaded, tmp_path)).orchestration == orch


def test_saved_metadata_is_well_formed_and_in_xsd_order(tmp_path: Path) -> None:
    text = dumps(EXAMPLES["loan"]())
    root = parse_bytes(text.encode())
    tags = [c.tag for c in root.children]
    assert tags == sorted(tags)  # top-level elements are alphabetical
    stage = root.first("orchestratedStages")
    head = [c.tag for c in stage.children][:4]
    assert head == ["name", "label", "locationX", "locationY"]
    step = stage.first("stageSteps")
    rest = [c.tag for c in step.children][1:]
    assert step.children[0].tag == "name" and rest == sorted(rest)
    assert root.value("processType") == "Orchestrator" and root.value("status") == "Draft"
    assert (
        dumps(EXAMPLES["loan"](), api_version="64.0", status="Active").count("<apiVersion>64.0<")
        == 1
    )


def test_the_file_name_must_be_the_api_name(tmp_path: Path) -> None:
    orch = EXAMPLES["loan"]()
    with pytest.raises(MetadataError, match=r"must be Loan\.flow-meta\.xml"):
        save(orch, tmp_path / "Other.flow-meta.xml")
    with pytest.raises(MetadataError, match=r"ending in \.flow-meta\.xml or \.flow"):
        save(orch, tmp_path / "Loan.xml")
    assert save(orch, tmp_path / "Loan.flow").exists()  # the metadata API format
    assert load(tmp_path / "Loan.flow").orchestration == orch


def test_what_metadata_cannot_hold_is_refused_before_writing(tmp_path: Path) -> None:
    orch = EXAMPLES["case_escalation"]()
    start = RecordTrigger(
        "Case", conditions=Conditions((Condition(Ref("Triage.Status"), "equals", "x"),))
    )
    bad = Orchestration(orch.name, orch.elements, start=start)
    with pytest.raises(MetadataError, match=r"start condition 1 .* a start filter reads a field"):
        save(bad, tmp_path)
    control = Orchestration("Ctl", (Stage("A", label="bell \x07"),))
    with pytest.raises(MetadataError, match="XML cannot carry"):
        save(control, tmp_path)
    assert list(tmp_path.iterdir()) == []


# --- generated orchestrations ---------------------------------------------------------------

_TEXT = st.text(
    st.characters(exclude_categories=("Cs", "Cc", "Cn"), include_characters="\n\t\r"),
    max_size=12,
)
_IDENT = st.from_regex(r"[A-Z][a-z0-9]{0,5}(_[a-z0-9]{1,3})?", fullmatch=True)
_FIELDS = st.from_regex(r"\$Record\.[A-Z][a-z]{0,4}(__c)?", fullmatch=True)
_LITERAL = st.one_of(
    _TEXT,
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: f == f),
    st.dates(),
    st.datetimes(timezones=st.sampled_from([None, dt.UTC])),
)


@st.composite
def _value(draw: st.DrawFn, refs: list[str]) -> object:
    return draw(st.one_of(st.none(), _LITERAL, st.sampled_from(refs).map(Ref)))


@st.composite
def _conditions(draw: st.DrawFn, refs: list[str], min_size: int = 1) -> Conditions:
    items = []
    for _ in range(draw(st.integers(min_size, 3))):
        op = draw(st.sampled_from(list(Operator)))
        right = draw(_value(refs))
        unary = op in (Operator.IS_NULL, Operator.IS_BLANK, Operator.IS_CHANGED, Operator.WAS_SET)
        if unary and right is True:
            right = None  # "is null true" reads back as plain "is null"
        items.append(Condition(Ref(draw(st.sampled_from(refs))), op, right))
    logic = draw(st.sampled_from(["and", "or", "1 AND NOT(2 OR 3)", "(1 OR 2) AND 3"]))
    return Conditions(tuple(items), logic)


def _label(draw: st.DrawFn, name: str) -> str:
    return draw(st.one_of(st.just(""), st.just(name), _TEXT.filter(bool)))


def _pairs(draw: st.DrawFn, values: st.SearchStrategy) -> tuple[tuple[str, object], ...]:
    return tuple((n, draw(values)) for n in draw(st.lists(_IDENT, max_size=2, unique=True)))


class _World:
    """What one generated orchestration draws from: names handed out once, references."""

    def __init__(self, draw: st.DrawFn, refs: list[str], elements: list[str]) -> None:
        self.draw, self.refs, self.elements = draw, refs, elements

    def connector(self) -> Connector | None:
        target = self.draw(st.none() | st.sampled_from(self.elements))
        return None if target is None else Connector(target, self.draw(st.booleans()))

    def rule(self, default: object) -> object:
        draw = self.draw
        kind = draw(st.sampled_from(["default", "requirements", "evaluation"]))
        if kind == "requirements":
            return Requirements(draw(_conditions(self.refs)))
        if kind == "evaluation":
            return EvaluationFlow(draw(_IDENT), _pairs(draw, _value(self.refs)))
        return default

    def step(self, name: str, earlier: list[str]) -> object:
        draw = self.draw
        entry = self.rule(OnStageStart())
        if earlier and draw(st.booleans()):
            entry = AfterSteps(
                tuple(draw(st.lists(st.sampled_from(earlier), min_size=1, unique=True)))
            )
        common = {"label": _label(draw, name), "entry": entry, "description": draw(_TEXT)}
        common |= {"inputs": _pairs(draw, _value(self.refs)), "outputs": _pairs(draw, _IDENT)}
        kind = draw(st.sampled_from(["background", "interactive", "external"]))
        if kind == "background":
            return BackgroundStep(name, draw(_IDENT), **common)
        if kind == "external":
            timeout = draw(st.sampled_from([30.0, 5.0, 12.5]))
            return ExternalStep(name, draw(_IDENT), timeout=timeout, **common)
        who = draw(st.none() | st.sampled_from(list(AssigneeKind)))
        assignee = None
        if who is AssigneeKind.REFERENCE:
            assignee = Assignee(who, draw(st.sampled_from(self.refs)))
        elif who is not None:
            assignee = Assignee(who, draw(_TEXT.filter(lambda t: t == t.strip() and t)))
        return InteractiveStep(
            name,
            draw(_IDENT),
            assignee,
            exit=self.rule(FormSubmitted()),
            context_record=draw(st.none() | st.sampled_from(self.refs).map(Ref) | _IDENT),
            notification=draw(st.none() | st.builds(Notification, _TEXT, _TEXT)),
            **common,
        )

    def stage(self, name: str, step_names: list[str]) -> Stage:
        steps = tuple(self.step(n, step_names[:i]) for i, n in enumerate(step_names))
        exit_ = self.rule(AllStepsComplete())
        label, description = _label(self.draw, name), self.draw(_TEXT)
        return Stage(name, steps, label, exit_, self.connector(), self.connector(), description)

    def decision(self, name: str, outcome_names: list[str]) -> Decision:
        draw = self.draw
        outcomes = tuple(
            Outcome(o, draw(_conditions(self.refs, 0)), self.connector(), _label(draw, o))
            for o in outcome_names
        )
        default_label, label, description = draw(_TEXT), _label(draw, name), draw(_TEXT)
        return Decision(name, outcomes, self.connector(), default_label, label, description)


_VARIABLES = st.builds(
    Variable,
    _IDENT,
    st.sampled_from(list(ValueType)),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.none() | _IDENT,
    st.none() | _LITERAL | st.just(Decimal("12.50")) | st.just({"Name": "x"}),
    _TEXT,
)
_FORM_FIELDS = st.builds(Field, _IDENT, st.sampled_from(list(FieldKind)), _TEXT)
_SCREENS = st.builds(Screen, _IDENT, st.lists(_FORM_FIELDS, max_size=2).map(tuple), _TEXT)


@st.composite
def orchestrations(draw: st.DrawFn) -> Orchestration:
    """Native orchestrations: every element, rule, value kind and orchlab-only field."""
    names = iter(draw(st.lists(_IDENT, min_size=40, max_size=40, unique_by=str.casefold)))
    variables = [replace(v, name=next(names)) for v in draw(st.lists(_VARIABLES, max_size=2))]
    refs = [*draw(st.lists(_FIELDS, min_size=1, max_size=3)), *(v.name for v in variables)]
    counts = [draw(st.integers(1, 3)), draw(st.integers(0, 2)), draw(st.integers(0, 1))]
    element_names = [next(names) for _ in range(sum(counts))]
    world = _World(draw, refs, element_names)
    stages, decisions = element_names[: counts[0]], element_names[counts[0] : sum(counts[:2])]
    elements: list = [
        world.stage(n, [next(names) for _ in range(draw(st.integers(0, 3)))]) for n in stages
    ]
    elements += [
        world.decision(n, [next(names) for _ in range(draw(st.integers(0, 2)))]) for n in decisions
    ]
    elements += [End(n, _label(draw, n)) for n in element_names[sum(counts[:2]) :]]
    record_fields = [r for r in refs if r.startswith("$Record.")]
    trigger = st.builds(
        RecordTrigger,
        _IDENT,
        st.sampled_from(list(TriggerEvent)),
        st.none() | _conditions(record_fields),
        st.booleans(),
    )
    name = next(names)
    return Orchestration(
        name,
        tuple(draw(st.permutations(elements))),
        _label(draw, name),
        description=draw(_TEXT),
        version=draw(st.integers(1, 5)),
        start=draw(st.just(Autolaunched()) | trigger),
        variables=tuple(variables),
        screens=tuple(draw(st.lists(_SCREENS, max_size=2, unique_by=lambda s: s.name))),
        first=draw(st.sampled_from(element_names)),
        is_template=draw(st.booleans()),
        source_template=draw(st.none() | _IDENT),
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(orchestrations())
def test_generated_orchestrations_survive_metadata(orch: Orchestration) -> None:
    text = dumps(orch)
    back = loads(text, orch.name).orchestration
    assert back == orch
    assert dumps(back) == text  # and writing is stable


@pytest.mark.parametrize(
    ("anchor", "owner"),
    [
        ("<processType>", ""),
        ("<object>Claim__c</object>", "start"),
        ("<name>Payout</name>", "stage:Payout"),
        ("<name>Score</name>", "step:Score"),
        ("<name>Route</name>", "decision:Route"),
        ("<name>Large</name>", "outcome:Large"),
        ("<name>region</name>", "variable:region"),
    ],
)
def test_an_element_from_a_newer_api_is_kept_where_it_was(anchor: str, owner: str) -> None:
    text = (FIXTURES / "Claims_Synthetic.flow-meta.xml").read_text()
    future = "<futureSetting><mode>fast</mode></futureSetting>"
    assert text.count(anchor) == 1
    text = text.replace(anchor, future + anchor)
    orch, warnings, _ = loads(text, "Claims_Synthetic")
    assert [p.owner for p in orch.kept if "futureSetting" in p.text] == [owner]
    assert any("<futureSetting>" in w.field for w in warnings)
    written = dumps(orch)
    root = parse_bytes(written.encode())
    holders = [n for n in root.walk() if n.first("futureSetting") is not None]
    assert len(holders) == 1
    holder = holders[0]
    where = (
        holder.tag if owner in ("", "start") else f"{owner.split(':')[0]}:{holder.value('name')}"
    )
    assert where == {"": "Flow"}.get(owner, owner)
    assert loads(written, "Claims_Synthetic").orchestration == orch
