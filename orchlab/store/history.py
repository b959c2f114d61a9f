"""HistoryStore: the only owner of the DuckDB connection.

Writes are grouped: each engine call (or each simulation batch) is one transaction
that appends its log rows in one statement. DuckDB commits cost milliseconds, so
the write path does as few statements per transaction as it can.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from orchlab.errors import SchemaVersionError, StoreError, StoreLocked
from orchlab.store.row import COLUMNS, Row, dumps, loads
from orchlab.store.schema import DDL, SCHEMA_VERSION

__all__ = ["HistoryStore", "StoreError", "StoreLocked", "SchemaVersionError", "open_snapshot"]

_SMALL_BATCH = 48  # up to this many rows: one INSERT ... VALUES; above: an Arrow batch
_REPEATED = frozenset(
    {
        "kind",
        "orchestration_name",
        "stage_name",
        "step_name",
        "status",
        "actor",
        "assignee",
        "assignee_type",
    }
)
_ARROW_TYPES = {
    "seq": pa.int64(),
    "timestamp": pa.timestamp("us"),
    "orchestration_version": pa.int32(),
    "duration": pa.float64(),
}


def _connect(path: str, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(path, read_only=read_only)
    except duckdb.IOException as exc:
        text = str(exc)
        if "lock" not in text.lower():
            raise StoreError(f"cannot open history file {path!r}: {text}") from None
        pid = re.search(r"PID (\d+)", text)
        holder = f"process {pid.group(1)}" if pid else "another process"
        raise StoreLocked(
            f"history file {path!r} is open for writing by {holder}; only one writer is allowed. "
            "Analyse a copy instead: orchlab.store.open_snapshot(path) (or `orchlab snapshot`), "
            "or ask the writer for store.snapshot(dest)."
        ) from None


class HistoryStore:
    """A history database: a DuckDB file, or in memory when `path` is None."""

    def __init__(
        self, path: str | os.PathLike[str] | None = None, *, read_only: bool = False
    ) -> None:
        self.path = Path(path) if path not in (None, ":memory:") else None
        self.read_only = read_only
        self.con = _connect(str(self.path) if self.path else ":memory:", read_only)
        self._insert_sql: dict[int, str] = {}
        self.source = "live"
        self._prepare()

    # --- schema ----------------------------------------------------------------------------------

    def _prepare(self) -> None:
        has_meta = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'orchlab_meta'"
        ).fetchall()[0][0]
        if has_meta:
            found = self.con.execute(
                "SELECT value FROM orchlab_meta WHERE key = 'schema_version'"
            ).fetchall()
            version = int(found[0][0]) if found else None
            if version != SCHEMA_VERSION:
                where = self.path or "memory"
                raise SchemaVersionError(
                    f"history file {where}: schema_version is {version}; this orchlab reads "
                    f"schema_version {SCHEMA_VERSION}. Open it with the orchlab that wrote it, or "
                    "export it and import it here."
                )
            return
        if self.read_only:
            raise StoreError(f"history file {self.path} has no orchlab schema")
        self.con.begin()
        for statement in DDL():
            self.con.execute(statement)
        self.con.execute(
            "INSERT INTO orchlab_meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)]
        )
        self.con.commit()

    # --- writing ---------------------------------------------------------------------------------

    def _insert_small(self, rows: Sequence[Row]) -> None:
        n = len(rows)
        sql = self._insert_sql.get(n)
        if sql is None:
            one = "(" + ",".join("?" * (len(COLUMNS) + 1)) + ")"
            sql = f"INSERT INTO log ({','.join(COLUMNS)}, source) VALUES " + ",".join([one] * n)
            self._insert_sql[n] = sql
        params: list[Any] = []
        source = self.source
        for row in rows:
            params.extend(row[:-1])
            params.append(dumps(row.payload))
            params.append(source)
        self.con.execute(sql, params)

    def _insert_arrow(self, rows: Sequence[Row]) -> None:
        columns = list(zip(*rows, strict=True))
        columns[-1] = tuple(map(dumps, columns[-1]))
        arrays = []
        for name, col in zip(COLUMNS, columns, strict=True):
            array = pa.array(col, type=_ARROW_TYPES.get(name, pa.string()))
            # Few distinct values (kinds, names, statuses): dictionary-encoded is faster to insert.
            arrays.append(array.dictionary_encode() if name in _REPEATED else array)
        arrays.append(pa.array([self.source] * len(rows), type=pa.string()).dictionary_encode())
        batch = pa.Table.from_arrays(arrays, names=[*COLUMNS, "source"])  # noqa: F841 - read by name
        self.con.execute(f"INSERT INTO log ({','.join(COLUMNS)}, source) SELECT * FROM batch")

    def append(self, rows: Sequence[Row], extra: Iterable[tuple[str, Sequence[Any]]] = ()) -> None:
        """Append log rows (and run `extra` statements) in one transaction: all or nothing."""
        if self.read_only:
            raise StoreError(f"history file {self.path} is open read-only")
        con = self.con
        con.begin()
        try:
            if rows:
                if len(rows) <= _SMALL_BATCH:
                    self._insert_small(rows)
                else:
                    self._insert_arrow(rows)
            for sql, params in extra:
                con.execute(sql, list(params))
            con.commit()
        except BaseException:
            con.rollback()
            raise

    # --- reading ---------------------------------------------------------------------------------

    def rows(self, where: str = "", params: Sequence[Any] = ()) -> list[Row]:
        sql = f"SELECT {','.join(COLUMNS)} FROM log {where} ORDER BY seq"
        found = self.con.execute(sql, list(params)).fetchall()
        return [Row._make((*r[:-1], loads(r[-1]))) for r in found]

    def open_run_rows(self) -> list[Row]:
        """Log rows of every run that can still move (not Completed or Canceled)."""
        return self.rows(
            "WHERE instance_id IN (SELECT id FROM runs WHERE status NOT IN "
            "('Completed','Canceled'))"
        )

    def current_records(self) -> dict[str, dict[str, Any]]:
        """Every record as it is now: id -> {"object": ..., "fields": {...}} (the latest row)."""
        found = self.con.execute(
            "SELECT payload->>'$.id', arg_max(payload, seq) FROM log "
            "WHERE kind IN ('CreateRecord', 'UpdateRecord') GROUP BY 1"
        ).fetchall()
        records = {}
        for rid, payload in found:
            data = loads(payload)
            records[rid] = {"object": data["object"], "fields": data["fields"]}
        return records

    def last_routed(self) -> dict[str, str]:
        """Queue -> the member its latest routed work item went to (round robin goes on from it)."""
        found = self.con.execute(
            "SELECT assignee, arg_max(payload->>'$.owner', seq) FROM log "
            "WHERE kind IN ('StartWorkItem', 'ReassignWorkItem') AND assignee_type = 'Queue' "
            "AND payload->>'$.owner' IS NOT NULL GROUP BY assignee"
        ).fetchall()
        return dict(found)

    def max_seq(self) -> int:
        return int(self.con.execute("SELECT coalesce(max(seq), 0) FROM log").fetchall()[0][0])

    def run_count(self) -> int:
        """Runs ever started here: those in the log, and those archived out of it (so that
        new run ids never repeat an archived one; see orchlab.analysis.archive)."""
        found = self.con.execute(
            "SELECT count(DISTINCT instance_id) + coalesce((SELECT CAST(value AS BIGINT) "
            "FROM orchlab_meta WHERE key = 'archived_runs'), 0) FROM log"
        ).fetchall()
        return int(found[0][0])

    def definitions(self) -> list[tuple[str, int, str, dict[str, Any]]]:
        found = self.con.execute(
            "SELECT name, version, status, definition FROM definitions ORDER BY name, version"
        ).fetchall()
        return [(n, v, s, json.loads(d)) for n, v, s, d in found]

    def directory_rows(self) -> tuple[list[tuple[Any, ...]], ...]:
        users = self.con.execute("SELECT username, name, email, is_admin FROM users").fetchall()
        groups = self.con.execute(
            "SELECT name, label, kind, routing, email FROM directory_groups"
        ).fetchall()
        members = self.con.execute(
            "SELECT group_name, username FROM members ORDER BY rowid"
        ).fetchall()
        return users, groups, members

    def sql(self, query: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        """Run a query and return a pandas DataFrame (read fully: DuckDB 2 streams results)."""
        return self.con.execute(query, list(params or [])).df()

    def execute(self, query: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        return self.con.execute(query, list(params or [])).fetchall()

    # --- copies for analysts ---------------------------------------------------------------------

    def snapshot(self, dest: str | os.PathLike[str]) -> Path:
        """Copy the history to a new DuckDB file that analysts can open while this one writes."""
        dest = Path(dest)
        if dest.exists():
            raise StoreError(f"snapshot destination {dest} already exists; expected a new file")
        self.con.execute(f"ATTACH '{_quote(dest)}' AS snap")
        try:
            (name,) = self.con.execute("SELECT current_database()").fetchall()[0]
            self.con.execute(f"COPY FROM DATABASE {name} TO snap")
        finally:
            self.con.execute("DETACH snap")
        return dest

    def checkpoint(self) -> None:
        self.con.execute("CHECKPOINT")

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")


def open_snapshot(
    path: str | os.PathLike[str], dest: str | os.PathLike[str] | None = None, *, tries: int = 5
) -> HistoryStore:
    """Open a read-only copy of a history file, even while another process writes it.

    The file and its write-ahead log are copied, so the writer is never blocked. A copy
    taken in the middle of a checkpoint may not open; then it is taken again.
    """
    import tempfile
    import time

    src = Path(path)
    if not src.exists():
        raise StoreError(f"history file {src} does not exist")
    target = Path(dest) if dest else Path(tempfile.mkdtemp(prefix="orchlab-snap-")) / src.name
    wal, target_wal = src.with_name(src.name + ".wal"), target.with_name(target.name + ".wal")
    for attempt in range(1, tries + 1):
        shutil.copyfile(src, target)
        target_wal.unlink(missing_ok=True)
        if wal.exists():
            shutil.copyfile(wal, target_wal)
        try:
            return HistoryStore(target, read_only=True)
        except SchemaVersionError:
            raise
        except (duckdb.Error, StoreError) as exc:
            if attempt == tries:
                raise StoreError(
                    f"could not take a consistent copy of {src} in {tries} tries ({exc}); "
                    "try again when the writer is less busy, or ask it for store.snapshot(dest)"
                ) from None
            time.sleep(0.05 * attempt)
    raise AssertionError("unreachable")  # pragma: no cover
