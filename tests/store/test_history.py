"""The history store: schema, views over the log, atomic appends."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from orchlab import SYSTEM
from orchlab.engine import Engine
from orchlab.errors import StoreError
from orchlab.store import SCHEMA_VERSION, HistoryStore
from orchlab.store.row import Row, dumps, loads
from orchlab.store.schema import PUBLIC, TABLES


def test_a_new_store_has_every_table_and_view() -> None:
    store = HistoryStore()
    names = {n for (n,) in store.execute("SELECT table_name FROM information_schema.tables")}
    assert set(TABLES) | set(PUBLIC) <= names
    version = store.execute("SELECT value FROM orchlab_meta WHERE key = 'schema_version'")
    assert version == [(str(SCHEMA_VERSION),)]


def test_an_append_is_all_or_nothing() -> None:
    store = HistoryStore()
    row = Row(
        1, dt.datetime(2026, 1, 1), "CreateRecord", payload={"id": "X", "object": "A", "fields": {}}
    )
    with pytest.raises(Exception, match="no_such_table"):
        store.append([row], [("INSERT INTO no_such_table VALUES (1)", [])])
    assert store.execute("SELECT count(*) FROM log") == [(0,)]
    store.append([row])
    assert store.rows() == [row]


def test_payloads_keep_their_python_types() -> None:
    payload = {"d": dt.date(2026, 1, 2), "t": dt.datetime(2026, 1, 2, 3, 4), "m": Decimal("1.10"),
               "n": None, "l": [1, "a"]}  # fmt: skip
    assert loads(dumps(payload)) == payload
    assert isinstance(loads(dumps(payload))["m"], Decimal)


def test_big_batches_go_through_arrow_and_read_back_equal() -> None:
    store = HistoryStore()
    when = dt.datetime(2026, 1, 1, 9)
    rows = [
        Row(i, when, "UpdateRecord", context=f"R{i}", duration=float(i),
            payload={"id": f"R{i}", "object": "Case", "fields": {"n": i}})
        for i in range(1, 201)
    ]  # fmt: skip
    store.append(rows)
    assert store.rows() == rows
    assert store.execute("SELECT count(*), max(fields->>'$.n') FROM records") == [(200, "99")]


def test_step_runs_list_steps_that_have_not_started(engine: Engine) -> None:
    engine.start_run(
        "Loan", {"application_id": "A", "applicant": "Kim", "amount": Decimal(5)}, by=SYSTEM
    )
    rows = engine.store.execute(
        "SELECT name, status FROM step_runs WHERE orchestration_stage_name = 'Intake' ORDER BY id"
    )
    assert rows == [("Check_credit", "Completed"), ("Collect_documents", "InProgress")]
    engine.create_record("Installation__c", {"Name": "Roof", "Status": "Completed"}, by=SYSTEM)
    assert engine.store.execute("SELECT count(*) FROM runs") == [(1,)]  # only on update


def test_views_answer_salesforce_style_questions(engine: Engine, clock) -> None:
    run = engine.start_run(
        "Loan", {"application_id": "A", "applicant": "Kim", "amount": Decimal(5)}, by=SYSTEM
    )
    clock.advance(hours=5)
    (item,) = engine.work_items()
    engine.complete_work_item(item.id, "sam", {"documents_complete": True})
    runs = engine.store.sql("SELECT * FROM runs")
    assert runs.loc[0, "status"] == "InProgress" and runs.loc[0, "current_stage"] == "Approval"
    items = engine.store.sql("SELECT * FROM work_items ORDER BY id")
    assert list(items.status) == ["Completed", "Assigned"]
    assert items.loc[0, "completed_by"] == "sam" and items.loc[1, "owner_id"] == "uma"
    stage = engine.store.sql("SELECT name, status, position FROM stage_runs ORDER BY id")
    assert stage.to_dict("records") == [
        {"name": "Intake", "status": "Completed", "position": 1},
        {"name": "Approval", "status": "InProgress", "position": 3},  # the third stage
    ]
    durations = engine.store.execute(
        "SELECT duration FROM log WHERE kind = 'EndWorkItem' AND instance_id = ?", [run.id]
    )
    assert durations == [(5 * 3600.0,)]


def test_stage_runs_sequence_orders_entries_where_ids_and_dates_cannot() -> None:
    import orchlab as ol

    # A loop that goes round 11 times in one call: same timestamp, ids sort wrongly as text.
    rounds = ol.decision(
        "More",
        ol.outcome("Stop", ol.cond("n", ">=", 11), None),
        default=ol.goto("Again"),
    )
    registry = ol.Registry()
    registry.flow("tick", inputs={"n": float}, outputs={"n": float})(lambda n: {"n": n + 1})
    loop = ol.orchestration(
        "Loop",
        ol.stage(
            "Again", ol.background("Tick", "tick", inputs={"n": ol.ref("n")}, outputs={"n": "n"})
        ),
        rounds,
        variables=[ol.var("n", "number", default=0)],
    )
    engine = Engine(registry=registry)
    engine.deploy(loop, by=SYSTEM)
    run = engine.start_run("Loop", by=SYSTEM)
    assert engine.run(run.id).status == "Completed"
    by_sequence = [
        r[0] for r in engine.store.execute("SELECT id FROM stage_runs ORDER BY sequence")
    ]
    assert by_sequence == [f"{run.id}-S{i}" for i in range(1, 12)]
    assert sorted(by_sequence) != by_sequence  # "-S10" < "-S2" as text
    dates = {r[0] for r in engine.store.execute("SELECT start_date FROM stage_runs")}
    assert len(dates) == 1  # one call, one timestamp: dates cannot order them


_UNCLOSED_WRITER = """
import os, sys
from orchlab.store import HistoryStore
from orchlab.store.row import Row
import datetime as dt
store = HistoryStore(sys.argv[1])
store.append([Row(1, dt.datetime(2026, 1, 1), "CreateRecord",
                  payload={"id": "X", "object": "A", "fields": {}})])
os._exit(0)  # as if killed: no close, so the tables were never folded
"""


def test_a_closed_file_is_folded_for_read_only_readers(tmp_path) -> None:
    path = tmp_path / "h.duckdb"
    store = HistoryStore(path)
    store.append(
        [Row(1, dt.datetime(2026, 1, 1), "CreateRecord",
             payload={"id": "X", "object": "A", "fields": {}})]
    )  # fmt: skip
    store.close()
    reader = HistoryStore(path, read_only=True)
    assert reader.execute("SELECT count(*) FROM records") == [(1,)]
    reader.close()


def test_a_read_only_open_refuses_tables_that_lag_the_log(tmp_path) -> None:
    import subprocess
    import sys

    path = tmp_path / "h.duckdb"
    subprocess.run([sys.executable, "-c", _UNCLOSED_WRITER, str(path)], check=True)
    with pytest.raises(
        StoreError, match=r"1 log rows are not yet folded .* open it once read-write"
    ):
        HistoryStore(path, read_only=True)
    HistoryStore(path).close()  # folds
    reader = HistoryStore(path, read_only=True)
    assert reader.execute("SELECT count(*) FROM records") == [(1,)]
    reader.close()
