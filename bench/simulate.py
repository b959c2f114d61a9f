"""Simulation speed and memory: a year of the case-escalation process at 300 runs a day.

    .venv/bin/python bench/simulate.py                  # 365 days x 300 a day, 3 repeats
    .venv/bin/python bench/simulate.py --days 30        # a shorter look

Each repeat runs in a fresh child process (so peak RSS is the simulation's own, DuckDB
included) on the real engine with its history in a DuckDB file: arrivals create and update
Cases (the trigger fires), stand-in people answer in office hours one item at a time
(enough of them that the queue keeps up), and the history is folded into its tables at the
end (as the first analysis would). It prints medians: runs, seconds, runs per second, peak
RSS, and the fold's own seconds. The target (issue 8): about 110,000 runs in under 60 s and
under 1 GiB.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def child(days: float, per_day: float, path: str) -> None:
    from orchlab.definition.examples import case_escalation
    from orchlab.simulate import scenario_from_dict, simulate
    from orchlab.store import HistoryStore

    scenario = scenario_from_dict(
        {
            "days": days,
            "seed": 1,
            "arrivals": {
                "Case_Escalation": {
                    "per_day": per_day,
                    "record": {"create": {"Amount": {"integer": [100, 2500]}}},
                }
            },
            # Enough people that the queues keep up: the benchmark measures the engine.
            "people": {"team_size": 12, "capacity": 4},
            "response": {"default": {"median": "20m", "spread": 0.6}},
            "admins": {"every": "1d", "reassign_after": "3d", "cancel_after": "30d"},
        }
    )
    started = time.perf_counter()
    sim = simulate([case_escalation()], scenario, store=HistoryStore(path))
    simulated = time.perf_counter() - started
    fold = time.perf_counter()
    sim.store.refresh()
    folded = time.perf_counter() - fold
    runs = sim.report.started
    sim.store.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    print(json.dumps({"runs": runs, "seconds": simulated, "fold": folded, "rss": peak}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=float, default=365.0)
    parser.add_argument("--per-day", type=float, default=300.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.days, args.per_day, args.child)
        return
    results = []
    for i in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            path = str(Path(tmp) / "sim.duckdb")
            cmd = [sys.executable, __file__, "--days", str(args.days)]
            cmd += ["--per-day", str(args.per_day), "--child", path]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True)
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
            r = results[-1]
            print(
                f"  run {i + 1}: {r['runs']:,} runs in {r['seconds']:.1f} s "
                f"({r['runs'] / r['seconds']:,.0f} runs/s), fold {r['fold']:.1f} s, "
                f"peak RSS {r['rss']:,.0f} MiB"
            )

    def med(key: str) -> float:
        return statistics.median(r[key] for r in results)

    print(
        f"simulation, {args.days:g} days at {args.per_day:g} a day: {med('runs'):,.0f} runs in "
        f"{med('seconds'):.1f} s ({med('runs') / med('seconds'):,.0f} runs/s) + fold "
        f"{med('fold'):.1f} s; peak RSS {med('rss'):,.0f} MiB (medians of {len(results)})"
    )


if __name__ == "__main__":
    main()
