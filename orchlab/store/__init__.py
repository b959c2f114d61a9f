"""History in DuckDB: one owner of the connection, the log and the current-state tables.

Imports only `orchlab.errors`: it stores rows and knows nothing of definitions or runs.
"""

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
