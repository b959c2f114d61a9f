"""Paths: the way runs go through an orchestration, decision outcomes, fault paths, rework.

The order in which a run entered its elements, and which decision a `TakeOutcome` row
is about, are not in the current-state tables: they are read from the `log`, filtered on
`kind` first. `LOG_FACTS` is the one place that reads a log payload; give those facts real
columns and only it changes.
"""

from __future__ import annotations

import pandas as pd

from orchlab.analysis._sql import STAGES, STEPS_DONE, Source, quantile, query, seconds, shows_sql
from orchlab.analysis.filters import Filters

__all__ = [
    "LOG_FACTS",
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

# Facts of a run's path only a log payload holds: the decision a TakeOutcome row is about
# and the End element an EndInstance reached (read in log order with the stages entered).
LOG_FACTS = {
    "decision": "payload::JSON->>'$.decision'",
    "end_element": "payload::JSON->>'$.end'",
}

# A run's path: its start, each stage entered, each decision taken and how it ended, in log
# order (seq), with FailStage rows to tell fault paths by.
_ELEMENTS = """elements AS (
    SELECT l.instance_id AS run_id, sel.orchestration_name, l.seq, l.kind,
           CASE l.kind WHEN 'StartInstance' THEN '$Start'
                       WHEN 'StartStage' THEN l.stage_name
                       WHEN 'FailStage' THEN l.stage_name
                       WHEN 'TakeOutcome' THEN {decision}
                       WHEN 'EndInstance' THEN coalesce({end_element}, '$End')
                       WHEN 'CancelInstance' THEN '$Canceled'
                       ELSE '$Error' END AS element
    FROM log l JOIN sel ON sel.run_id = l.instance_id CROSS JOIN as_of a
    WHERE l.kind IN ('StartInstance', 'StartStage', 'FailStage', 'TakeOutcome', 'EndInstance',
                     'CancelInstance', 'FailInstance')
      AND l.timestamp <= a.t
)""".format(**{k: "l." + v for k, v in LOG_FACTS.items()})

_TRANSITIONS_SQL = """
, steps_ AS (
    SELECT run_id, orchestration_name, kind, element,
           lag(element) OVER (PARTITION BY run_id ORDER BY seq) AS previous,
           lag(kind) OVER (PARTITION BY run_id ORDER BY seq) AS previous_kind
    FROM elements
)
SELECT orchestration_name, previous AS source, element AS target,
       CASE WHEN previous_kind = 'FailStage' THEN 'fault' ELSE 'next' END AS kind,
       count(*) AS count, count(DISTINCT run_id) AS runs
FROM steps_
WHERE previous IS NOT NULL AND kind <> 'FailStage'
GROUP BY 1, 2, 3, 4
ORDER BY 1, count DESC, 2, 3
"""


@shows_sql(_ELEMENTS, _TRANSITIONS_SQL)
def transitions(source: Source, filters: Filters | None = None) -> pd.DataFrame:
    """How often runs went from one element to the next: the counts on a diagram's edges.

    Elements are stage and decision names, "$Start", "$End" (completed without an End
    element, else the End's name), "$Canceled" and "$Error". `kind` is "fault" when the
    source stage failed and the run went on along its fault path (or to "$Error"). Go To
    loops show as edges back to an earlier stage. Columns: orchestration_name, source,
    target, kind, count (times taken) and runs (distinct runs that took it).
    """
    return query(source, _TRANSITIONS_SQL, filters, ctes=(_ELEMENTS,))


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
    SELECT orchestration_name, stage_name, count(*) AS failed, count(DISTINCT run_id) AS runs
    FROM stages WHERE status = 'Error' GROUP BY 1, 2
),
went AS (
    SELECT orchestration_name, source AS stage_name,
           CAST(sum(CASE WHEN target <> '$Error' THEN count ELSE 0 END) AS BIGINT) AS recovered,
           CAST(sum(CASE WHEN target = '$Error' THEN count ELSE 0 END) AS BIGINT) AS run_failed,
           string_agg(DISTINCT CASE WHEN target <> '$Error' THEN target END, ', ') AS fault_path
    FROM ({transitions}) AS t
    WHERE kind = 'fault'
    GROUP BY 1, 2
)
SELECT f.orchestration_name, f.stage_name, f.failed, f.runs,
       coalesce(w.recovered, 0) AS recovered, coalesce(w.run_failed, 0) AS run_failed,
       w.fault_path
FROM failed f LEFT JOIN went w
  ON w.orchestration_name = f.orchestration_name AND w.stage_name = f.stage_name
ORDER BY f.orchestration_name, f.failed DESC, f.stage_name
"""


@shows_sql(_FAULTS_SQL)
def fault_paths(source: Source, filters: Filters | None = None) -> pd.DataFrame:
    """Stages that failed, and what their runs did next: a fault path, or the run failed.

    Columns: orchestration_name, stage_name, failed (stage runs in Error), runs,
    recovered (times the fault path was taken), run_failed (times the run went to Error),
    fault_path (where the fault path led).
    """
    inner = _TRANSITIONS_SQL.strip().removeprefix(",").strip()
    inner = inner.replace("ORDER BY 1, count DESC, 2, 3", "")
    # The transitions' own CTE is a WITH inside the subquery, on the same `elements`.
    inner = "WITH " + inner
    sql = _FAULTS_SQL.format(transitions=inner)
    return query(source, sql, filters, ctes=(STAGES, _ELEMENTS))


_REWORK_SQL = """
, entries AS (
    SELECT orchestration_name, stage_name, run_id, count(*) AS n, min(position) AS position
    FROM stages GROUP BY 1, 2, 3
)
SELECT orchestration_name, stage_name, count(*) AS runs, CAST(sum(n) AS BIGINT) AS entries,
       count(CASE WHEN n > 1 THEN 1 END) AS runs_reworked,
       CAST(sum(n) - count(*) AS BIGINT) AS rework, max(n) AS most_entries
FROM entries
GROUP BY 1, 2
ORDER BY 1, min(position), 2
"""


@shows_sql(_REWORK_SQL)
def rework(source: Source, filters: Filters | None = None) -> pd.DataFrame:
    """Rework: stages entered more than once by the same run (Go To loops, fault retries).

    Columns: orchestration_name, stage_name, runs (that entered it), entries (in all),
    runs_reworked (entered it twice or more), rework (entries beyond the first per run)
    and most_entries (by one run).
    """
    return query(source, _REWORK_SQL, filters, ctes=(STAGES,))


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
           count(CASE WHEN next_end_date IS NULL OR next_end_date > a.t THEN 1 END) AS ends
    FROM steps_done CROSS JOIN as_of a
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
