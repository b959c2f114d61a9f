"""An engine started from a snapshot holds exactly what a replay of the whole log gives.

The snapshot is a cache of `State` at some seq S; the engine applies the open runs' rows after
S to it. Every few random calls, a copy of the live file gets a snapshot (the live state's, or
a stale one from 20 calls before) and an engine opened on it must equal, slot by slot and in
the same order, both a full replay and the live engine.
"""

from __future__ import annotations

import random
import warnings
from pathlib import Path
from typing import Any

import duckdb
import pytest

from orchlab import SYSTEM
from orchlab.engine import Engine, snapshot
from orchlab.engine.state import Run, StageRun, State, StepRun
from orchlab.simulate.demo import deploy_examples, setup_directory
from orchlab.store import HistoryStore
from tests.engine.helpers import random_call
from tests.engine.test_async_steps import _orchestration, _registry


def _slots(obj: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    out = {}
    for name in type(obj).__slots__:
        if name in skip:
            continue
        value = getattr(obj, name)
        out[name] = sorted(value) if isinstance(value, set) else value
    return out


def _step(step: StepRun) -> dict[str, Any]:
    return _slots(step)


def _stage(stage: StageRun) -> dict[str, Any]:
    d = _slots(stage, ("steps",))
    d["steps"] = [(name, _step(s)) for name, s in stage.steps.items()]
    return d


def _run(run: Run) -> dict[str, Any]:
    d = _slots(run, ("plan", "stage", "latest", "items"))
    d["plan"] = (run.plan.orch.name, run.plan.orch.version) if run.plan else None
    d["stage"] = _stage(run.stage) if run.stage is not None else None
    d["stage is latest"] = run.stage is None or run.latest[run.stage.name] is run.stage
    d["latest"] = [(name, _stage(s)) for name, s in run.latest.items()]
    d["items"] = [(i, _slots(w)) for i, w in run.items.items()]
    return d


def digest(state: State) -> dict[str, Any]:
    """Everything an engine keeps about its open runs, in the order it keeps it."""
    items: list[tuple[str, dict[str, Any]]] = [(i, _slots(w)) for i, w in state.work_items.items()]
    for run in state.runs.values():  # one object each, seen from the run and from the state
        assert all(state.work_items[i] is w for i, w in run.items.items())
    return {
        "runs": [(rid, _run(r)) for rid, r in state.runs.items()],
        "items": items,
        "record_runs": {rid: sorted(runs) for rid, runs in state.record_runs.items() if runs},
        "open_by_owner": sorted(state.open_by_owner.items()),
        "last_routed": sorted(state.last_routed.items()),
        "seq": state.seq,
    }


def _open(path: Path, clock, **kw: Any) -> Engine:
    return Engine(HistoryStore(path), clock=clock, **kw)


def _worked(path: Path, clock, seed: int, calls: int) -> Engine:
    """An engine on `path` after `calls` random calls in the demo world."""
    engine = _open(path, clock)
    setup_directory(engine)
    deploy_examples(engine)
    rng = random.Random(seed)
    for _ in range(calls):
        clock.advance(minutes=rng.randint(1, 300))
        random_call(engine, rng)
    return engine


def _closed(engine: Engine) -> dict[str, Any]:
    found = digest(engine.state)
    engine._snapshot_seq = engine.state.seq  # a test's reopen writes nothing on close
    engine.store.close()
    return found


@pytest.mark.parametrize("seed", [4, 5])
def test_a_snapshot_plus_the_rows_after_it_equals_a_replay(tmp_path: Path, clock, seed) -> None:
    rng = random.Random(seed)
    live = Engine(HistoryStore(tmp_path / "live.duckdb"), clock=clock)
    setup_directory(live)
    deploy_examples(live)
    stale: tuple[int, list[tuple[str, str]]] | None = None
    for step in range(1, 141):
        clock.advance(minutes=rng.randint(1, 600))
        random_call(live, rng)
        if step % 20:
            continue
        now = (live.state.seq, snapshot.encode(live.state))
        for name, (seq, docs) in (("fresh", now), ("stale", stale)) if stale else [("fresh", now)]:
            copy = live.store.snapshot(tmp_path / f"{name}{step}.duckdb")
            replayed = _closed(_open(copy, clock, snapshots=False))
            with HistoryStore(copy) as store:
                store.write_engine_snapshot(snapshot.FORMAT, seq, docs)
            reopened = _open(copy, clock)
            assert reopened._snapshot_seq == seq  # it did start from the snapshot
            restored = _closed(reopened)
            assert restored == replayed, f"{name} snapshot, after {step} calls"
            assert restored == digest(live.state), f"{name} snapshot vs live, after {step} calls"
        stale = now
    assert len(live.state.runs) >= 10 and live.state.work_items  # something was open to compare


def test_closing_writes_the_snapshot_and_the_next_engine_goes_on_from_it(
    tmp_path: Path, clock
) -> None:
    path = tmp_path / "h.duckdb"
    engine = _worked(path, clock, 9, 60)
    rng = random.Random(10)
    expected, seq = digest(engine.state), engine.state.seq
    engine.store.close()  # writes it
    with HistoryStore(path, read_only=True) as store:
        assert store.engine_snapshot(snapshot.FORMAT)[0] == seq
    again = _open(path, clock)
    assert again._snapshot_seq == seq and digest(again.state) == expected
    for _ in range(30):  # it goes on working, and its own close writes a newer snapshot
        clock.advance(minutes=rng.randint(1, 300))
        random_call(again, rng)
    expected, seq = digest(again.state), again.state.seq
    again.store.close()
    third = _open(path, clock)
    assert third._snapshot_seq == seq and digest(third.state) == expected
    assert _closed(third) == _closed(_open(path, clock, snapshots=False))


def test_a_snapshot_that_does_not_fit_the_file_is_ignored(tmp_path: Path, clock) -> None:
    path = tmp_path / "h.duckdb"
    engine = _worked(path, clock, 3, 40)
    expected, docs, seq = digest(engine.state), snapshot.encode(engine.state), engine.state.seq
    engine._snapshot_seq = seq
    engine.store.close()
    # Another format (an older orchlab's), and one ahead of the log (rows it saw were lost).
    for fmt, at in (("orchlab-state-0", seq), (snapshot.FORMAT, seq + 5)):
        with HistoryStore(path) as store:
            store.write_engine_snapshot(fmt, at, docs[:1])  # a wrong one: one run only
        reopened = _open(path, clock)
        assert reopened._snapshot_seq == 0, (fmt, at)
        assert _closed(reopened) == expected
    # A file from before snapshots (no table) opened read-only replays too.
    with HistoryStore(path) as store:
        store.con.execute("DROP TABLE engine_snapshot")
    with HistoryStore(path, read_only=True) as store:
        assert store.engine_snapshot(snapshot.FORMAT)[0] == 0
    reopened = _open(path, clock)  # read-write: the table is back, empty
    assert reopened._snapshot_seq == 0 and _closed(reopened) == expected


def test_an_async_step_waits_on_in_a_restored_engine(tmp_path: Path, clock) -> None:
    path = tmp_path / "h.duckdb"
    engine = Engine(HistoryStore(path), registry=_registry(), clock=clock)
    engine.add_user("olivia", admin=True, by=SYSTEM)
    engine.deploy(_orchestration(), by=SYSTEM)
    runs = [engine.start_run("Async", {"amount": a}, by=SYSTEM).id for a in (40, 500, 7)]
    engine.run_step(runs[2], "Slow", by=SYSTEM)
    engine.store.close()
    again = Engine(HistoryStore(path), registry=_registry(), clock=clock)
    assert again._snapshot_seq > 0
    assert again.state.runs[runs[0]].stage.steps["Slow"].pending == {"amount": 40}
    assert sorted((w.run_id, w.step) for w in again.waiting_steps()) == [
        (runs[0], "Slow"),
        (runs[1], "Slow"),
        (runs[2], "Transfer"),
    ]
    clock.advance(minutes=30)
    assert again.run_step(runs[1], "Slow", by=SYSTEM).outputs["Slow"] == {"ok": False}
    again.finish_step(runs[2], "Transfer", {"tx": "T"}, by="olivia")
    assert sorted(again.state.runs) == [runs[0]]  # the others completed and left memory
    again.store.close()
    third = Engine(HistoryStore(path), registry=_registry(), clock=clock)
    assert third._snapshot_seq > again._snapshot_seq and sorted(third.state.runs) == [runs[0]]
    assert [w.step for w in third.waiting_steps()] == ["Slow"]


def test_a_snapshot_that_cannot_be_written_costs_a_warning_not_the_close(
    tmp_path: Path, clock, monkeypatch
) -> None:
    path = tmp_path / "h.duckdb"
    engine = _open(path, clock)
    setup_directory(engine)
    deploy_examples(engine)
    engine.start_run("Loan", {"application_id": "A", "applicant": "Kim", "amount": 5}, by=SYSTEM)

    def fail(*args: Any) -> None:
        raise duckdb.IOException("disk full")

    monkeypatch.setattr(engine.store, "write_engine_snapshot", fail)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        engine.store.close()
    assert engine.store.closed and any("disk full" in str(w.message) for w in caught)
    reopened = _open(path, clock)
    assert reopened._snapshot_seq == 0 and len(reopened.state.runs) == 1  # replayed
    reopened.store.close()


def test_snapshots_false_neither_reads_nor_writes_one(tmp_path: Path, clock) -> None:
    path = tmp_path / "h.duckdb"
    engine = _open(path, clock, snapshots=False)
    setup_directory(engine)
    deploy_examples(engine)
    engine.start_run("Loan", {"application_id": "A", "applicant": "Kim", "amount": 5}, by=SYSTEM)
    engine.store.close()
    with HistoryStore(path, read_only=True) as store:
        assert store.engine_snapshot(snapshot.FORMAT)[0] == 0
        assert store.execute("SELECT count(*) FROM engine_snapshot") == [(0,)]


def test_the_engine_attached_last_writes_the_snapshot(tmp_path: Path, clock) -> None:
    path = tmp_path / "h.duckdb"
    store = HistoryStore(path)
    first = Engine(store, clock=clock)
    setup_directory(first)
    deploy_examples(first)
    first.start_run("Loan", {"application_id": "A", "applicant": "Kim", "amount": 5}, by=SYSTEM)
    second = Engine(store, clock=clock)  # holds what the file holds, and goes on from it
    second.start_run("Loan", {"application_id": "B", "applicant": "Lee", "amount": 7}, by=SYSTEM)
    expected = digest(second.state)
    store.close()
    reopened = _open(path, clock)
    assert reopened._snapshot_seq == second.state.seq and digest(reopened.state) == expected
    assert len(reopened.state.runs) == 2


@pytest.mark.parametrize(
    "damage",
    ["'not json'", "'[1, 2]'", "'{\"a\": 1}'", "replace(data, '\"Completed\"', '\"Nonsense\"')"],
)
def test_a_damaged_snapshot_warns_and_the_engine_replays(tmp_path: Path, clock, damage) -> None:
    path = tmp_path / "h.duckdb"
    engine = _worked(path, clock, 5, 40)
    expected = digest(engine.state)
    engine.store.close()
    with HistoryStore(path) as store:
        store.con.execute(f"UPDATE engine_snapshot SET data = {damage}")
    with pytest.warns(RuntimeWarning, match="engine_snapshot is unreadable"):
        reopened = _open(path, clock)
    assert reopened._snapshot_seq == 0 and _closed(reopened) == expected
