"""Kill -9 at random moments: every acknowledged change survives and runs continue."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import orchlab.definition.examples  # noqa: F401
from orchlab import SYSTEM
from orchlab.engine import Engine
from orchlab.store import HistoryStore, SchemaVersionError, StoreLocked

WORKER = Path(__file__).with_name("crash_worker.py")
ROOT = Path(__file__).resolve().parents[2]


def _spawn(path: Path, seed: int) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(path), str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


# Random SIGKILLs of a writer: tests/reliability/test_crash.py (hundreds per run).


def test_reopen_continues_a_waiting_run(tmp_path: Path, clock) -> None:
    from decimal import Decimal

    from orchlab.simulate.demo import deploy_examples, setup_directory

    path = tmp_path / "h.duckdb"
    engine = Engine(HistoryStore(path), clock=clock)
    setup_directory(engine)
    deploy_examples(engine)
    run = engine.start_run(
        "Loan", {"application_id": "A", "applicant": "Lee", "amount": Decimal("100")}, by=SYSTEM
    )
    (item,) = engine.work_items()
    engine.store.close()
    again = Engine(HistoryStore(path), clock=clock)
    (same,) = again.work_items("sam")
    assert same.id == item.id and again.run(run.id).stage.name == "Intake"
    assert again.run(run.id).outputs["Check_credit"] == run.outputs["Check_credit"]
    again.complete_work_item(same.id, "sam", {"documents_complete": True})
    assert [w.step_name for w in again.work_items()] == ["Approve_loan"]
    # The new run continues the id sequence rather than reusing R000001.
    other = again.start_run(
        "Loan", {"application_id": "B", "applicant": "Kim", "amount": Decimal("5")}, by=SYSTEM
    )
    assert other.id == "R000002"


def test_second_writer_gets_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "locked.duckdb"
    store = HistoryStore(path)
    code = (
        "import sys\n"
        "from orchlab.store import HistoryStore, StoreLocked\n"
        "try:\n"
        f"    HistoryStore({str(path)!r})\n"
        "except StoreLocked as exc:\n"
        "    print(exc); sys.exit(3)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 3, out.stderr
    assert "open for writing by process" in out.stdout and "only one writer" in out.stdout
    assert "Could not set lock" not in out.stdout
    store.close()
    assert StoreLocked.__mro__[1].__name__ == "StoreError"


def test_snapshot_can_be_read_while_the_engine_writes(tmp_path: Path, engine: Engine) -> None:
    path = tmp_path / "live.duckdb"
    live = HistoryStore(path)
    live.append([], [("INSERT INTO users VALUES ('x', 'X', 'x@example.com', false)", [])])
    snap = live.snapshot(tmp_path / "snap.duckdb")
    reader = HistoryStore(snap, read_only=True)
    assert reader.execute("SELECT username FROM users") == [("x",)]
    reader.close()
    live.close()


def test_unknown_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    store = HistoryStore(path)
    store.append([], [("UPDATE orchlab_meta SET value = '99' WHERE key = 'schema_version'", [])])
    store.close()
    with pytest.raises(SchemaVersionError, match="schema_version is 99; this orchlab reads"):
        HistoryStore(path)


def test_analysts_open_a_copy_while_another_process_writes(tmp_path: Path) -> None:
    from orchlab.store import open_snapshot

    path = tmp_path / "busy.duckdb"
    proc = _spawn(path, 99)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "READY"
        for _ in range(5):
            assert proc.stdout.readline().startswith("ACK")
        copy = open_snapshot(path, tmp_path / "copy.duckdb")
        runs = copy.execute("SELECT count(*) FROM runs")[0][0]
        assert runs >= 1
        assert copy.sql("SELECT kind FROM log LIMIT 1").shape == (1, 1)  # pandas works
        copy.close()
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]


def test_a_failed_commit_changes_nothing_in_memory(engine: Engine, monkeypatch) -> None:
    from decimal import Decimal

    run = engine.start_run(
        "Loan", {"application_id": "A", "applicant": "Kim", "amount": Decimal(5)}, by=SYSTEM
    )
    (item,) = engine.work_items()
    real_append = engine.store.append

    def failing(rows, extra=()):
        raise OSError("disk full")

    monkeypatch.setattr(engine.store, "append", failing)
    with pytest.raises(OSError, match="disk full"):
        engine.complete_work_item(item.id, "sam", {"documents_complete": True})
    monkeypatch.setattr(engine.store, "append", real_append)
    same = engine.run(run.id)  # rebuilt from what is stored
    assert same.stage.name == "Intake"
    assert engine.work_item(item.id).status == "Assigned"
    assert engine.state.seq == engine.store.max_seq()
    engine.complete_work_item(item.id, "sam", {"documents_complete": True})
    assert engine.run(run.id).stage.name == "Approval"
    with pytest.raises(OSError):
        monkeypatch.setattr(engine.store, "append", failing)
        engine.start_run(
            "Loan", {"application_id": "B", "applicant": "Lee", "amount": Decimal(5)}, by=SYSTEM
        )
    monkeypatch.setattr(engine.store, "append", real_append)
    assert sorted(engine.state.runs) == [run.id]  # the failed start left nothing behind
    assert (
        engine.start_run(
            "Loan", {"application_id": "C", "applicant": "Ngo", "amount": Decimal(5)}, by=SYSTEM
        ).id
        == "R000002"
    )


def test_records_come_back_after_a_restart(tmp_path: Path, clock) -> None:
    from orchlab.simulate.demo import deploy_examples, setup_directory

    path = tmp_path / "records.duckdb"
    engine = Engine(HistoryStore(path), clock=clock)
    setup_directory(engine)
    deploy_examples(engine)
    rid = engine.create_record(
        "Case", {"Severity": "Low", "Amount": 10, "Owner": "ada"}, by=SYSTEM
    ).id
    engine.store.close()
    again = Engine(HistoryStore(path), clock=clock)
    assert again.record(rid) == {"Id": rid, "Severity": "Low", "Amount": 10, "Owner": "ada"}
    again.update_record(
        rid, {"Severity": "High"}, by=SYSTEM
    )  # the trigger compares with the stored prior
    (run,) = again.state.runs.values()
    assert run.record_id == rid and run.prior == {"Severity": "Low", "Amount": 10, "Owner": "ada"}
    assert again.create_record("Case", {}, by=SYSTEM).id != rid  # ids go on after the stored ones
