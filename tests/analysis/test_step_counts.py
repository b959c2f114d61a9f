"""Step cycle times over all history come from `step_durations`, and equal the scan they replace.

A HistoryStore answers `cycle_times(level="step")` from the counts per step and millisecond
the store keeps; a DuckDB connection on the same file scans `step_runs` (the general path).
Both must give the same frame, for random histories folded at random moments, with the
filters the counts can answer, and after archiving.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import orchlab.analysis as oa
from orchlab.analysis.archive import archive_runs
from orchlab.analysis.cycle_times import _RANK
from orchlab.analysis.filters import Filters
from orchlab.engine.clock import VirtualClock
from orchlab.store import HistoryStore
from tests.store.test_materialize import _busy_history

QUESTIONS = [
    ("step", None, ()),
    ("step", None, ("orchestration_version",)),
    ("step", Filters(orchestration="Loan"), ()),
    (
        "step",
        Filters(orchestration=("Loan", "Case_Escalation"), version=1),
        ("orchestration_version",),
    ),
    ("run", None, ()),
    ("run", None, ("source",)),
    ("run", Filters(orchestration="Case_Escalation", version=(1, 2)), ()),
]


def _history(path: Path, seed: int) -> HistoryStore:
    # Folded at random moments: the counts are added up in pieces of every size.
    clock = VirtualClock(dt.datetime(2026, 3, 2, 9, 0))
    return _busy_history(path, clock, seed, 300, 0.2).store


def _same(store: HistoryStore) -> int:
    compared = 0
    for level, filters, by in QUESTIONS:
        counted = oa.cycle_times(store, filters, level=level, by=by)
        scanned = oa.cycle_times(store.con, filters, level=level, by=by)
        pd.testing.assert_frame_equal(counted, scanned)
        compared += len(counted)
    return compared


@pytest.mark.parametrize("seed", [1, 2])
def test_counts_answer_as_the_scan_does(tmp_path: Path, seed: int) -> None:
    store = _history(tmp_path / "h.duckdb", seed)
    assert _same(store) > 20
    (steps,) = store.execute(
        "SELECT count(*) FROM step_runs WHERE status = 'Completed' AND start_date IS NOT NULL"
    )[0]
    assert store.execute("SELECT sum(n) FROM step_durations") == [(steps,)]
    (runs,) = store.execute("SELECT count(*) FROM runs WHERE status = 'Completed'")[0]
    assert store.execute("SELECT sum(n) FROM run_durations") == [(runs,)]
    store.rebuild()  # a fold of the whole log at once counts the same
    assert _same(store) > 20


def test_after_archiving_the_counts_hold_only_live_runs(tmp_path: Path) -> None:
    store = _history(tmp_path / "h.duckdb", 3)
    (middle,) = store.execute("SELECT min(created_date) + (max(created_date) - min(created_date)) "
                              "/ 2 FROM runs")[0]  # fmt: skip
    counted = "SELECT (SELECT sum(n) FROM run_durations), (SELECT sum(n) FROM step_durations)"
    runs, steps = store.execute(counted)[0]
    (leaving,) = store.execute(
        "SELECT count(*) FROM runs WHERE status = 'Completed' AND completed_date < ?", [middle]
    )[0]
    report = archive_runs(store, middle, tmp_path / "archive")
    assert report.runs >= leaving > 0
    after = store.execute(counted)[0]
    assert after[0] == runs - leaving and after[1] < steps
    for table in ("run_durations", "step_durations"):
        assert store.execute(f"SELECT count(*) FROM {table} WHERE n <= 0") == [(0,)]
    assert _same(store) > 0


def test_questions_the_counts_cannot_answer_scan() -> None:
    store = HistoryStore()
    store.con.execute("DROP TABLE step_durations")  # so only a scan can answer
    store.con.execute("DROP TABLE run_durations")
    as_of = Filters(as_of=dt.datetime(2026, 1, 1))
    for filters, period in ((as_of, None), (Filters(source="live"), None), (None, "week")):
        assert oa.cycle_times(store, filters, level="step", period=period).empty
    with pytest.raises(duckdb.CatalogException, match="step_durations"):
        oa.cycle_times(store, level="step")  # a plain question reads the counts
    with pytest.raises(duckdb.CatalogException, match="run_durations"):
        oa.cycle_times(store, level="run")
    assert oa.cycle_times(store, level="stage").empty  # stages have none


def test_the_rank_is_duckdbs_nearest_rank() -> None:
    con = duckdb.connect()
    rng = random.Random(7)
    for n in [*range(1, 60), 99, 100, 101, 999, 1000, 1001]:
        values = [rng.randint(0, 25) for _ in range(n)]  # ties, as durations in whole minutes
        con.execute("CREATE OR REPLACE TABLE v AS SELECT unnest($v) AS ms", {"v": values})
        for q in (0.5, 0.9, 0.99):
            (want,) = con.execute(f"SELECT quantile_disc(ms, {q}) FROM v").fetchall()[0]
            rank = _RANK.format(q=q).replace("total", f"CAST({n} AS DOUBLE)")
            (r,) = con.execute(f"SELECT {rank}").fetchall()[0]
            assert sorted(values)[int(r) - 1] == want, (n, q)
