"""Analysis of a history: SQL in DuckDB, answers as pandas DataFrames.

    >>> import orchlab.analysis as oa
    >>> from orchlab.store import HistoryStore
    >>> oa.stalled_runs(HistoryStore()).empty  # an empty history has no stalled runs
    True

Imports only the store and `orchlab.errors`: it reads tables, never the engine's memory,
and draws nothing (pictures of the answers live in `orchlab.render`). Every function takes a
`HistoryStore` (or a DuckDB connection, or a `pyspark.sql.SparkSession` with the history's
Parquet export registered: `orchlab.analysis.spark`, which alone loads pyspark and sqlglot,
on first use; docs/scale-out.md) and a `Filters`, reads only the tables and columns of
docs/schema.md, binds every value as a parameter, and shows its SQL in its docstring.
Durations are seconds.
"""

from orchlab.analysis.bottlenecks import backlog, bottlenecks, work_in_progress
from orchlab.analysis.cycle_times import cycle_times, durations, time_split
from orchlab.analysis.filters import Filters
from orchlab.analysis.paths import (
    directly_follows,
    fault_paths,
    outcomes,
    rework,
    start_end_steps,
    transitions,
)
from orchlab.analysis.stalled import open_work_items, stalled_runs, stalled_work_items
from orchlab.analysis.throughput import throughput

__all__ = [
    "Filters",
    "backlog",
    "bottlenecks",
    "cycle_times",
    "directly_follows",
    "durations",
    "fault_paths",
    "open_work_items",
    "outcomes",
    "rework",
    "stalled_runs",
    "stalled_work_items",
    "start_end_steps",
    "throughput",
    "time_split",
    "transitions",
    "work_in_progress",
]
