"""Opening an engine on a large history: time and memory grow with the open runs only.

    .venv/bin/python bench/history.py --runs 1000000     # once: bench/.cache/case-1000000.duckdb
    .venv/bin/python bench/open.py --runs 1000000        # --repeats N (default 5)

Each repeat opens `Engine(HistoryStore(copy))` in a fresh child process on a copy of the
cached history, so the figure is what a user's notebook pays on its first cell: the
definitions, the directory, the records of open runs and the open runs themselves. Two ways,
side by side on the same file: replaying every open run's log rows (`snapshots=False`, and
what any file without a snapshot gets), and starting from the snapshot the last engine wrote
when its store closed (the default). It prints medians of seconds and peak RSS, the cost per
open run, and what closing costs when it writes the snapshot. The target (issue 8): under 2 s
for 30,000 open runs, under 1 GiB.
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


def child(path: str, mode: str) -> None:
    import orchlab.definition.examples  # noqa: F401 - registers the example flows
    from orchlab.engine import Engine
    from orchlab.store import HistoryStore

    started = time.perf_counter()
    engine = Engine(HistoryStore(path), snapshots=mode != "replay")
    seconds = time.perf_counter() - started
    if mode == "write":  # what a close that writes the snapshot costs
        engine._snapshot_seq = -1  # as if the runs had moved since
        started = time.perf_counter()
        engine.store.close()
        print(json.dumps({"seconds": time.perf_counter() - started}))
        return
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
    parser.add_argument("--mode", default="snapshot", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.mode)
        return
    source = cache_path(args.runs)
    if not source.exists():
        sys.exit(f"{source} is missing: build it with bench/history.py --runs {args.runs}")
    with tempfile.TemporaryDirectory(prefix="orchlab-open-") as tmp:
        copy = Path(tmp) / source.name
        shutil.copyfile(source, copy)
        # Fold once (a history at rest is folded when its store closes), with no snapshot.
        fold = f"from orchlab.store import HistoryStore as H; H({str(copy)!r}).close()"
        subprocess.run([sys.executable, "-c", fold], check=True)
        runs = {mode: [] for mode in ("replay", "write", "snapshot")}
        for mode in ("replay", "write", "snapshot"):  # "write" leaves the snapshot behind
            for _ in range(args.repeats if mode != "write" else 3):
                out = subprocess.run(
                    [sys.executable, __file__, "--child", str(copy), "--mode", mode],
                    check=True, capture_output=True, text=True,
                )  # fmt: skip
                runs[mode].append(json.loads(out.stdout.strip().splitlines()[-1]))
    first = runs["replay"][0]
    print(f"history: {first['runs']:,} runs, {first['open']:,} open")
    assert all(r["open"] == first["open"] for r in runs["snapshot"]), "a snapshot lost runs"
    for mode, label in (("replay", "replay the log"), ("snapshot", "from a snapshot")):
        found = runs[mode]
        secs = statistics.median(r["seconds"] for r in found)
        rss = statistics.median(r["rss"] for r in found)
        low, high = (f(r["seconds"] for r in found) for f in (min, max))
        per = secs / max(first["open"], 1) * 1e6
        print(
            f"open, {label:16} {secs:6.2f} s  (of {len(found)}: {low:.2f} to {high:.2f}), "
            f"{per:4.0f} us per open run, peak RSS {rss:5.0f} MiB"
        )
    ratio = statistics.median(r["seconds"] for r in runs["replay"]) / statistics.median(
        r["seconds"] for r in runs["snapshot"]
    )
    print(f"snapshot vs replay   {ratio:5.1f}x faster")
    write = statistics.median(r["seconds"] for r in runs["write"])
    print(f"close, writing the snapshot {write:6.2f} s")


if __name__ == "__main__":
    main()
