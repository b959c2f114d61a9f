"""When a run re-checks its conditions, as in Salesforce (shared/reference/salesforce.md §4.1).

- A change to a record a requirement reads re-checks the run: its triggering record, and a
  record a record variable holds (read as it is now).
- Such a change does not call evaluation flows; step completions and orchestration events do.
"""

from __future__ import annotations

import pytest

import orchlab as ol
from orchlab import SYSTEM
from orchlab.engine import Engine, RunStatus

CALLS: list[str] = []


@pytest.fixture
def registry() -> ol.Registry:
    r = ol.Registry()

    @r.evaluation("ready_to_close", inputs={"case": str})
    def ready_to_close(case: str) -> bool:
        CALLS.append(case)
        return len(CALLS) >= 3  # says yes the third time it is asked

    r.flow("noop", inputs={}, outputs={})(lambda: {})
    return r


def _engine(registry: ol.Registry, orch: ol.Orchestration, clock) -> Engine:
    engine = Engine(registry=registry, clock=clock)
    engine.add_user("ada", by=SYSTEM)
    engine.deploy(orch, by=SYSTEM)
    return engine


def test_a_record_change_rechecks_requirements_but_calls_no_evaluation_flow(
    registry: ol.Registry, clock
) -> None:
    CALLS.clear()
    orch = ol.orchestration(
        "Close_when",
        ol.stage(
            "Wait",
            ol.background("Tick", "noop"),
            exit=ol.evaluate("ready_to_close", case=ol.ref("$Record.Id")),
        ),
        start=ol.on_record("Case", "create"),
    )
    engine = _engine(registry, orch, clock)
    rid = engine.create_record("Case", {"Status": "New"}, by=SYSTEM).id
    (run,) = engine.state.runs.values()
    assert [rid] == CALLS  # asked once when the stage's step completed
    for status in ("Working", "Escalated", "Solved"):
        assert engine.update_record(rid, {"Status": status}, by=SYSTEM).rechecked == (run.id,)
    assert [rid] == CALLS  # record changes re-check requirements only: the flow was not called
    engine.publish_event(run.id, by="ada")
    engine.publish_event(run.id, by="ada")
    assert [rid] * 3 == CALLS and run.status is RunStatus.COMPLETED


def test_a_change_to_a_record_a_variable_holds_moves_the_run(registry, clock) -> None:
    orch = ol.orchestration(
        "Sign",
        ol.stage(
            "Wait_for_signature",
            ol.background("File", "noop", when=[("contract.Signed", "equals", True)]),
        ),
        variables=[ol.var("contract", "record", input=True)],
    )
    engine = _engine(registry, orch, clock)
    contract = engine.create_record("Contract", {"Signed": False}, by=SYSTEM).id
    other = engine.create_record("Contract", {"Signed": False}, by=SYSTEM).id
    run = engine.start_run("Sign", {"contract": {"Id": contract, "Signed": False}}, by="ada")
    assert str(run.stage.steps["File"].status) == "NotStarted"
    assert engine.update_record(other, {"Signed": True}, by=SYSTEM).rechecked == ()
    assert run.status is RunStatus.IN_PROGRESS  # another record: nothing to re-check
    change = engine.update_record(contract, {"Signed": True}, by=SYSTEM)
    assert change.rechecked == (run.id,)
    assert run.status is RunStatus.COMPLETED  # read as it is now, not as it was passed in


def test_the_held_record_is_read_live_after_a_restart(registry, clock, tmp_path) -> None:
    from orchlab.store import HistoryStore

    orch = ol.orchestration(
        "Sign",
        ol.stage(
            "Wait_for_signature",
            ol.background("File", "noop", when=[("contract.Signed", "equals", True)]),
        ),
        variables=[ol.var("contract", "record", input=True)],
    )
    path = tmp_path / "h.duckdb"
    engine = Engine(HistoryStore(path), registry=registry, clock=clock)
    engine.add_user("ada", by=SYSTEM)
    engine.deploy(orch, by=SYSTEM)
    contract = engine.create_record("Contract", {"Signed": False}, by=SYSTEM).id
    run_id = engine.start_run("Sign", {"contract": {"Id": contract}}, by="ada").id
    engine.store.close()
    again = Engine(HistoryStore(path), registry=registry, clock=clock)
    assert again.update_record(contract, {"Signed": True}, by=SYSTEM).rechecked == (run_id,)
    assert again.run(run_id).status is RunStatus.COMPLETED
    again.store.close()
