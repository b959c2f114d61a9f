"""History in DuckDB: one owner of the connection, a log table and views over it."""

from orchlab.store.history import (
    HistoryStore,
    SchemaVersionError,
    StoreError,
    StoreLocked,
    open_snapshot,
)
from orchlab.store.schema import SCHEMA_VERSION

__all__ = [
    "SCHEMA_VERSION",
    "HistoryStore",
    "SchemaVersionError",
    "StoreError",
    "StoreLocked",
    "open_snapshot",
]
