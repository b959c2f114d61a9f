"""Opening an engine on a large history: time and memory grow with the open runs only.

    .venv/bin/python bench/history.py --runs 1000000     # once: bench/.cache/case-1000000.duckdb
    .venv/bin/python bench/open.py --runs 1000000        # --repeats N (default 5)

Each repeat opens `Engine(HistoryStore(copy))` in a fresh child process on a copy of the
cached history (folded first, as any earlier close leaves it), so the figure is what a user's
notebook pays on its first cell: the definitions, the directory, the records of open runs and
the replay of their log rows (`log_open`). It prints medians of seconds and peak RSS, with the
open runs and all runs, and the cost per open run. The target (issue 8): under 2 s for 30,000
open runs, under 1 GiB.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def child(path: str) -> None:
    import orchlab.definition.examples  # noqa: F401 - registers the example flows
    from orchlab.engine import Engine
    from orchlab.store import HistoryStore

    started = time.perf_counter()
    engine = Engine(HistoryStore(path))
    seconds = time.perf_counter() - started
    open_runs = len(engine.state.runs)
    (total,) = engine.store.execute("SELECT count(*) FROM runs")[0]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    engine.store.close()
    print(json.dumps({"seconds": seconds, "open": open_runs, "runs": total, "rss": peak}))


def main() -> None:
    from history import cache_path

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    source = cache_path(args.runs)
    if not source.exists():
        sys.exit(f"{source} is missing: build it with bench/history.py --runs {args.runs}")
    with tempfile.TemporaryDirectory(prefix="orchlab-open-") as tmp:
        copy = Path(tmp) / source.name
        shutil.copyfile(source, copy)
        # Fold once (a history at rest is folded when its store closes).
        fold = f"from orchlab.store import HistoryStore as H; H({str(copy)!r}).close()"
        subprocess.run([sys.executable, "-c", fold], check=True)
        results = []
        for _ in range(args.repeats):
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(copy)],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    secs = statistics.median(r["seconds"] for r in results)
    rss = statistics.median(r["rss"] for r in results)
    first = results[0]
    print(f"history: {first['runs']:,} runs, {first['open']:,} open")
    low, high = (f(r["seconds"] for r in results) for f in (min, max))
    print(f"open an engine   {secs:6.2f} s  (of {len(results)}: {low:.2f} to {high:.2f})")
    print(f"per open run     {secs / max(first['open'], 1) * 1e6:6.0f} us")
    print(f"peak RSS         {rss:6.0f} MiB")


if __name__ == "__main__":
    main()
