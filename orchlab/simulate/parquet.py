"""A simulation written straight to a partitioned Parquet export, for histories beyond one file.

    report = simulate_to_parquet([case_escalation()], "lake/history/", scenario, every_days=7)

The simulation runs as `simulate` does, on the real engine; every `every_days` of simulated
time the runs that have closed are moved out of the history to `dest` (`archive_runs`:
the export's layout, partitioned by orchestration and month), so the history holds only
the runs in flight and what they need. At the end the rest (open runs, Deploy rows,
definitions, the directory) is written there too: `dest` is then a whole export, for
`orchlab.analysis.spark.register_parquet`, `import_parquet` or any Parquet reader.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from orchlab.analysis.archive import archive_runs
from orchlab.analysis.export import PER_RUN, SMALL, TransferReport, write_tables
from orchlab.definition.model import Orchestration
from orchlab.engine import Engine, VirtualClock
from orchlab.errors import OrchlabError
from orchlab.simulate.run import scenario_for, simulate
from orchlab.simulate.scenario import Scenario
from orchlab.store import HistoryStore

__all__ = ["simulate_to_parquet"]


def simulate_to_parquet(
    orchestrations: Iterable[Orchestration],
    dest: str | os.PathLike[str],
    scenario: Scenario | None = None,
    *,
    every_days: float = 7.0,
    store: HistoryStore | None = None,
) -> TransferReport:
    """Simulate `scenario` into a Parquet export at `dest` (a new or empty folder).

    Closed runs are archived when `every_days` of simulated time have passed, checked
    between the simulator's batches (2,000 engine calls each): a small simulation is one
    batch, archived at its end.
    `store` holds the runs in flight (in memory by default; a file keeps memory flat when
    very many runs are open at once). Returns what was written: rows per table, runs, files.
    """
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise OrchlabError(f"simulate_to_parquet: {dest}: expected a new or empty folder")
    if every_days <= 0:
        raise OrchlabError(f"simulate_to_parquet: every_days: expected > 0, got {every_days}")
    orchs = list(orchestrations)
    scenario = scenario or scenario_for(orchs)
    store = store if store is not None else HistoryStore()
    clock = VirtualClock(scenario.start)
    engine = Engine(store, clock=clock)
    rows: Counter[str] = Counter()
    runs, last = 0, scenario.start

    def archive() -> None:
        nonlocal runs, last
        last = clock.now()
        # Every run closed so far (`before` is exclusive, and a run may close at `now`).
        report = archive_runs(store, before=last + dt.timedelta(microseconds=1), dest=dest)
        rows.update(report.rows)
        runs += report.runs

    def progress(_: float) -> None:
        # Called between the simulator's batches, outside their transaction.
        if clock.now() - last >= dt.timedelta(days=every_days):
            archive()

    simulate(orchs, scenario, engine=engine, progress=progress)
    archive()
    left = write_tables(store.con, dest, tables=(*PER_RUN, *SMALL), tag="open")
    rows.update(left)
    files = sum(1 for _ in dest.rglob("*.parquet"))
    return TransferReport(dest, dict(rows), runs + left.get("runs", 0), files)
