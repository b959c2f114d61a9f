"""Paths: the way runs go through an orchestration, decision outcomes, fault paths, rework.

The store keeps each run's path as rows (`run_path`: its start, the stages it entered or
failed, the decisions it took and how it ended, each with the element before it and how
often the run had got there) and each decision taken (`decision_outcomes`), folded from the
log: these questions count those rows, with no window over every run.
"""

from __future__ import annotations

import pandas as pd

from orchlab.analysis._sql import STEPS_DONE, Source, quantile, query, seconds, shows_sql
from orchlab.analysis.filters import Filters

__all__ = [
    "START",
    "END",
    "transitions",
    "outcomes",
    "fault_paths",
    "rework",
    "directly_follows",
    "start_end_steps",
]

START = "$Start"  # the element a path begins at (as in orchlab.render.markup)
END = "$End"  # where a run that completed without an explicit End element went

# The path rows as of `t`, of the selected runs (joined only when a filter selects runs).
_PATH = """path AS (
    SELECT s.orchestration_instance_id AS run_id, s.orchestration_name, s.kind, s.element,
           s.position, s.previous_element, s.previous_kind, s.entry, s.edge_entry
    FROM run_path s{sel_join} CROSS JOIN as_of a
    WHERE s.timestamp <= a.t
)"""

# FailStage rows only mark the way out of a stage as a fault path: they are no element.
_TRANSITIONS_SQL = """
SELECT orchestration_name, previous_element AS source, element AS target,
       CASE WHEN previous_kind = 'FailStage' THEN 'fault' ELSE 'next' END AS kind,
       count(*) AS count, count(CASE WHEN edge_entry = 1 THEN 1 END) AS runs
FROM path
WHERE previous_element IS NOT NULL AND kind <> 'FailStage'
GROUP BY 1, 2, 3, 4
ORDER BY 1, count DESC, 2, 3
"""


@shows_sql(_PATH, _TRANSITIONS_SQL)
def transitions(source: Source, filters: Filters | None = None) -> pd.DataFrame:
    """How often runs went from one element to the next: the counts on a diagram's edges.

    Elements are stage and decision names, "$Start", "$End" (completed without an End
    element, else the End's name), "$Canceled" and "$Error". `kind` is "fault" when the
    source stage failed and the run went on along its fault path (or to "$Error"). Go To
    loops show as edges back to an earlier stage. Columns: orchestration_name, source,
    target, kind, count (times taken) and runs (distinct runs that took it).
    """
    return query(source, _TRANSITIONS_SQL, filters, ctes=(_PATH,))


# The store keeps each TakeOutcome row's facts as columns (decision_outcomes): read without
# the log's payloads, and without a join when no filter selects runs.
_TAKEN = """taken AS (
    SELECT s.orchestration_name, s.decision, s.outcome, s.next_element
    FROM decision_outcomes s{sel_join} CROSS JOIN as_of a
    WHERE s.timestamp <= a.t
)"""
_OUTCOMES_SQL = """
SELECT orchestration_name, decision, outcome, outcome IS NULL AS is_default,
       next_element, count(*) AS count,
       count(*) * 1.0 / sum(count(*)) OVER (PARTITION BY orchestration_name, decision) AS share
FROM taken
GROUP BY 1, 2, 3, 5
ORDER BY 1, 2, count DESC, 3
"""


@shows_sql(_TAKEN, _OUTCOMES_SQL)
def outcomes(source: Source, filters: Filters | None = None) -> pd.DataFrame:
    """How often each decision outcome was taken (outcome None: the default outcome).

    Columns: orchestration_name, decision, outcome, is_default, next_element (None: the
    run ended there), count and share (of that decision's evaluations).
    """
    return query(source, _OUTCOMES_SQL, filters, ctes=(_TAKEN,))


_FAULTS_SQL = """
, failed AS (
    SELECT orchestration_name, element AS stage_name, count(*) AS failed,
           count(CASE WHEN entry = 1 THEN 1 END) AS runs
    FROM path WHERE kind = 'FailStage' GROUP BY 1, 2
),
went AS (
    SELECT orchestration_name, previous_element AS stage_name,
           count(CASE WHEN element <> '$Error' THEN 1 END) AS recovered,
           count(CASE WHEN element = '$Error' THEN 1 END) AS run_failed,
           string_agg(DISTINCT CASE WHEN element <> '$Error' THEN element END, ', ')
               AS fault_path
    FROM path
    WHERE previous_kind = 'FailStage' AND kind <> 'FailStage'
    GROUP BY 1, 2
)
SELECT f.orchestration_name, f.stage_name, f.failed, f.runs,
       coalesce(w.recovered, 0) AS recovered, coalesce(w.run_failed, 0) AS run_failed,
       w.fault_path
FROM failed f LEFT JOIN went w
  ON w.orchestration_name = f.orchestration_name AND w.stage_name = f.stage_name
ORDER BY f.orchestration_name, f.failed DESC, f.stage_name
"""


@shows_sql(_PATH, _FAULTS_SQL)
def fault_paths(source: Source, filters: Filters | None = None) -> pd.DataFrame:
    """Stages that failed, and what their runs did next: a fault path, or the run failed.

    Columns: orchestration_name, stage_name, failed (stage runs in Error), runs,
    recovered (times the fault path was taken), run_failed (times the run went to Error),
    fault_path (where the fault path led).
    """
    return query(source, _FAULTS_SQL, filters, ctes=(_PATH,))


# entry is the how-many-th time the run entered the stage: no grouping by run.
_REWORK_SQL = """
SELECT orchestration_name, element AS stage_name,
       count(CASE WHEN entry = 1 THEN 1 END) AS runs, count(*) AS entries,
       count(CASE WHEN entry = 2 THEN 1 END) AS runs_reworked,
       count(*) - count(CASE WHEN entry = 1 THEN 1 END) AS rework, max(entry) AS most_entries
FROM path WHERE kind = 'StartStage'
GROUP BY 1, 2
ORDER BY 1, min(position), 2
"""


@shows_sql(_PATH, _REWORK_SQL)
def rework(source: Source, filters: Filters | None = None) -> pd.DataFrame:
    """Rework: stages entered more than once by the same run (Go To loops, fault retries).

    Columns: orchestration_name, stage_name, runs (that entered it), entries (in all),
    runs_reworked (entered it twice or more), rework (entries beyond the first per run)
    and most_entries (by one run).
    """
    return query(source, _REWORK_SQL, filters, ctes=(_PATH,))


# Both read the run's previous and next completed step that the store keeps on each step
# run (by completion, then start, name and id): measured at 1M runs, a lag() window or a
# min/max per run over the same rows took 2-7 s, these a few tenths.
_DFG_SQL = """
SELECT previous_step_name AS source, step_name AS target, count(*) AS count,
       {median} AS median_seconds, avg({gap}) AS mean_seconds
FROM steps_done WHERE previous_end_date IS NOT NULL
GROUP BY 1, 2
ORDER BY count DESC, 1, 2
"""

_ENDS_SQL = """
, ends AS (  -- one scan: a second reader of steps_done would make DuckDB materialize it
    SELECT step_name, count(CASE WHEN previous_end_date IS NULL THEN 1 END) AS starts,
           count(CASE WHEN next_end_date IS NULL{or_after_t} THEN 1 END) AS ends
    FROM steps_done{as_of_join}
    GROUP BY step_name
)
SELECT 'start' AS side, step_name, starts AS runs FROM ends WHERE starts > 0
UNION ALL
SELECT 'end', step_name, ends FROM ends WHERE ends > 0
ORDER BY 1 DESC, runs DESC, 2
"""


@shows_sql(_DFG_SQL)
def directly_follows(source: Source, filters: Filters | None = None) -> pd.DataFrame:
    """The performance directly-follows graph of completed steps (as process mining tools
    draw it): how often one step completed right after another in a run, and the median
    and mean seconds between the two completions.

    Columns: source, target, count, median_seconds, mean_seconds.
    """
    gap = seconds("previous_end_date", "end_date")
    sql = _DFG_SQL.format(median=quantile(gap, 0.5), gap=gap)
    return query(source, sql, filters, ctes=(STEPS_DONE,))


@shows_sql(_ENDS_SQL)
def start_end_steps(source: Source, filters: Filters | None = None) -> pd.DataFrame:
    """Which step completes first and which last in each run, counted: side ("start" or
    "end"), step_name, runs."""
    return query(source, _ENDS_SQL, filters, ctes=(STEPS_DONE,))
