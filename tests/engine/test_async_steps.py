"""Asynchronous steps: started in one call, finished by a worker or a callback in a later one."""

from __future__ import annotations

from pathlib import Path

import pytest

import orchlab as ol
from orchlab import SYSTEM
from orchlab.engine import Engine, RunStatus
from orchlab.errors import EngineError, PermissionDenied
from orchlab.store import HistoryStore

CALLS: list[dict[str, object]] = []


def _registry() -> ol.Registry:
    registry = ol.Registry()

    @registry.flow("slow_check", inputs={"amount": float}, outputs={"ok": bool})
    def slow_check(amount: float) -> dict[str, bool]:
        CALLS.append({"amount": amount})
        return {"ok": amount < 100}

    @registry.action("bank", inputs={"amount": float}, outputs={"tx": str})
    def bank(amount: float) -> dict[str, str]:
        return {"tx": f"TX{int(amount)}"}

    registry.flow("notify", inputs={}, outputs={})(lambda: {})
    return registry


def _orchestration() -> ol.Orchestration:
    return ol.orchestration(
        "Async",
        ol.stage(
            "Check",
            ol.background(
                "Slow", "slow_check", inputs={"amount": ol.ref("amount")}, asynchronous=True
            ),
            ol.background("After", "notify", after="Slow"),
            on_fault="Recovery",
        ),
        ol.decision(
            "Ok",
            ol.outcome("Yes", ol.cond("Slow.Outputs.ok", "equals", True), "Pay"),
            default=None,
        ),
        ol.stage(
            "Pay",
            ol.external("Transfer", "bank", inputs={"amount": ol.ref("amount")}, asynchronous=True),
        ),
        branches=[[ol.stage("Recovery", ol.background("Note", "notify"))]],
        variables=[ol.var("amount", "number", input=True)],
    )


@pytest.fixture
def engine(clock) -> Engine:
    e = Engine(HistoryStore(), registry=_registry(), clock=clock)
    e.add_user("olivia", admin=True, by=SYSTEM)
    e.add_user("sam", by=SYSTEM)
    e.deploy(_orchestration(), by=SYSTEM)
    return e


def test_an_async_step_waits_and_a_worker_finishes_it(engine: Engine, clock) -> None:
    CALLS.clear()
    run = engine.start_run("Async", {"amount": 40}, by="sam")
    step = run.stage.steps["Slow"]
    assert run.status is RunStatus.IN_PROGRESS and str(step.status) == "InProgress"
    assert CALLS == []  # nothing ran inside the call that started it
    assert [(w.run_id, w.step) for w in engine.waiting_steps()] == [(run.id, "Slow")]
    assert str(run.stage.steps["After"].status) == "NotStarted"  # chained: waits for Slow
    assert run.picture().step_status["Slow"] == "InProgress"
    clock.advance(minutes=30)
    engine.run_step(run.id, "Slow", by=SYSTEM)
    assert CALLS == [{"amount": 40}]  # the inputs it started with
    assert run.outputs["Slow"] == {"ok": True}
    assert run.stage.name == "Pay" and [w.step for w in engine.waiting_steps()] == ["Transfer"]
    engine.finish_step(run.id, "Transfer", {"tx": "TX-ext"}, by="olivia")
    assert run.status is RunStatus.COMPLETED
    rows = engine.store.execute(
        "SELECT name, status, duration FROM step_runs WHERE orchestration_instance_id = ? "
        "ORDER BY start_date, name",
        [run.id],
    )
    assert ("Slow", "Completed", 1800.0) in rows and ("Transfer", "Completed", 0.0) in rows


def test_a_callback_error_takes_the_fault_path(engine: Engine) -> None:
    run = engine.start_run("Async", {"amount": 40}, by="sam")
    engine.finish_step(run.id, "Slow", error="the bureau did not answer", by=SYSTEM)
    assert run.status is RunStatus.COMPLETED  # via Recovery
    failed = engine.store.execute(
        "SELECT status, error FROM step_runs WHERE name = 'Slow' AND orchestration_instance_id = ?",
        [run.id],
    )
    assert failed == [("Error", "step 'Slow': the bureau did not answer")]
    assert "Recovery" in run.path


def test_only_admins_and_the_system_finish_steps(engine: Engine) -> None:
    run = engine.start_run("Async", {"amount": 40}, by="sam")
    with pytest.raises(PermissionDenied, match="may not finish asynchronous steps"):
        engine.run_step(run.id, "Slow", by="sam")
    with pytest.raises(EngineError, match=r"step 'After' of run .* is not an asynchronous step"):
        engine.run_step(run.id, "After", by=SYSTEM)
    with pytest.raises(EngineError, match=r"outputs\.ok: nan is not a finite number"):
        engine.finish_step(run.id, "Slow", {"ok": float("nan")}, by=SYSTEM)
    assert [w.step for w in engine.waiting_steps()] == ["Slow"]  # refused: nothing changed


def test_a_waiting_step_survives_a_restart_with_its_inputs(tmp_path: Path, clock) -> None:
    CALLS.clear()
    path = tmp_path / "h.duckdb"
    first = Engine(HistoryStore(path), registry=_registry(), clock=clock)
    first.add_user("sam", by=SYSTEM)
    first.deploy(_orchestration(), by=SYSTEM)
    run_id = first.start_run("Async", {"amount": 500}, by="sam").id
    first.store.close()
    again = Engine(HistoryStore(path), registry=_registry(), clock=clock)
    assert [(w.run_id, w.step) for w in again.waiting_steps()] == [(run_id, "Slow")]
    run = again.run_step(run_id, "Slow", by=SYSTEM)
    assert CALLS == [{"amount": 500}] and run.status is RunStatus.COMPLETED  # declined: ended
    again.store.close()


def test_canceling_a_run_stops_its_waiting_step(engine: Engine) -> None:
    run = engine.start_run("Async", {"amount": 40}, by="sam")
    engine.cancel_run(run.id, by="olivia")
    assert engine.waiting_steps() == []
    assert engine.store.execute(
        "SELECT status FROM step_runs WHERE name = 'Slow' AND orchestration_instance_id = ?",
        [run.id],
    ) == [("Canceled",)]


def test_asynchronous_round_trips_in_files(tmp_path: Path) -> None:
    orch = _orchestration()
    assert ol.load(ol.save(orch, tmp_path / "async.yaml")) == orch
    assert "async: true" in (tmp_path / "async.yaml").read_text()
