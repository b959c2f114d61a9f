"""A large, realistic case-escalation history for the analysis benchmark, cached on disk.

    .venv/bin/python bench/history.py --runs 1000000    # bench/.cache/case-1000000.duckdb

The real engine on a virtual clock: cases arrive (`--per-day` a day, Poisson), their
severity turns High so the orchestration starts, and scripted people answer each work
item after a lognormal delay (median per step, below). A share of runs (`--stalled`,
3% by default) is left waiting on a work item nobody answers, as in a real backlog.
History is committed in batches (`engine.batch()`), so a million runs take about ten
minutes on the 2-core machine; the file is kept under bench/.cache/ (gitignored).
"""

from __future__ import annotations

import argparse
import datetime as dt
import heapq
import math
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import orchlab.definition.examples  # noqa: E402, F401 - registers the example flows
from orchlab import SYSTEM  # noqa: E402
from orchlab.engine import Engine  # noqa: E402
from orchlab.engine.clock import VirtualClock  # noqa: E402
from orchlab.simulate.demo import deploy_examples, setup_directory  # noqa: E402
from orchlab.store import HistoryStore  # noqa: E402

CACHE = ROOT / "bench" / ".cache"
START = dt.datetime(2024, 1, 1, 8, 0)
# Median minutes a person takes to answer, per step (lognormal, sigma 1).
MEDIAN_MINUTES = {
    "Triage_review": 90,
    "Escalation_review": 240,
    "Engineering_fix": 1200,
    "CSM_outreach": 180,
    "Confirm_close": 60,
}
VALUES = {
    "Triage_review": {"priority": "P2"},
    "Engineering_fix": {"resolution": "fixed"},
    "CSM_outreach": {"resolution": "called"},
}


def cache_path(runs: int) -> Path:
    return CACHE / f"case-{runs}.duckdb"


def build(path: Path, runs: int, per_day: float = 1000.0, stalled: float = 0.03, seed: int = 1):
    """Write `runs` case-escalation runs to a new history file at `path`."""
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    clock = VirtualClock(START)
    engine = Engine(HistoryStore(path), clock=clock)
    setup_directory(engine)
    deploy_examples(engine)
    engine.store.source = "simulated"
    events: list[tuple[dt.datetime, int, str | None]] = []  # (when, n, work item or None)
    n = 0
    t = START
    for _ in range(runs):
        t += dt.timedelta(minutes=rng.expovariate(per_day / 1440.0))
        n += 1
        events.append((t.replace(second=0, microsecond=0), n, None))
    heapq.heapify(events)
    frozen: set[str] = set()  # runs left stalled
    t0 = time.perf_counter()
    started = 0
    while events:
        with engine.batch():
            for _ in range(20_000):
                if not events:
                    break
                when, _, item_id = heapq.heappop(events)
                clock.set(max(when, clock.now()))
                if item_id is None:
                    rid = engine.create_record(
                        "Case",
                        {
                            "Severity": "Low",
                            "Amount": rng.randint(100, 2500),
                            "Owner": rng.choice(["ada", "dana"]),
                        },
                        by=SYSTEM,
                    ).id
                    (run_id,) = engine.update_record(rid, {"Severity": "High"}, by=SYSTEM).started
                    started += 1
                    if rng.random() < stalled:
                        frozen.add(run_id)
                else:
                    item = engine.state.work_items.get(item_id)
                    if item is None or item.status != "Assigned":
                        continue
                    run_id = item.run_id
                    who = item.owner or (item.assignee if item.assignee_type == "User" else None)
                    if who is None:
                        who = rng.choice(
                            engine.directory.members_of(item.assignee, item.assignee_type)  # type: ignore[arg-type]
                        )
                    engine.complete_work_item(item.id, who, VALUES.get(item.step_name, {}))
                run = engine.state.runs.get(run_id)
                if run is None or run.stage is None:
                    continue
                # A stalled run stops at its second stage: its items there are never answered.
                if run_id in frozen and run.stage_count >= 2:
                    continue
                for step in run.stage.steps.values():
                    if step.work_item and step.status == "InProgress":
                        wi = engine.state.work_items[step.work_item]
                        if wi.created == clock.now():  # opened by this call: schedule its answer
                            median = MEDIAN_MINUTES[wi.step_name]
                            delay = median * math.exp(rng.gauss(0, 1))
                            n += 1
                            heapq.heappush(
                                events,
                                (clock.now() + dt.timedelta(minutes=round(1 + delay)), n, wi.id),
                            )
        done = started / (time.perf_counter() - t0)
        print(f"\r{started:,} runs started ({done:,.0f}/s), {len(events):,} events left", end="")
    print()
    engine.store.checkpoint()
    engine.store.close()
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--per-day", type=float, default=1000.0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    path = args.out or cache_path(args.runs)
    t0 = time.perf_counter()
    build(path, args.runs, args.per_day)
    print(f"{path}: {args.runs:,} runs in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
