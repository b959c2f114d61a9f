"""The current-state tables equal a rebuild from the log, and the old views' definitions.

Random work in the demo world, folded into the tables at random moments; at the end the
tables must equal (1) one fold of the whole log (`store.rebuild()`), and (2) what the
version-1 views computed from the same log, column by column, where a column kept its meaning.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import duckdb
import pytest

from orchlab.engine import Engine
from orchlab.simulate.demo import deploy_examples, setup_directory
from orchlab.store import HistoryStore
from orchlab.store.schema import PUBLIC, SCHEMA_VERSION
from tests.engine.helpers import random_call
from tests.store import v1_schema

# Columns whose meaning did not change from the version-1 views (new ones are checked below).
SAME = {
    "runs": "id orchestration_name orchestration_version status current_stage triggering_record "
    "triggering_record_type created_date completed_date error last_modified_date source",
    "stage_runs": "id orchestration_instance_id orchestration_name name label position status "
    "start_date end_date sequence",
    "step_runs": "id orchestration_instance_id stage_instance_id orchestration_name "
    "orchestration_stage_name name label step_type status start_date end_date error outputs",
    "work_items": "id orchestration_instance_id orchestration_name step_instance_id step_name "
    "label screen_flow status assignee_id assignee_type owner_id related_record_id created_date "
    "assigned_date completed_date completed_by",
    "records": "id object fields created_date last_modified_date",
    "outbox": 'seq timestamp orchestration_instance_id work_item_id "to" subject body',
}


def _rows(store: HistoryStore, table: str, cols: str = "*") -> list[tuple[Any, ...]]:
    listed = ", ".join(f"CAST({c} AS VARCHAR)" for c in cols.split()) if cols != "*" else "*"
    found = store.execute(f"SELECT {listed} FROM {table}")
    return sorted(found, key=lambda r: tuple("" if v is None else str(v) for v in r))


def _everything(store: HistoryStore) -> dict[str, list[tuple[Any, ...]]]:
    return {t: _rows(store, t) for t in PUBLIC}


def _busy_history(path: Path, clock, seed: int, calls: int, fold: float) -> Engine:
    rng = random.Random(seed)
    engine = Engine(HistoryStore(path), clock=clock)
    setup_directory(engine)
    deploy_examples(engine)
    for _ in range(calls):
        clock.advance(minutes=rng.randint(1, 600))
        random_call(engine, rng)
        if rng.random() < fold:
            engine.store.refresh()
    return engine


@pytest.mark.parametrize(("seed", "fold"), [(1, 0.3), (2, 0.05), (3, 1.0)])
def test_folding_in_pieces_equals_one_fold(tmp_path: Path, clock, seed: int, fold: float) -> None:
    engine = _busy_history(tmp_path / "h.duckdb", clock, seed, 150, fold)
    store = engine.store
    pieces = _everything(store)
    assert len(pieces["runs"]) > 20 and len(pieces["work_items"]) > 20
    statuses = {r[3] for r in pieces["runs"]}
    assert {"Completed", "InProgress"} <= statuses, statuses
    store.rebuild()
    assert _everything(store) == pieces


def test_the_tables_agree_with_the_version_1_views(tmp_path: Path, clock) -> None:
    engine = _busy_history(tmp_path / "h.duckdb", clock, 4, 150, 0.2)
    store = engine.store
    for name, sql in v1_schema.VIEWS.items():  # the old views, under other names, same log
        store.con.execute(f"CREATE OR REPLACE TEMP VIEW v1_{name} AS {sql}")
    for table, cols in SAME.items():
        assert _rows(store, table, cols) == _rows(store, f"v1_{table}", cols), table
    # New columns: durations from the dates; who started a run and changed a record.
    assert store.execute(
        "SELECT count(*) FROM runs WHERE duration IS DISTINCT FROM "
        "date_diff('second', created_date, completed_date)"
    ) == [(0,)]
    bad = store.execute(
        "SELECT count(*) FROM runs r JOIN log l ON l.instance_id = r.id "
        "AND l.kind = 'StartInstance' WHERE r.created_by IS DISTINCT FROM l.actor"
    )
    assert bad == [(0,)]


def test_open_halves_hold_only_what_can_still_move(tmp_path: Path, clock) -> None:
    engine = _busy_history(tmp_path / "h.duckdb", clock, 5, 120, 0.5)
    store = engine.store
    store.refresh()
    open_ids = {r[0] for r in store.execute("SELECT id FROM runs_open")}
    assert open_ids == set(engine.state.runs)
    assert store.execute(f"SELECT count(*) FROM runs_closed WHERE status NOT IN {CLOSED}") == [(0,)]
    for table in ("stage_runs", "step_runs", "work_items"):
        parts = {r[0] for r in store.execute(f"SELECT orchestration_instance_id FROM {table}_open")}
        assert parts <= open_ids, table
    logged = {r[0] for r in store.execute("SELECT DISTINCT instance_id FROM log_open")}
    assert logged == open_ids
    rows = store.execute("SELECT count(*) FROM log_open")[0][0]
    everything = store.execute("SELECT count(*) FROM log WHERE instance_id IN "
                               "(SELECT id FROM runs_open)")[0][0]  # fmt: skip
    assert rows == everything > 0


CLOSED = "('Completed', 'Canceled')"


def test_a_version_1_file_is_upgraded_when_opened(tmp_path: Path, clock) -> None:
    source = _busy_history(tmp_path / "v2.duckdb", clock, 6, 80, 0.0)
    expected = _everything(source.store)
    open_before = {r.id: str(r.status) for r in source.state.runs.values()}
    old = tmp_path / "v1.duckdb"
    con = duckdb.connect(str(old))
    for statement in v1_schema.DDL():
        con.execute(statement)
    con.execute("INSERT INTO orchlab_meta VALUES ('schema_version', '1')")
    con.close()
    source.store.con.execute(f"ATTACH '{old}' AS v1")
    for table in ("log", "definitions", "definition_steps", "users", "directory_groups", "members"):
        source.store.con.execute(f"INSERT INTO v1.{table} SELECT * FROM {table}")
    source.store.con.execute("DETACH v1")
    source.store.close()
    con = duckdb.connect(str(old))
    assert con.execute("SELECT count(*) FROM runs").fetchall()[0][0] == len(expected["runs"])
    con.close()

    upgraded = HistoryStore(old)
    assert upgraded.execute("SELECT value FROM orchlab_meta WHERE key = 'schema_version'") == [
        (str(SCHEMA_VERSION),)
    ]
    assert _everything(upgraded) == expected
    upgraded.close()
    reopened = Engine(HistoryStore(old), clock=clock)
    assert {r.id: str(r.status) for r in reopened.state.runs.values()} == open_before
    reopened.store.close()


def test_one_run_is_read_without_the_rest_of_the_log(tmp_path: Path, clock) -> None:
    engine = _busy_history(tmp_path / "h.duckdb", clock, 7, 60, 0.5)
    store = engine.store
    (run_id,) = store.execute("SELECT min(id) FROM runs WHERE status = 'Completed'")[0]
    rows = store.run_rows(run_id)
    assert [r.seq for r in rows] == [
        r[0]
        for r in store.execute("SELECT seq FROM log WHERE instance_id = ? ORDER BY seq", [run_id])
    ]
    assert rows[0].kind == "StartInstance" and rows[-1].kind in ("EndInstance", "CancelInstance")
    plan = store.con.execute(
        "EXPLAIN ANALYZE SELECT * FROM log WHERE seq BETWEEN ? AND ? AND instance_id = ?",
        [rows[0].seq, rows[-1].seq, run_id],
    ).fetchall()
    assert "seq" in str(plan)  # the seq range is pushed into the scan (zone maps skip the rest)


def test_a_version_3_file_gets_its_step_durations_when_opened(tmp_path: Path, clock) -> None:
    path = tmp_path / "v3.duckdb"
    source = _busy_history(path, clock, 6, 120, 0.3)
    source.store.refresh()
    expected = _everything(source.store)
    assert expected["step_durations"]
    source.store.close()
    con = duckdb.connect(str(path))
    con.execute("DROP TABLE step_durations")
    con.execute("UPDATE orchlab_meta SET value = '3' WHERE key = 'schema_version'")
    con.close()
    upgraded = HistoryStore(path)
    assert upgraded.execute("SELECT value FROM orchlab_meta WHERE key = 'schema_version'") == [
        (str(SCHEMA_VERSION),)
    ]
    assert _everything(upgraded) == expected
    upgraded.close()


def test_a_version_2_file_is_upgraded_when_opened(tmp_path: Path, clock) -> None:
    path = tmp_path / "v2.duckdb"
    source = _busy_history(path, clock, 8, 120, 0.3)
    source.store.refresh()
    expected = _everything(source.store)
    assert any(r for r in expected["step_runs"] if r is not None)
    source.store.close()
    # What a version-2 file held: no run_path, stage and step runs without the columns of 3.
    con = duckdb.connect(str(path))
    con.execute("DROP TABLE run_path")
    con.execute("DROP VIEW stage_runs")
    for half in ("open", "closed"):
        for column in ("busy_seconds", "person_seconds"):
            con.execute(f"ALTER TABLE stage_runs_{half} DROP COLUMN {column}")
    staged = [r[0] for r in con.execute("DESCRIBE stage_runs_open").fetchall()]
    staged.remove("first_seq")
    con.execute(
        f"CREATE VIEW stage_runs AS SELECT {', '.join(staged)} FROM stage_runs_open "
        f"UNION ALL SELECT {', '.join(staged)} FROM stage_runs_closed"
    )
    con.execute("DROP VIEW step_runs")
    added = ("orchestration_version", "previous_step_name", "previous_end_date", "next_end_date")
    for half in ("open", "closed"):
        for column in added:
            con.execute(f"ALTER TABLE step_runs_{half} DROP COLUMN {column}")
    kept = [r[0] for r in con.execute("DESCRIBE step_runs_open").fetchall()]
    con.execute(
        f"CREATE VIEW step_runs AS SELECT {', '.join(kept)} FROM step_runs_open "
        f"UNION ALL SELECT {', '.join(kept)} FROM step_runs_closed"
    )
    con.execute("UPDATE orchlab_meta SET value = '2' WHERE key = 'schema_version'")
    con.close()

    upgraded = HistoryStore(path)
    assert upgraded.execute("SELECT value FROM orchlab_meta WHERE key = 'schema_version'") == [
        (str(SCHEMA_VERSION),)
    ]
    assert _everything(upgraded) == expected
    upgraded.rebuild()  # and the upgraded tables are what a fold of the log gives
    assert _everything(upgraded) == expected
    upgraded.close()


def test_each_completed_step_knows_the_previous_and_next_one(tmp_path: Path, clock) -> None:
    engine = _busy_history(tmp_path / "h.duckdb", clock, 9, 150, 0.3)
    store = engine.store
    store.refresh()
    by_run: dict[str, list[tuple[Any, ...]]] = {}
    for row in store.execute(
        "SELECT orchestration_instance_id, end_date, start_date, name, id, previous_step_name, "
        "previous_end_date, next_end_date, status, orchestration_version FROM step_runs"
    ):
        by_run.setdefault(row[0], []).append(row)
    versions = dict(store.execute("SELECT id, orchestration_version FROM runs"))
    chains = 0
    for run, rows in by_run.items():
        assert {r[9] for r in rows} == {versions[run]}
        done = sorted((r for r in rows if r[8] == "Completed"), key=lambda r: r[1:5])
        for i, r in enumerate(done):
            before = done[i - 1] if i else None
            after = done[i + 1] if i + 1 < len(done) else None
            assert r[5] == (before[3] if before else None)
            assert r[6] == (before[1] if before else None)
            assert r[7] == (after[1] if after else None)
        chains += len(done) > 2
        assert all(r[5:8] == (None, None, None) for r in rows if r[8] != "Completed")
    assert chains > 5
