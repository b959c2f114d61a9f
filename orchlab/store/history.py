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
from orchlab.store import materialize
from orchlab.store.row import COLUMNS, Row, dumps, loads
from orchlab.store.schema import DDL, MIGRATIONS, SCHEMA_VERSION

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
        if not has_meta:
            if self.read_only:
                raise StoreError(f"history file {self.path} has no orchlab schema")
            self.con.begin()
            for statement in DDL():
                self.con.execute(statement)
            self.con.execute(
                "INSERT INTO orchlab_meta VALUES ('schema_version', ?), ('materialized_seq', '0')",
                [str(SCHEMA_VERSION)],
            )
            self.con.commit()
        version = self._meta("schema_version")
        version = int(version) if version is not None else None
        if version != SCHEMA_VERSION:
            self._migrate(version)
        self._log_seq = int(
            self.con.execute("SELECT coalesce(max(seq), 0) FROM log").fetchall()[0][0]
        )
        self._done = int(self._meta("materialized_seq") or 0)

    def _meta(self, key: str) -> str | None:
        found = self.con.execute("SELECT value FROM orchlab_meta WHERE key = ?", [key]).fetchall()
        return found[0][0] if found else None

    def _migrate(self, version: int | None) -> None:
        where = self.path or "memory"
        if version is None or version > SCHEMA_VERSION or version < min(MIGRATIONS):
            raise SchemaVersionError(
                f"history file {where}: schema_version is {version}; this orchlab reads "
                f"schema_version {SCHEMA_VERSION} (and upgrades {min(MIGRATIONS)} and later). "
                "Open it with the orchlab that wrote it, or export it and import it here."
            )
        if self.read_only:
            raise SchemaVersionError(
                f"history file {where}: schema_version {version} needs an upgrade to "
                f"{SCHEMA_VERSION}; open it once read-write (HistoryStore(path)) to upgrade it"
            )
        self.con.begin()
        try:
            for old in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[old]():
                    self.con.execute(statement)
            self.con.execute(
                "UPDATE orchlab_meta SET value = ? WHERE key = 'schema_version'",
                [str(SCHEMA_VERSION)],
            )
            self.con.commit()
        except BaseException:
            self.con.rollback()
            raise

    def refresh(self) -> None:
        """Fold the log rows appended since the last refresh into the current-state tables.

        Every read through the store does this first; its cost grows with the new rows only.
        A read-only store (a snapshot) cannot, and was refreshed when it was taken.
        """
        if self._log_seq <= self._done or self.read_only:
            return
        con = self.con
        con.begin()
        try:
            materialize.refresh(con, self._done, self._log_seq)
            con.execute(
                "UPDATE orchlab_meta SET value = ? WHERE key = 'materialized_seq'",
                [str(self._log_seq)],
            )
            con.commit()
        except BaseException:
            con.rollback()
            raise
        self._done = self._log_seq

    def rebuild(self) -> None:
        """Fold the whole log again from nothing (the tables are derived: the log is the truth)."""
        if self.read_only:
            raise StoreError(f"history file {self.path} is open read-only")
        con = self.con
        con.begin()
        for statement in materialize.table_ddl():
            table = statement.split("EXISTS ")[1].split(" ")[0]
            con.execute(f"DELETE FROM {table}")
        con.execute("DELETE FROM log_open")
        con.execute("UPDATE orchlab_meta SET value = '0' WHERE key = 'materialized_seq'")
        con.commit()
        self._done = 0
        self.refresh()

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
        if rows:
            self._log_seq = rows[-1].seq

    # --- reading ---------------------------------------------------------------------------------

    def rows(self, where: str = "", params: Sequence[Any] = (), *, table: str = "log") -> list[Row]:
        sql = f"SELECT {','.join(COLUMNS)} FROM {table} {where} ORDER BY seq"
        found = self.con.execute(sql, list(params)).fetchall()
        return [Row._make((*r[:-1], loads(r[-1]))) for r in found]

    def run_rows(self, run_id: str) -> list[Row]:
        """Every log row of one run; the run's seq range lets DuckDB skip the rest of the log."""
        self.refresh()
        span = self.con.execute(
            "SELECT first_seq, last_seq FROM runs_open WHERE id = ? "
            "UNION ALL SELECT first_seq, last_seq FROM runs_closed WHERE id = ?",
            [run_id, run_id],
        ).fetchall()
        if not span:
            return []
        first, last = span[0]
        return self.rows("WHERE seq BETWEEN ? AND ? AND instance_id = ?", [first, last, run_id])

    def open_run_rows(self) -> list[Row]:
        """Log rows of every run that can still move (not Completed or Canceled)."""
        self.refresh()
        return self.rows(table="log_open")

    def record(self, record_id: str) -> dict[str, Any] | None:
        """A record as it is now ({"object": ..., "fields": {...}}), or None."""
        self.refresh()
        found = self.con.execute(
            "SELECT object, fields FROM records WHERE id = ?", [record_id]
        ).fetchall()
        return {"object": found[0][0], "fields": loads(found[0][1])} if found else None

    def open_run_records(self) -> dict[str, dict[str, Any]]:
        """The records that open runs were started for (what a reopened engine needs)."""
        self.refresh()
        found = self.con.execute(
            "SELECT id, object, fields FROM records WHERE id IN "
            "(SELECT triggering_record FROM runs_open)"
        ).fetchall()
        return {rid: {"object": obj, "fields": loads(fields)} for rid, obj, fields in found}

    def last_routed(self) -> dict[str, str]:
        """Queue -> the member its latest routed work item went to (round robin goes on from it)."""
        self.refresh()
        return dict(self.con.execute("SELECT queue, owner FROM queue_routing").fetchall())

    def max_seq(self) -> int:
        return self._log_seq

    def _native_max(self, table: str, prefix: str) -> int:
        self.refresh()
        found = self.con.execute(
            f"SELECT coalesce(max(TRY_CAST(substr(id, {len(prefix) + 1}) AS BIGINT)), 0) "
            f"FROM {table} WHERE regexp_full_match(id, '{prefix}[0-9]+')"
        ).fetchall()
        return int(found[0][0])

    def run_count(self) -> int:
        """The highest native run number (R000042 -> 42): new runs continue after it."""
        return self._native_max("runs", "R")

    def record_count(self) -> int:
        """The highest native record number (REC000007 -> 7)."""
        return self._native_max("records", "REC")

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
        self.refresh()
        return self.con.execute(query, list(params or [])).df()

    def execute(self, query: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        self.refresh()
        return self.con.execute(query, list(params or [])).fetchall()

    # --- copies for analysts ---------------------------------------------------------------------

    def snapshot(self, dest: str | os.PathLike[str]) -> Path:
        """Copy the history to a new DuckDB file that analysts can open while this one writes."""
        dest = Path(dest)
        if dest.exists():
            raise StoreError(f"snapshot destination {dest} already exists; expected a new file")
        self.refresh()  # the copy's tables are then complete, and it can be opened read-only
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

    The file and its write-ahead log are copied, so the writer is never blocked; the copy's
    tables are then brought up to date with its log. A copy taken in the middle of a
    checkpoint may not open; then it is taken again.
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
            private = HistoryStore(target)  # the copy is ours: bring its tables up to date
            private.refresh()
            private.checkpoint()
            private.close()
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
