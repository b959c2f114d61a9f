"""Simulate -> Salesforce-shaped exports -> import into a fresh store -> the same answers."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

import orchlab.analysis as oa
import orchlab.salesforce as sf
from orchlab.definition.examples import loan
from orchlab.engine import Engine
from orchlab.salesforce.history_samples import COLUMNS, salesforce_id
from orchlab.simulate import scenario_for, simulate
from orchlab.store import HistoryStore


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    sim = simulate([loan()], scenario_for([loan()], per_day=6, days=10, seed=3))
    folder = tmp_path_factory.mktemp("exports")
    sf.sample_exports(sim.store, folder, formats=("csv", "json", "rest", "report"))
    (end,) = sim.store.execute("SELECT max(timestamp) FROM log")[0]
    return sim.store, folder, end


def _analyses(store, end):
    f = oa.Filters(as_of=end)
    return {
        "stalled": oa.stalled_runs(store, f, idle=dt.timedelta(minutes=30)),
        "stalled_items": oa.stalled_work_items(store, f, idle=dt.timedelta(minutes=30)),
        "run_cycle": oa.cycle_times(store, f),
        "stage_cycle": oa.cycle_times(store, f, level="stage"),
        "step_cycle": oa.cycle_times(store, f, level="step"),
        "item_cycle": oa.cycle_times(store, f, level="work_item"),
        "backlog": oa.backlog(store, f),
        "throughput": oa.throughput(store, f),
        "bottlenecks": oa.bottlenecks(store, f),
        "time_split": oa.time_split(store, f),
        "wip": oa.work_in_progress(store, f),
    }


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    # Ids differ by design (Salesforce Ids for orchlab's), and so does the source.
    drop = [c for c in frame.columns if c in ("id", "run_id", "work_item_id", "source")]
    out = frame.drop(columns=drop).reset_index(drop=True)
    for col in out.columns:  # Salesforce datetimes carry milliseconds
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.floor("ms")
    return out


@pytest.mark.parametrize("fmt", ["csv", "json", "rest"])
def test_api_exports_give_the_same_answers_as_the_original(world, fmt):
    original, folder, end = world
    store = HistoryStore()
    report = sf.import_history(folder / fmt, store)
    assert report.rejected == [] and report.total_added > 0
    counts = "SELECT status, count(*) FROM {} GROUP BY 1 ORDER BY 1"
    for table in ("runs", "stage_runs", "work_items"):
        assert store.execute(counts.format(table)) == original.execute(counts.format(table))
    started = "SELECT status, count(*) FROM step_runs WHERE start_date IS NOT NULL GROUP BY 1"
    assert sorted(store.execute(started)) == sorted(original.execute(started))
    before, after = _analyses(original, end), _analyses(store, end)
    assert not before["stalled"].empty and not before["backlog"].empty  # the test can fail
    for name, frame in before.items():
        # Salesforce datetimes carry milliseconds: durations agree to within one.
        pd.testing.assert_frame_equal(
            _comparable(frame), _comparable(after[name]), check_dtype=False, atol=0.002
        )
    assert store.execute("SELECT DISTINCT source FROM runs") == [("imported",)]
    imported = oa.cycle_times(store, oa.Filters(as_of=end, source="imported"))
    pd.testing.assert_frame_equal(imported, after["run_cycle"])
    assert oa.cycle_times(store, oa.Filters(source="simulated")).empty


def test_report_exports_carry_minutes_and_agree_on_counts(world):
    original, folder, _end = world
    store = HistoryStore()
    report = sf.import_history(folder / "report", store)
    assert report.rejected == []
    assert {fmt for _, _, fmt, _ in report.files} == {"report"}
    counts = "SELECT status, count(*) FROM {} GROUP BY 1 ORDER BY 1"
    for table in ("runs", "stage_runs", "work_items"):
        assert store.execute(counts.format(table)) == original.execute(counts.format(table))
    a, b = oa.cycle_times(original), oa.cycle_times(store)
    assert list(a["count"]) == list(b["count"])
    assert (a["median"] - b["median"]).abs().max() <= 60  # a report rounds to the minute


def test_importing_again_changes_no_table_and_an_engine_opens_it(world, tmp_path):
    _, folder, _ = world
    with HistoryStore(tmp_path / "h.duckdb") as store:
        sf.import_history(folder / "csv", store)
        tables = ("log", "runs", "stage_runs", "step_runs", "work_items")
        before = {t: store.execute(f"SELECT * FROM {t} ORDER BY ALL") for t in tables}
        again = sf.import_history(folder / "json", store)  # the same history, another format
        assert again.rows_written == 0 and again.total_added == 0
        assert {t: store.execute(f"SELECT * FROM {t} ORDER BY ALL") for t in tables} == before
        Engine(store)  # imported open runs are the org's: an engine does not replay them


def test_exports_have_the_exact_columns_and_salesforce_ids(world):
    _, folder, _ = world
    for obj, columns in COLUMNS.items():
        with (folder / "csv" / f"{obj}.csv").open(newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        assert tuple(rows[0]) == columns
        assert all(len(r[0]) == 18 for r in rows[1:])
    data = json.loads((folder / "json" / "FlowOrchestrationStageInstance.json").read_text())
    first = data["result"]["records"][0]
    assert data["status"] == 0 and data["result"]["done"] is True
    assert first["attributes"]["type"] == "FlowOrchestrationStageInstance"
    assert first["OrchestrationInstance"]["Name"].startswith("OR-")
    assert first["CreatedDate"].endswith("+0000")
    pages = json.loads((folder / "rest" / "FlowOrchestrationLog.json").read_text())
    assert len(pages) > 1 and "nextRecordsUrl" in pages[0] and pages[-1]["done"] is True
    # The 18-character checksum: upper-case positions of each 5 characters.
    assert salesforce_id("0jE", "x")[15:] == _checksum(salesforce_id("0jE", "x")[:15])


def _checksum(core: str) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
    return "".join(
        alphabet[sum(1 << j for j, c in enumerate(core[i : i + 5]) if "A" <= c <= "Z")]
        for i in (0, 5, 10)
    )


def test_implied_orchestration_lists_the_stages_that_ran(world):
    _, folder, _ = world
    report = sf.import_history(Path(folder / "csv"), HistoryStore())
    (orch,) = report.orchestrations
    ran = [s.name for s in orch.stages]
    assert ran[0] == "Intake" and set(ran) <= {s.name for s in loan().stages}
    step = next(s for s in orch.stages if s.name == "Intake").step("Collect_documents")
    assert step.step_type == "InteractiveStep" and step.screen == "documents_form"


def test_an_earlier_export_then_a_later_one_equal_the_later_alone(world, tmp_path):
    original, _, end = world
    (start,) = original.execute("SELECT min(created_date) FROM runs")[0]
    cut = start + (end - start) / 2
    sf.sample_exports(original, tmp_path / "early", formats=("csv",), as_of=cut)
    sf.sample_exports(original, tmp_path / "late", formats=("csv",))
    both, late = HistoryStore(), HistoryStore()
    first = sf.import_history(tmp_path / "early" / "csv", both)
    assert 0 < first.added["FlowOrchestrationInstance"] < late_runs(original)
    then = sf.import_history(tmp_path / "late" / "csv", both)
    assert then.updated.get("FlowOrchestrationInstance", 0) > 0  # runs that completed since
    assert then.added.get("FlowOrchestrationInstance", 0) > 0  # and runs started since
    sf.import_history(tmp_path / "late" / "csv", late)
    for table in ("runs", "stage_runs", "step_runs", "work_items"):
        query = f"SELECT * FROM {table} ORDER BY id"
        assert both.execute(query) == late.execute(query), table


def late_runs(store: HistoryStore) -> int:
    return store.execute("SELECT count(*) FROM runs")[0][0]
