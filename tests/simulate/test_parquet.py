"""simulate_to_parquet: the same history as simulate(), but in a Parquet export, in pieces."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import orchlab.analysis as oa
from orchlab.analysis.export import import_parquet
from orchlab.definition.examples import loan
from orchlab.errors import OrchlabError
from orchlab.simulate import scenario_for, simulate
from orchlab.simulate.parquet import simulate_to_parquet
from orchlab.store import HistoryStore


def test_the_export_holds_the_history_simulate_makes(tmp_path: Path) -> None:
    scenario = scenario_for([loan()], per_day=80, days=6, seed=3)
    whole = simulate([loan()], scenario).store
    report = simulate_to_parquet([loan()], scenario, tmp_path / "out", every_days=1)
    # Closed runs archived (between the simulator's batches of 2,000 engine calls, and at
    # the end: this small one is a single batch), the open runs written at the end.
    assert list((tmp_path / "out" / "runs").rglob("archive_*.parquet"))
    assert list((tmp_path / "out" / "runs").rglob("open_*.parquet"))
    again = HistoryStore()
    import_parquet(again, tmp_path / "out")
    assert report.runs == again.execute("SELECT count(*) FROM runs")[0][0] > 20
    for question in (
        lambda s: oa.cycle_times(s, level="run"),
        lambda s: oa.throughput(s, period="day"),
        lambda s: oa.open_work_items(s),
    ):
        pd.testing.assert_frame_equal(question(again), question(whole))


def test_refuses_a_folder_with_files(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text("")
    with pytest.raises(OrchlabError, match="new or empty folder"):
        simulate_to_parquet([loan()], dest=tmp_path)
