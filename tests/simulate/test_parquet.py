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


@pytest.mark.slow
def test_the_export_holds_the_history_simulate_makes(tmp_path: Path) -> None:
    # Two months: enough engine calls for several of the simulator's batches (2,000 calls
    # each), between which it archives what has closed.
    scenario = scenario_for([loan()], per_day=40, days=60, seed=5)
    whole = simulate([loan()], scenario).store
    report = simulate_to_parquet([loan()], tmp_path / "out", scenario, every_days=7)
    runs = tmp_path / "out" / "runs"
    pieces = {tuple(p.name.split("_")[1:3]) for p in runs.rglob("archive_*.parquet")}  # call tags
    assert len(pieces) > 1, "closed runs were archived only once"
    assert list(runs.rglob("open_*.parquet"))  # and the runs still open at the end
    again = HistoryStore()
    import_parquet(again, tmp_path / "out")
    assert report.runs == again.execute("SELECT count(*) FROM runs")[0][0] > 20
    for question in (
        lambda s: oa.cycle_times(s, level="run"),
        lambda s: oa.throughput(s, period="day"),
        lambda s: oa.open_work_items(s),
        lambda s: oa.backlog(s),
    ):
        pd.testing.assert_frame_equal(question(again), question(whole))


def test_refuses_a_folder_with_files(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text("")
    with pytest.raises(OrchlabError, match="new or empty folder"):
        simulate_to_parquet([loan()], dest=tmp_path)
