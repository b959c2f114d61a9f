"""Property-based tests: random valid orchestrations under random operations, and fuzz.

`EngineMachine` (hypothesis stateful) draws an orchestration (stages of background and
interactive steps for users, groups, pool and routed queues; entries on stage start, after
an earlier step, or on a variable's requirement; decisions that skip ahead), deploys it on a
history file and then applies random calls: starts, completions with valid values by someone
allowed, reassignments, record creations and updates, cancels, suspends, resumes, events and
clock advances. After every step `check_invariants` holds; now and then, and at the end, a
new Engine on a byte copy of the file must equal the live one (every open run, stage, step,
work item, variable and output).

The fuzz tests feed the condition-logic parser, `cond` and the YAML/JSON loaders arbitrary
text: the only errors allowed are orchlab's.

Bounded for the default run (ORCHLAB_HYPOTHESIS_EXAMPLES=40: the machine runs 8 programs of
up to 20 steps, each fuzz test 200 inputs, the logic parser 400); for more, e.g.
`ORCHLAB_HYPOTHESIS_EXAMPLES=500 .venv/bin/python -m pytest -q tests/reliability/test_properties.py
--hypothesis-show-statistics`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

import orchlab as ol
from orchlab import SYSTEM, Field, OrchlabError
from orchlab.definition.logic import parse_logic
from orchlab.definition.serialize import loads
from orchlab.engine import Engine, RunStatus
from orchlab.engine.clock import VirtualClock
from orchlab.store import HistoryStore
from tests.invariants import check_invariants, live_picture
from tests.reliability.world import PEOPLE, registry

EXAMPLES = int(os.environ.get("ORCHLAB_HYPOTHESIS_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES * 5, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

ASSIGNEES = [ol.user("asg"), ol.user("nm"), ol.group("G"), ol.queue("Q"), ol.queue("RQ")]


@st.composite
def orchestrations(draw: st.DrawFn) -> ol.Orchestration:
    """A valid orchestration: 1-4 stages of 1-3 steps, maybe a decision before a stage."""
    n = draw(st.integers(1, 4))
    elements: list[Any] = []
    for i in range(n):
        steps: list[Any] = []
        for j in range(draw(st.integers(1, 3))):
            name = f"S{i}_{j}"
            after = f"S{i}_{j - 1}" if j and draw(st.booleans()) else None
            when = None
            if after is None and draw(st.integers(0, 4)) == 0:  # waits for a variable
                when = [("flag", "equals", True)]
            if draw(st.booleans()):
                steps.append(ol.background(name, "noop", after=after, when=when))
            else:
                who = draw(st.sampled_from(ASSIGNEES))
                steps.append(ol.interactive(name, "F", who, after=after, when=when))
        if i + 1 < n and i and draw(st.booleans()):  # a decision that may skip a stage ahead
            target = f"Stage{draw(st.integers(i + 1, n - 1))}"
            elements.append(
                ol.decision(f"D{i}", ol.outcome(f"Big{i}", [("amount", ">", 50)], target))
            )
        elements.append(ol.stage(f"Stage{i}", *steps))
    return ol.orchestration(
        "Random",
        *elements,
        variables=[ol.var("amount", "number", input=True), ol.var("flag", "boolean", input=True)],
        screens=[
            ol.screen("F", Field("note", "text", "Note", required=True), Field("ok", "checkbox"))
        ],
    )


def _copy(src: Path, dest: Path) -> None:
    for p in src.parent.glob(src.name + "*"):
        shutil.copyfile(p, dest.with_name(p.name.replace(src.name, dest.name, 1)))


class EngineMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="orchlab-prop-"))
        self.path = self.dir / "h.duckdb"
        self.clock = VirtualClock(dt.datetime(2026, 3, 2, 9, 0))
        self.engine = Engine(HistoryStore(self.path), registry=registry(), clock=self.clock)
        self.records: list[str] = []
        self.copies = 0

    @initialize(orch=orchestrations())
    def deploy(self, orch: ol.Orchestration) -> None:
        e = self.engine
        with e.batch():
            for u in PEOPLE:
                e.add_user(u, admin=u == "adm", by=SYSTEM)
            e.add_group("G", ["gm"], by=SYSTEM)
            e.add_queue("Q", ["qm", "nm"], by=SYSTEM)
            e.add_queue("RQ", ["ro1", "ro2"], routing="round_robin", by=SYSTEM)
            e.deploy(orch, by=SYSTEM)

    def _runs(self) -> list[str]:
        return sorted(self.engine.state.runs)

    @rule(amount=st.integers(0, 100), flag=st.booleans())
    def start(self, amount: int, flag: bool) -> None:
        self.engine.start_run("Random", {"amount": amount, "flag": flag}, by="asg")

    @precondition(lambda self: self.engine.work_items())
    @rule(data=st.data(), note=st.text(min_size=1, max_size=20).filter(str.strip))
    def complete(self, data: st.DataObject, note: str) -> None:
        e = self.engine
        item = data.draw(st.sampled_from(e.work_items()))
        allowed = [u for u in (*PEOPLE, SYSTEM) if e.can_act(item, u)]
        who = data.draw(st.sampled_from(allowed))
        values = {"note": note, "ok": data.draw(st.booleans())}
        e.complete_work_item(item.id, who, values)
        assert e.state.work_items.get(item.id) is None or item.status == "Completed"

    @precondition(lambda self: self.engine.work_items())
    @rule(data=st.data(), to=st.sampled_from(["asg", "nm", "G", "Q", "RQ"]))
    def reassign(self, data: st.DataObject, to: str) -> None:
        item = data.draw(st.sampled_from(self.engine.work_items()))
        self.engine.reassign_work_item(item.id, to, by="adm")

    @precondition(lambda self: self.engine.state.runs)
    @rule(data=st.data(), action=st.sampled_from(["cancel", "suspend", "resume", "event"]))
    def admin(self, data: st.DataObject, action: str) -> None:
        e = self.engine
        run = e.state.runs[data.draw(st.sampled_from(self._runs()))]
        if action == "cancel":
            e.cancel_run(run.id, by="adm")
        elif action == "event":
            e.publish_event(run.id, by="gm")
        elif action == "suspend" and run.status is RunStatus.IN_PROGRESS:
            e.suspend_run(run.id, by="adm")
        elif action == "resume" and run.status in (RunStatus.SUSPENDED, RunStatus.ERROR):
            e.resume_run(run.id, by="adm")
        else:  # the wrong state: refused, and nothing changes
            before = e.store.max_seq()
            try:
                (e.suspend_run if action == "suspend" else e.resume_run)(run.id, by="adm")
            except OrchlabError:
                pass
            else:
                raise AssertionError(f"{action} of a {run.status} run was accepted")
            assert e.store.max_seq() == before

    @rule(data=st.data(), value=st.one_of(st.integers(-5, 5), st.text(max_size=5), st.none()))
    def record(self, data: st.DataObject, value: Any) -> None:
        e = self.engine
        if self.records and data.draw(st.booleans()):
            rid = data.draw(st.sampled_from(self.records))
            e.update_record(rid, {"Value": value, "At": Decimal(1)}, by="nm")
            assert e.record(rid)["Value"] == value
        else:
            self.records.append(e.create_record("Thing", {"Value": value}, by="nm").id)

    @rule(minutes=st.integers(1, 600))
    def advance(self, minutes: int) -> None:
        self.clock.advance(minutes=minutes)

    @rule()
    def reopen_equals_live(self) -> None:
        """A new engine on a byte copy of the file equals the live one."""
        self.copies += 1
        copy = self.dir / f"copy{self.copies}.duckdb"
        _copy(self.path, copy)
        again = Engine(HistoryStore(copy), registry=registry(), clock=self.clock)
        try:
            live = {r: live_picture(run) for r, run in self.engine.state.runs.items()}
            assert {r: live_picture(run) for r, run in again.state.runs.items()} == live
            assert [(w.id, w.status, w.assignee, w.owner) for w in again.work_items()] == [
                (w.id, w.status, w.assignee, w.owner) for w in self.engine.work_items()
            ]
            for rid in self.records:
                assert again.record(rid) == self.engine.record(rid)
            check_invariants(again)
        finally:
            again.store.close()

    @invariant()
    def invariants_hold(self) -> None:
        check_invariants(self.engine)

    def teardown(self) -> None:
        try:
            if self.engine.plans:  # deployed: the last state must reopen equal too
                self.reopen_equals_live()
        finally:
            self.engine.store.close()
            shutil.rmtree(self.dir, ignore_errors=True)


EngineMachine.TestCase.settings = settings(
    max_examples=max(4, EXAMPLES // 5),
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestEngineMachine = EngineMachine.TestCase


# --- fuzz -----------------------------------------------------------------------------------------

LOGIC_TOKENS = [*"0123456789 ()", "AND ", "OR ", "NOT "]
LOGIC_TEXT = st.lists(st.sampled_from(LOGIC_TOKENS), max_size=25).map("".join) | st.text(
    max_size=40
)


@settings(FUZZ, max_examples=EXAMPLES * 10)
@given(LOGIC_TEXT)
def test_condition_logic_parser_raises_only_logic_errors(text: str) -> None:
    with contextlib.suppress(OrchlabError):  # anything else fails the test
        parse_logic(text)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=20,
)  # fmt: skip
NAMES = st.sampled_from(
    [
        "name",
        "elements",
        "stage",
        "steps",
        "background",
        "interactive",
        "decision",
        "end",
        "flow",
        "screen",
        "kind",
        "next",
        "outcomes",
        "variables",
        "screens",
        "fields",
        "version",
        "schema_version",
        "when",
    ]
)
DEFINITION_LIKE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8) | NAMES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NAMES, inner, max_size=4),
    max_leaves=25,
)


def _only_orchlab_errors(text: str, format: str) -> None:
    with contextlib.suppress(OrchlabError):  # anything else fails the test
        loads(text, format)


@FUZZ
@given(st.text(max_size=200))
def test_yaml_loader_on_any_text(text: str) -> None:
    _only_orchlab_errors(text, "yaml")


@FUZZ
@given(st.text(max_size=200))
def test_json_loader_on_any_text(text: str) -> None:
    _only_orchlab_errors(text, "json")


@FUZZ
@given(DEFINITION_LIKE | JSON)
def test_loaders_on_definition_shaped_data(data: Any) -> None:
    import yaml

    _only_orchlab_errors(json.dumps(data), "json")
    _only_orchlab_errors(yaml.safe_dump(data), "yaml")


@FUZZ
@given(st.text(max_size=30), st.text(max_size=12) | st.integers(), JSON)
def test_cond_raises_only_condition_errors(left: str, operator: Any, right: Any) -> None:
    with contextlib.suppress(OrchlabError):  # anything else fails the test
        ol.cond(left, operator, right)
