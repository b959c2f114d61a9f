"""HistoryStore: the only owner of the DuckDB connection.

Writes are grouped: each engine call (or each simulation batch) is one transaction
that appends its log rows in one statement. DuckDB commits cost milliseconds, so
the write path does as few statements per transaction as it can.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import warnings
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from orchlab.errors import SchemaVersionError, StoreError, StoreLocked
from orchlab.store import materialize
from orchlab.store.row import COLUMNS, Row, dumps, loads
from orchlab.store.schema import DDL, MIGRATIONS, SCHEMA_VERSION, TABLES

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
            raise StoreError(f"cannot open history file {path!r}: {_first_line(text)}") from None
        pid = re.search(r"PID (\d+)", text)
        holder = f"process {pid.group(1)}" if pid else "another process"
        raise StoreLocked(
            f"history file {path!r} is open for writing by {holder}; only one writer is allowed. "
            "Analyse a copy instead: orchlab.store.open_snapshot(path) (or `orchlab snapshot`), "
            "or ask the writer for store.snapshot(dest)."
        ) from None
    except duckdb.Error as exc:
        raise StoreError(
            f"cannot open history file {path!r}: it is damaged or not a DuckDB database "
            f"({_first_line(str(exc))})"
        ) from None


def _memory_limit(text: str) -> str:
    if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|KiB|MiB|GiB)", text.strip()):
        raise StoreError(f"memory_limit {text!r}: expected a size such as '512MB' or '2GB'")
    return text.strip()


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:300] if text.strip() else "no detail"


# Files open for writing in this process: DuckDB would let two stores share one file, and
# two engines on it would write the same ids (a re-run notebook cell).
_WRITERS: dict[Path, weakref.ref[HistoryStore]] = {}
ARCHIVED_MAX_RUN = "archived_max_run"  # orchlab_meta: the highest run number archived away
ARCHIVED_MAX_SEQ = "archived_max_seq"  # ... and the highest log seq: new rows come after both
_ALLOWED = frozenset({"SELECT", "EXPLAIN"})  # what store.sql and store.execute run
_SNAPSHOT_FORMAT, _SNAPSHOT_SEQ = "engine_snapshot_format", "engine_snapshot_seq"
_CHUNK = 20_000  # log rows per fetch while iterating
_MAKE = tuple.__new__  # a Row from its fields at C speed (Row._make checks the length)
FOLD_SLICE = 1_000_000  # log rows folded per transaction: a long refresh in bounded pieces
_REQUIRED = ("log", "log_open", "definitions", "definition_steps", "users", "runs_open")


class HistoryStore:
    """A history database: a DuckDB file, or in memory when `path` is None.

    Only one store in a process (and one process) may have a file open for writing. Reads
    through `sql` and `execute` are read-only: statements that write are refused.

    Args:
        path: the DuckDB file (created when missing); None for an in-memory history.
        read_only: open for reading only (several readers may share a file no one writes).
        accept_loss: open a file that lost acknowledged changes (a damaged write-ahead log),
            going on from what it still holds; without it such a file is refused.
        memory_limit: what DuckDB may hold in memory before it spills to disk ("512MB").
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        read_only: bool = False,
        accept_loss: bool = False,
        memory_limit: str = "512MB",
    ) -> None:
        self.path = Path(path) if path not in (None, ":memory:") else None
        self.read_only = read_only
        self._before_close: dict[str, Callable[[], None]] = {}
        self._key: Path | None = None
        if self.path is not None and not read_only:
            self._claim()
            if not self.path.exists():  # a new file: a mark left by an old one says nothing
                self.path.with_name(self.path.name + ".seq").unlink(missing_ok=True)
        try:
            self.con = _connect(str(self.path) if self.path else ":memory:", read_only)
            # DuckDB would cache up to 80% of the machine's memory; bounded, it spills to disk.
            self.con.execute(f"SET memory_limit = '{_memory_limit(memory_limit)}'")
            self.con.execute("SET enable_progress_bar = false")  # no bars on a user's stderr
        except BaseException:
            self._release()
            raise
        self._insert_sql: dict[int, str] = {}
        self.source = "live"
        try:
            self._prepare()
            self._check_acknowledged(accept_loss)
            self._check_folded()
            self._opened = True  # close() folds only a store that opened whole
        except duckdb.Error as exc:
            self.close()
            raise StoreError(
                f"cannot read history file {self.path}: it is damaged "
                f"({_first_line(str(exc))}); restore a backup or a snapshot"
            ) from None
        except BaseException:
            self.close()  # a failed open leaves no connection (and no lock) behind
            raise

    def _claim(self) -> None:
        assert self.path is not None
        key = self.path.resolve()
        holder = _WRITERS.get(key)
        other = holder() if holder is not None else None
        if other is not None and not other.closed:
            raise StoreLocked(
                f"history file {self.path} is already open for writing in this process "
                f"(by {other!r}); close that store first (store.close(), or engine.store.close())"
                ", or go on using it"
            )
        _WRITERS[key] = weakref.ref(self)
        self._key = key

    def _release(self) -> None:
        if self._key is not None and _WRITERS.get(self._key) is not None:
            holder = _WRITERS[self._key]()
            if holder is None or holder is self:
                del _WRITERS[self._key]
        self._key = None

    @property
    def closed(self) -> bool:
        return getattr(self, "_closed", False)

    def __repr__(self) -> str:
        where = self.path or "memory"
        return f"<HistoryStore {where}{' read-only' if self.read_only else ''}>"

    # --- schema ----------------------------------------------------------------------------------

    def _prepare(self) -> None:
        tables = self._tables()
        if "orchlab_meta" not in tables:
            if tables:  # never adopt someone else's database, nor guess at a damaged one
                shown = ", ".join(sorted(tables)[:8]) + (", ..." if len(tables) > 8 else "")
                raise StoreError(
                    f"{self.path} is a DuckDB database but not an orchlab history (it has "
                    f"tables {shown} and no orchlab_meta); expected an orchlab history or a "
                    "new file"
                )
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
        text = self._meta("schema_version")
        if text is None or not text.strip().isdigit():
            raise SchemaVersionError(
                f"history file {self.path or 'memory'}: schema_version is {text!r}; expected a "
                f"whole number (this orchlab writes {SCHEMA_VERSION}). The file is damaged or "
                "was not written by orchlab."
            )
        version = int(text)
        if version != SCHEMA_VERSION:
            self._migrate(version)
        tables = self._tables()
        if "engine_snapshot" not in tables and not self.read_only:  # a cache added within 3
            self.con.execute(f"CREATE TABLE engine_snapshot ({TABLES['engine_snapshot']})")
        missing = [t for t in _REQUIRED if t not in tables]
        if missing:
            raise StoreError(
                f"history file {self.path or 'memory'} is damaged: table {missing[0]} is missing; "
                "restore a backup or a snapshot"
            )
        self._log_seq = self._log_end()
        self._done = int(self._meta("materialized_seq") or 0)

    def _log_end(self) -> int:
        """The highest seq ever written: the log's, or that of rows archived out of it."""
        top = self.con.execute(
            "SELECT greatest(coalesce((SELECT max(seq) FROM log), 0), coalesce((SELECT "
            "TRY_CAST(value AS BIGINT) FROM orchlab_meta WHERE key = ?), 0))",
            [ARCHIVED_MAX_SEQ],
        ).fetchall()
        return int(top[0][0])

    def _tables(self) -> set[str]:
        found = self.con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        return {name for (name,) in found}

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

    # --- what was acknowledged ---------------------------------------------------------------

    def _sidecar(self) -> Path | None:
        return self.path.with_name(self.path.name + ".seq") if self.path else None

    def _check_folded(self) -> None:
        """A read-only store cannot fold: refuse a file whose tables lag its log (its writer
        was killed before it closed) rather than answer from stale tables."""
        if self.read_only and self._done < self._log_seq:
            raise StoreError(
                f"history file {self.path}: {self._log_seq - self._done:,} log rows are not yet "
                "folded into its tables (its writer stopped without closing it); open it once "
                "read-write (HistoryStore(path)) to fold them, then read-only again"
            )

    def _check_acknowledged(self, accept_loss: bool) -> None:
        """Refuse a file that holds less than was committed: a write-ahead log cut short is
        replayed by DuckDB up to its last whole commit without a word."""
        sidecar = self._sidecar()
        if sidecar is None or not sidecar.exists():
            return
        text = sidecar.read_text(encoding="ascii", errors="replace").strip()
        acknowledged = int(text) if text.isdigit() else 0  # a torn write: nothing to compare
        if acknowledged > self._log_seq and not accept_loss:
            raise StoreError(
                f"history file {self.path} lost acknowledged changes: its log ends at seq "
                f"{self._log_seq}, but seq {acknowledged} was committed (its write-ahead log "
                f"{self.path.name}.wal was damaged or removed). Restore a backup, or open it "
                "with HistoryStore(path, accept_loss=True) to go on from what it holds."
            )
        if acknowledged != self._log_seq and not self.read_only:
            self._acknowledge()

    def _acknowledge(self) -> None:
        """Note the last committed seq beside the file (after each commit, without fsync: the
        note may lag the file, never lead it). The file stays open: one write per commit."""
        if self._sidecar() is None or self.read_only:
            return
        fd = getattr(self, "_seq_fd", None)
        if fd is None:
            fd = self._seq_fd = os.open(self._sidecar(), os.O_RDWR | os.O_CREAT, 0o644)  # type: ignore[arg-type]
        os.pwrite(fd, f"{self._log_seq:>20}".encode("ascii"), 0)  # fixed width: no truncation

    def resync(self) -> None:
        """Read the log's end again after rows were added to it in bulk (an import)."""
        self._log_seq = self._log_end()
        if not self.read_only:
            self._acknowledge()

    def refresh(self) -> None:
        """Fold the log rows appended since the last refresh into the current-state tables.

        Every read through the store does this first; its cost grows with the new rows only.
        A long tail (a migration, a simulation's year) is folded in slices of `FOLD_SLICE`
        seqs, each its own transaction, so memory stays bounded (folding in pieces gives the
        same tables as one fold). A read-only store (a snapshot) cannot, and was refreshed
        when it was taken.
        """
        if self._log_seq <= self._done or self.read_only:
            return
        con = self.con
        while self._done < self._log_seq:
            upto = min(self._log_seq, self._done + FOLD_SLICE)
            con.begin()
            try:
                materialize.refresh(con, self._done, upto)
                con.execute(
                    "UPDATE orchlab_meta SET value = ? WHERE key = 'materialized_seq'",
                    [str(upto)],
                )
                con.commit()
            except BaseException:
                con.rollback()
                raise
            self._done = upto

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
            self._acknowledge()

    # --- reading ---------------------------------------------------------------------------------

    def rows(self, where: str = "", params: Sequence[Any] = (), *, table: str = "log") -> list[Row]:
        found = self.con.execute(_rows_sql(where, table), list(params)).fetchall()
        return [_MAKE(Row, (*r[:-1], loads(r[-1]))) for r in found]

    def iter_rows(
        self, where: str = "", params: Sequence[Any] = (), *, table: str = "log"
    ) -> Iterator[Row]:
        """The rows in seq order, fetched in chunks: a replay holds one chunk at a time, not
        every row (measured: 433k rows as one list took 850 MiB, more than the state built
        from them). On a cursor of its own, so reads during the loop cannot end its result;
        it sees what is committed."""
        cursor = self.con.cursor()
        try:
            cursor.execute(_rows_sql(where, table), list(params))
            while chunk := cursor.fetchmany(_CHUNK):
                yield from [_MAKE(Row, (*r[:-1], loads(r[-1]))) for r in chunk]
        finally:
            cursor.close()

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

    def open_run_rows(self, after: int = 0) -> Iterator[Row]:
        """Log rows (after seq `after`) of every run that can still move (not Completed or
        Canceled) here, in chunks: imported runs move in the org they came from, so an engine
        never replays them."""
        self.refresh()
        where = "WHERE source <> 'imported'" + (f" AND seq > {int(after)}" if after else "")
        return self.iter_rows(where, table="log_open")

    def engine_snapshot(self, format: str) -> tuple[int, Iterator[str]]:
        """(seq, documents) of the engine snapshot in `format`, for the runs still open, in the
        order it was written; (0, nothing) when there is none that fits this file."""
        self.refresh()
        if "engine_snapshot" not in self._tables() or self._meta(_SNAPSHOT_FORMAT) != format:
            return 0, iter(())
        seq = int(self._meta(_SNAPSHOT_SEQ) or 0)
        if not 0 < seq <= self._log_seq:  # ahead of the log: rows it saw were lost
            return 0, iter(())
        cursor = self.con.cursor()
        cursor.execute(
            "SELECT data FROM engine_snapshot s SEMI JOIN runs_open r ON r.id = s.id "
            "ORDER BY s.position"
        )

        def documents() -> Iterator[str]:
            try:
                while chunk := cursor.fetchmany(_CHUNK):
                    yield from [text for (text,) in chunk]
            finally:
                cursor.close()

        return seq, documents()

    def write_engine_snapshot(self, format: str, seq: int, runs: Sequence[tuple[str, str]]) -> None:
        """Replace the engine snapshot with `runs` ((id, document) in order) as of `seq`."""
        if self.read_only:
            raise StoreError(f"history file {self.path} is open read-only")
        ids, docs = zip(*runs, strict=True) if runs else ((), ())
        batch = pa.Table.from_arrays(  # noqa: F841 - read by name
            [
                pa.array(range(len(ids)), pa.int64()),
                pa.array(ids, pa.string()),
                pa.array(docs, pa.string()),
            ],
            names=["position", "id", "data"],
        )
        con = self.con
        con.begin()
        try:
            con.execute("DELETE FROM engine_snapshot")
            con.execute("INSERT INTO engine_snapshot SELECT * FROM batch")
            con.execute(
                "DELETE FROM orchlab_meta WHERE key IN (?, ?)", [_SNAPSHOT_FORMAT, _SNAPSHOT_SEQ]
            )
            con.execute(
                "INSERT INTO orchlab_meta VALUES (?, ?), (?, ?)",
                [_SNAPSHOT_FORMAT, format, _SNAPSHOT_SEQ, str(seq)],
            )
            con.commit()
        except BaseException:
            con.rollback()
            raise

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
        """The highest native run number (R000042 -> 42), archived runs included: new runs
        continue after it (see orchlab.analysis.archive)."""
        archived = self._meta(ARCHIVED_MAX_RUN)
        return max(self._native_max("runs", "R"), int(archived) if archived else 0)

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
        """Run one read-only query and return a pandas DataFrame (statements that write are
        refused: the engine is the only writer). Parameters are bound, never pasted."""
        self._check_read_only(query)
        self.refresh()
        return self.con.execute(query, list(params or [])).df()

    def execute(self, query: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Like `sql`, as a list of tuples."""
        self._check_read_only(query)
        self.refresh()
        return self.con.execute(query, list(params or [])).fetchall()

    @staticmethod
    def _check_read_only(query: str) -> None:
        if not isinstance(query, str):
            raise StoreError(f"a query is text; got {type(query).__name__}")
        try:
            statements = duckdb.extract_statements(query)
        except duckdb.Error as exc:
            raise StoreError(f"cannot parse the query: {_first_line(str(exc))}") from None
        kinds = [str(st.type).rsplit(".", 1)[-1] for st in statements]
        if len(kinds) != 1 or kinds[0] not in _ALLOWED:
            shown = ", ".join(kinds) or "nothing"
            raise StoreError(
                f"store.sql runs one read-only statement (SELECT or EXPLAIN); got {shown}. "
                "The history changes only through the engine."
            )

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
            quoted = '"' + name.replace('"', '""') + '"'  # "2024", "my history": identifiers
            self.con.execute(f"COPY FROM DATABASE {quoted} TO snap")
        finally:
            self.con.execute("DETACH snap")
        return dest

    def checkpoint(self) -> None:
        self.con.execute("CHECKPOINT")

    def before_close(self, name: str, hook: Callable[[], None]) -> None:
        """Call `hook` when the store closes, before its last fold (an engine writes its
        snapshot so); a later hook of the same `name` replaces it (the engine attached last
        is the one that holds the file's state). A hook that fails is reported as a
        warning: closing goes on."""
        self._before_close[name] = hook

    def close(self) -> None:
        if self.closed:
            return
        if getattr(self, "_opened", False) and not self.read_only:
            for hook in self._before_close.values():
                try:
                    hook()
                except Exception as exc:  # a cache not written costs the next open time only
                    warnings.warn(f"{self}: on close, {exc}", RuntimeWarning, stacklevel=2)
            self._before_close.clear()
            # A file at rest has its tables folded, so readers that open it read-only (and
            # cannot fold) see every row; the cost is that of the rows since the last read.
            with contextlib.suppress(duckdb.Error):  # derived tables: the next open folds
                self.refresh()
        self._closed = True
        fd = getattr(self, "_seq_fd", None)
        if fd is not None:
            os.close(fd)
            self._seq_fd = None
        con = getattr(self, "con", None)
        if con is not None:
            con.close()
        self._release()

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


def _rows_sql(where: str, table: str) -> str:
    return f"SELECT {','.join(COLUMNS)} FROM {table} {where} ORDER BY seq"
