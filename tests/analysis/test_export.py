"""Event log (pm4py's columns, XES), Parquet export and import, archiving with live + archive."""

from __future__ import annotations

import datetime as dt
import warnings
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

import orchlab.analysis as oa
from orchlab import SYSTEM
from orchlab.analysis import Filters
from orchlab.analysis.archive import archive_runs, with_archive
from orchlab.analysis.eventlog import event_log, write_xes
from orchlab.analysis.export import export_parquet, import_parquet
from orchlab.engine import Engine
from orchlab.errors import AnalysisError
from orchlab.store import HistoryStore

from .conftest import DAY1, DAY2, at, build

QUESTIONS = (
    lambda s: oa.cycle_times(s, level="stage"),
    lambda s: oa.stalled_runs(s, idle=dt.timedelta(hours=1)),
    oa.backlog,
    oa.transitions,
    oa.outcomes,
    lambda s: oa.throughput(s, period="day"),
)


def test_event_log_in_pm4py_columns(history: HistoryStore) -> None:
    log = event_log(history, Filters(orchestration="Case_Escalation", source="live"))
    a = log[log["case:concept:name"] == "R000001"]
    assert a[["concept:name", "org:resource"]].values.tolist() == [
        ["Score", "automated-process"],
        ["Triage_review", "ada"],
        ["Notify", "automated-process"],
        ["CSM_outreach", "cara"],
        ["Engineering_fix", "bob"],
        ["Confirm_close", "ada"],
    ]
    assert a["time:timestamp"].iloc[-1] == at(DAY1, "15:00")
    # B's reassigned escalation was completed by ada; of its Work stage only the automated
    # Notify is done, the two people's steps are open: not events yet.
    b = log[log["case:concept:name"] == "R000004"]
    assert b["concept:name"].tolist() == ["Score", "Triage_review", "Escalation_review", "Notify"]
    assert b["org:resource"].tolist()[2] == "ada"
    both = event_log(history, Filters(orchestration="Auto_Score"), lifecycle=True)
    assert both[["concept:name", "lifecycle:transition"]].values.tolist() == [
        ["Score", "start"],
        ["Score", "complete"],
    ]


def test_xes_file_is_valid_and_pm4py_reads_the_same_log(
    history: HistoryStore, tmp_path: Path
) -> None:
    log = event_log(history)
    path = write_xes(log, tmp_path / "history.xes")
    root = ET.parse(path).getroot()
    ns = {"x": "http://www.xes-standard.org/"}
    traces = root.findall("x:trace", ns)
    assert len(traces) == log["case:concept:name"].nunique()
    assert sum(len(t.findall("x:event", ns)) for t in traces) == len(log)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pm4py suggests optional speed-ups on import and read
        pm4py = pytest.importorskip("pm4py")
        back = pm4py.read_xes(str(path))
    assert pm4py.discover_dfg(back)[0] == pm4py.discover_dfg(log)[0]
    assert pm4py.get_start_activities(log)["Score"] == 4  # A, B, C and Auto_Score's X


def test_parquet_export_and_import_give_the_same_answers(
    history: HistoryStore, tmp_path: Path
) -> None:
    report = export_parquet(history, tmp_path / "export")
    assert report.runs == 7 and report.rows["log"] == history.max_seq()
    months = {p.name for p in (tmp_path / "export" / "runs").glob("orchestration=*/month=*")}
    assert months == {"month=2026-03"}
    orchestrations = {p.name for p in (tmp_path / "export" / "runs").glob("orchestration=*")}
    assert "orchestration=Loan" in orchestrations
    copy = HistoryStore()
    back = import_parquet(copy, tmp_path / "export")
    assert back.runs == 7
    for question in QUESTIONS:
        pd.testing.assert_frame_equal(question(copy), question(history))
    with pytest.raises(AnalysisError, match="already has runs IMP-1, R000001"):
        import_parquet(copy, tmp_path / "export")
    with pytest.raises(AnalysisError, match="expected a new or empty folder"):
        export_parquet(history, tmp_path / "export")


def test_import_can_mark_rows_imported(history: HistoryStore, tmp_path: Path) -> None:
    export_parquet(history, tmp_path / "export")
    copy = HistoryStore()
    import_parquet(copy, tmp_path / "export", source="imported")
    assert oa.throughput(copy, Filters(source="live")).empty
    assert oa.throughput(copy, Filters(source="imported"))["started"].sum() == 7


def test_archive_moves_finished_runs_and_analyses_read_both(tmp_path: Path) -> None:
    store = build(HistoryStore(tmp_path / "live.duckdb"))
    before = [q(store) for q in QUESTIONS]
    report = archive_runs(store, DAY2, tmp_path / "archive")
    # Finished before day 2: A, the Loan, X, C (canceled) and the imported run. B is open, E
    # finished on day 2.
    assert report.runs == 5 and report.rows["runs"] == 5 and report.files > 0
    assert "5 runs" in str(report)
    live = store.sql("SELECT id FROM runs ORDER BY id")["id"].tolist()
    assert live == ["R000004", "R000006"]
    both = with_archive(store, tmp_path / "archive")
    for question, expected in zip(QUESTIONS, before, strict=True):
        pd.testing.assert_frame_equal(question(both), expected)
    # Archiving again finds nothing more before day 2, and adds no files.
    assert archive_runs(store, DAY2, tmp_path / "archive").runs == 0
    # The engine goes on with new run ids, never an archived one's.
    store.close()
    engine = Engine(HistoryStore(tmp_path / "live.duckdb"))
    run = engine.start_run(
        "Loan", {"application_id": "A-2", "applicant": "Lee", "amount": Decimal(5)}, by=SYSTEM
    )
    assert run.id == "R000007"  # after the highest native id (IMP-1 is not one), archived too
    engine.store.close()


def test_archive_refuses_what_it_cannot_do(history: HistoryStore, tmp_path: Path) -> None:
    with pytest.raises(AnalysisError, match="before: expected a datetime"):
        archive_runs(history, "2026-01-01", tmp_path)  # type: ignore[arg-type]
