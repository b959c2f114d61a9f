"""Retention: move runs that finished before a date to Parquet, and read live + archive as one.

Salesforce keeps Orchestration Runs forever and admins delete them by hand. Here

    report = archive_runs(store, before=dt.datetime(2026, 1, 1), dest="archive/")
    con = with_archive(store, "archive/")   # every analysis on con sees both

writes every row of the Completed and Canceled runs that ended before the date (log, runs,
stage runs, step runs, work items; laid out as `export_parquet` does) and removes them from
the live file in one transaction. Open runs, records, definitions and the directory stay.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb

from orchlab.analysis.export import PER_RUN, TransferReport, read_table, write_tables
from orchlab.errors import AnalysisError
from orchlab.store.history import ARCHIVED_MAX_RUN, ARCHIVED_MAX_SEQ, HistoryStore
from orchlab.store.materialize import RUN_DURATIONS, STEP_DURATIONS

_HALVES = {"runs", "stage_runs", "step_runs", "work_items"}

__all__ = ["archive_runs", "with_archive"]


_PICK = (
    "CREATE OR REPLACE TEMP TABLE orchlab_archiving AS SELECT id FROM runs "
    "WHERE status IN ('Completed', 'Canceled') AND completed_date < $before"
)
_WHERE = "{run} IN (SELECT id FROM orchlab_archiving)"


def archive_runs(
    store: HistoryStore, before: dt.datetime, dest: str | os.PathLike[str]
) -> TransferReport:
    """Archive the runs that completed or were canceled before `before` to `dest`.

    The store is brought up to date first, so every closed run is in the tables.

    Returns a report of the runs and rows moved. Calling it again adds new files next to
    the earlier ones; `with_archive` reads them all.
    """
    if not isinstance(before, dt.datetime):
        raise AnalysisError(f"archive_runs: before: expected a datetime, got {before!r}")
    if store.read_only:
        raise AnalysisError(f"archive_runs: history {store.path} is open read-only")
    dest = Path(dest)
    store.refresh()
    con = store.con
    tag = f"archive_{dt.datetime.now():%Y%m%dT%H%M%S}_{os.urandom(3).hex()}"
    con.execute(_PICK, {"before": before})
    try:
        runs = int(con.execute("SELECT count(*) FROM orchlab_archiving").fetchall()[0][0])
        if not runs:
            return TransferReport(dest, {}, 0, 0)
        rows = write_tables(con, dest, _WHERE, tag=tag)
        con.begin()
        try:
            # They and their steps leave the duration counts (which count live rows only).
            gone = RUN_DURATIONS.counts("runs_closed", _WHERE.format(run="id"))
            RUN_DURATIONS.add(con, gone, -1)
            steps = _WHERE.format(run="orchestration_instance_id")
            STEP_DURATIONS.add(con, STEP_DURATIONS.counts("step_runs_closed", steps), -1)
            for table, (run, _) in PER_RUN.items():
                # The run tables are views over an open and a closed half: archived runs
                # are closed, so their rows are in the closed half.
                stored = f"{table}_closed" if table in _HALVES else table
                con.execute(f"DELETE FROM {stored} WHERE {_WHERE.format(run=run)}")
            con.execute(
                "INSERT OR REPLACE INTO orchlab_meta SELECT $key, CAST(greatest("
                "coalesce((SELECT max(TRY_CAST(substr(id, 2) AS BIGINT)) FROM orchlab_archiving "
                "WHERE regexp_full_match(id, 'R[0-9]+')), 0), coalesce((SELECT CAST(value AS "
                "BIGINT) FROM orchlab_meta WHERE key = $key), 0)) AS VARCHAR)",
                {"key": ARCHIVED_MAX_RUN},
            )
            con.execute(
                "INSERT OR REPLACE INTO orchlab_meta SELECT $key, CAST($seq AS VARCHAR)",
                {"key": ARCHIVED_MAX_SEQ, "seq": store.max_seq()},
            )
            con.commit()
        except BaseException:
            con.rollback()
            for written in dest.rglob(f"{tag}_*.parquet"):
                written.unlink()  # nothing was removed: the files of this call go too
            raise
    finally:
        con.execute("DROP TABLE IF EXISTS orchlab_archiving")
    files = sum(1 for _ in dest.rglob(f"{tag}_*.parquet"))
    return TransferReport(dest, rows, runs, files)


def with_archive(
    store: HistoryStore | duckdb.DuckDBPyConnection, dest: str | os.PathLike[str]
) -> duckdb.DuckDBPyConnection:
    """A connection on which log, runs, stage_runs, step_runs and work_items are live + archive.

    Every analysis takes it in place of the store. It is a cursor of the store's database:
    the live tables are read as they are now; the archive is read from its files each query.
    Where the current-state tables are views over the log, only the log is joined with its
    archive (the views then derive from both); real tables are joined one by one.
    """
    if isinstance(store, HistoryStore):
        store.refresh()
    con = (store.con if isinstance(store, HistoryStore) else store).cursor()
    (database,) = con.execute("SELECT current_database()").fetchall()[0]
    quoted = '"' + str(database).replace('"', '""') + '"'
    for table in PER_RUN:
        archived = read_table(con, Path(dest) / table)
        if archived is None:
            continue
        archived.create_view(f"orchlab_archive_{table}")
        # Temp views come first in name lookup, so `runs` on this cursor is the union.
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {table} AS "
            f"SELECT * FROM {quoted}.main.{table} "
            f"UNION ALL BY NAME SELECT * FROM orchlab_archive_{table}"
        )
    return con
