"""Analysis questions on a large history, side by side with pm4py and plain pandas.

    .venv/bin/python bench/history.py --runs 1000000      # once: bench/.cache/case-1000000.duckdb
    .venv/bin/python bench/analysis.py --runs 1000000

The history is opened read-only (folded into its current-state tables when it was last
closed: bench/history.py's build is, or open it once read-write). pm4py and pandas get
the same event log (`orchlab.analysis.event_log`, one row per completed step) as a DataFrame
already in memory, which is not timed. Medians of `--repeats`; the last line is the
smallest ratio over the comparable questions.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from history import cache_path  # noqa: E402

import orchlab.analysis as oa  # noqa: E402
from orchlab.analysis import Filters  # noqa: E402
from orchlab.analysis.eventlog import event_log  # noqa: E402
from orchlab.store import HistoryStore  # noqa: E402


def median_time(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-pm4py", action="store_true")
    args = parser.parse_args()
    path = cache_path(args.runs)
    if not path.exists():
        sys.exit(f"{path} is missing: build it with bench/history.py --runs {args.runs}")
    store = HistoryStore(path, read_only=True)
    store.con.execute("SET enable_progress_bar = false")
    rows = store.execute("SELECT count(*) FROM log")[0][0]
    print(f"history: {args.runs:,} runs, {rows / 1e6:.1f} M log rows ({path.name})")
    r = args.repeats
    questions: dict[str, Callable[[], object]] = {
        "stalled runs": lambda: oa.stalled_runs(store),
        "backlog per assignee": lambda: oa.backlog(store),
        "stage p50/p90": lambda: oa.cycle_times(store, level="stage"),
        "one queue's open items": lambda: oa.open_work_items(
            store, Filters(assignee="Engineering")
        ),
        "throughput per week": lambda: oa.throughput(store),
        "bottlenecks (stages)": lambda: oa.bottlenecks(store),
        "decision outcomes": lambda: oa.outcomes(store),
        "transitions (paths)": lambda: oa.transitions(store),
        "fault paths": lambda: oa.fault_paths(store),
        "rework": lambda: oa.rework(store),
        "person vs automated": lambda: oa.time_split(store),
        "work item p50/p90": lambda: oa.cycle_times(store, level="work_item"),
        "stage times per week": lambda: oa.cycle_times(store, level="stage", period="week"),
        "one orchestration's DFG": lambda: oa.directly_follows(
            store, Filters(orchestration="Case_Escalation")
        ),
    }
    for name, fn in questions.items():
        print(f"{name:28s} {median_time(fn, r):7.3f} s")
    comparable: dict[str, Callable[[], object]] = {
        "case durations": lambda: oa.cycle_times(store, level="run"),
        "activity durations": lambda: oa.cycle_times(store, level="step"),
        "performance DFG": lambda: oa.directly_follows(store),
        "start/end activities": lambda: oa.start_end_steps(store),
    }
    ours = {name: median_time(fn, r) for name, fn in comparable.items()}
    if args.no_pm4py:
        for name, t in ours.items():
            print(f"{name:28s} {t:7.3f} s")
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pm4py
    log = event_log(store)
    print(f"event log for pm4py/pandas: {len(log):,} events")
    case, act, ts, start = "case:concept:name", "concept:name", "time:timestamp", "start_timestamp"

    def pd_case() -> object:
        g = log.groupby(case)
        return (g[ts].max() - g[start].min()).dt.total_seconds().describe()

    def pd_act() -> object:
        return (log[ts] - log[start]).dt.total_seconds().groupby(log[act]).median()

    def pd_dfg() -> object:
        ordered = log.sort_values([case, ts], kind="stable")
        same = ordered[case].eq(ordered[case].shift())
        pairs = ordered[act].shift()[same] + " -> " + ordered[act][same]
        gaps = (ordered[ts] - ordered[ts].shift())[same].dt.total_seconds()
        return gaps.groupby(pairs).median()

    def pd_ends() -> object:
        g = log.sort_values([case, ts], kind="stable").groupby(case)[act]
        return g.first().value_counts(), g.last().value_counts()

    theirs = {
        "case durations": (lambda: pm4py.get_all_case_durations(log), pd_case),
        "activity durations": (
            lambda: pm4py.get_service_time(
                log, start_timestamp_key=start, aggregation_measure="median"
            ),
            pd_act,
        ),
        "performance DFG": (lambda: pm4py.discover_performance_dfg(log), pd_dfg),
        "start/end activities": (
            lambda: (pm4py.get_start_activities(log), pm4py.get_end_activities(log)),
            pd_ends,
        ),
    }
    smallest = float("inf")
    print(f"{'':28s} {'orchlab':>9s} {'pm4py':>9s} {'pandas':>9s} {'x pm4py':>8s} {'x pandas':>8s}")
    for name, (pm, pdf) in theirs.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_pm = median_time(pm, min(r, 3))
        t_pd = median_time(pdf, min(r, 3))
        t = ours[name]
        smallest = min(smallest, t_pm / t)
        print(f"{name:28s} {t:8.3f}s {t_pm:8.3f}s {t_pd:8.3f}s {t_pm / t:7.1f}x {t_pd / t:7.1f}x")
    print(f"smallest ratio vs pm4py: {smallest:.1f}x")


if __name__ == "__main__":
    main()
