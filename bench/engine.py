"""Engine throughput and latency, side by side with SpiffWorkflow on the same process.

    .venv/bin/python bench/engine.py            # throughput + interactive latency
    .venv/bin/python bench/engine.py --memory   # also: 100,000 runs in flight

orchlab runs the case-escalation example with every work item completed at once by a
scripted person, on a virtual clock, history persisted to a DuckDB file (a simulation
groups runs into one transaction per batch). SpiffWorkflow 3.x runs the same process
(shared/anchors/reference_process.bpmn) held in memory. The two alternate (machines are
shared); it prints the medians and the median ratio of the side-by-side pairs.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import orchlab.definition.examples  # noqa: E402, F401
from orchlab import SYSTEM  # noqa: E402
from orchlab.engine import Engine  # noqa: E402
from orchlab.engine.clock import VirtualClock  # noqa: E402
from orchlab.simulate.demo import deploy_examples, setup_directory  # noqa: E402
from orchlab.store import HistoryStore  # noqa: E402

ANCHOR = ROOT.parent / "shared" / "anchors" / "reference_process.bpmn"
VALUES = {
    "Triage_review": {"priority": "P1"},
    "Engineering_fix": {"resolution": "fixed"},
    "CSM_outreach": {"resolution": "called"},
}


def amounts(n: int, seed: int = 1) -> list[int]:
    rng = random.Random(seed)  # about half the cases escalate, as in the anchor runs
    return [rng.choice([400, 1500]) for _ in range(n)]


def new_engine(path: Path) -> tuple[Engine, VirtualClock]:
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)
    clock = VirtualClock()
    engine = Engine(HistoryStore(path), clock=clock)
    setup_directory(engine)
    deploy_examples(engine)
    return engine, clock


def orchlab_runs(engine: Engine, amounts_: list[int], batch: int = 500) -> None:
    users = {
        "Triage_review": "ada",
        "Escalation_review": "dana",
        "CSM_outreach": "cara",
        "Confirm_close": "ada",
        "Engineering_fix": "olivia",
    }
    for start in range(0, len(amounts_), batch):
        with engine.batch():
            for amount in amounts_[start : start + batch]:
                rid = engine.create_record(
                    "Case", {"Severity": "Low", "Amount": amount, "Owner": "ada"}, by=SYSTEM
                ).id
                engine.update_record(rid, {"Severity": "High"}, by=SYSTEM)
                run = engine.state.runs[engine.ids.prefix + f"{engine.ids.counter:06d}"]
                while run.status == "InProgress":
                    for item in [
                        engine.state.work_items[s.work_item]
                        for s in run.stage.steps.values()  # type: ignore[union-attr]
                        if s.work_item and s.status == "InProgress"
                    ]:
                        engine.complete_work_item(
                            item.id, users[item.step_name], VALUES.get(item.step_name, {})
                        )
                assert run.status == "Completed"


def spiff_spec() -> tuple[object, object]:
    from SpiffWorkflow.bpmn.parser import BpmnParser

    parser = BpmnParser()
    parser.add_bpmn_file(str(ANCHOR))
    return parser.get_spec("case_orchestration"), parser.get_subprocess_specs("case_orchestration")


def spiff_runs(specs: tuple[object, object], amounts_: list[int]) -> None:
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.util.task import TaskState

    spec, subs = specs
    for amount in amounts_:
        wf = BpmnWorkflow(spec, subs)
        start = wf.get_tasks(state=TaskState.READY)[0]
        start.data["amount"] = amount
        wf.do_engine_steps()
        while not wf.is_completed():
            for task in wf.get_tasks(state=TaskState.READY, manual=True):
                task.data["done"] = True
                task.run()
            wf.do_engine_steps()


def timed(fn, arg) -> float:
    """Seconds `fn(arg)` takes, after a full collection so each side starts even."""
    gc.collect()
    t0 = time.perf_counter()
    fn(arg)
    return time.perf_counter() - t0


def interactive_latency(tmp: Path, samples: int = 200) -> float:
    """Median ms to complete one work item and advance its run, committed to the file."""
    engine, _ = new_engine(tmp / "latency.duckdb")
    for _ in range(samples):
        engine.start_run(
            "Loan", {"application_id": "A", "applicant": "Kim", "amount": Decimal(100)}, by=SYSTEM
        )
    times = []
    for item in engine.work_items():
        t0 = time.perf_counter()
        engine.complete_work_item(item.id, "sam", {"documents_complete": True})
        times.append(time.perf_counter() - t0)
    engine.store.close()
    return statistics.median(times) * 1000


def memory(path: Path, n: int = 100_000) -> tuple[float, float]:
    """Peak RSS in MiB before and after starting n runs that each wait on a work item."""
    import resource

    def peak() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    engine, _ = new_engine(path)
    before = peak()
    for _ in range(0, n, 5000):
        with engine.batch():
            for _ in range(5000):
                engine.start_run("Loan", {"application_id": "A", "applicant": "Kim",
                                          "amount": Decimal(100)}, by=SYSTEM)  # fmt: skip
    gc.collect()
    assert len(engine.work_items()) == n
    after = peak()
    engine.store.close()
    return before, after


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--memory-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        before, after = memory(Path(args.memory_child))
        print(
            f"memory: 100,000 runs in flight: peak RSS {after:.0f} MiB for the whole process "
            f"(Python, DuckDB and its buffers; {before:.0f} MiB before the runs)"
        )
        return
    tmp = Path(tempfile.mkdtemp(prefix="orchlab-bench-"))
    data = amounts(args.runs)

    try:
        import SpiffWorkflow  # noqa: F401
    except ImportError:
        print("SpiffWorkflow not installed (pip install -e '.[bench]'): orchlab alone")
        spiff = False
    else:
        spiff = True
    n_spiff = max(200, args.runs // 4)
    ours, theirs, ratios = [], [], []
    # Alternate the two, so both see the same machine (these machines are shared).
    for _ in range(args.repeats):
        engine = new_engine(tmp / "tp.duckdb")[0]  # setup untimed
        ours.append(args.runs / timed(lambda e: orchlab_runs(e, data), engine))
        engine.store.close()
        if spiff:
            specs = spiff_spec()
            theirs.append(n_spiff / timed(lambda s: spiff_runs(s, data[:n_spiff]), specs))
            ratios.append(ours[-1] / theirs[-1])
    med = statistics.median
    print(
        f"orchlab (history in DuckDB file): {med(ours):8.0f} runs/s  "
        f"(median of {args.repeats}, {args.runs} runs each)"
    )
    if spiff:
        print(
            f"SpiffWorkflow 3 (in memory):      {med(theirs):8.0f} runs/s  "
            f"(median of {args.repeats}, {n_spiff} runs each)"
        )
        print(
            f"ratio orchlab / SpiffWorkflow:    {med(ratios):8.1f} x  "
            f"(median of the {args.repeats} side-by-side pairs; "
            f"range {min(ratios):.1f} to {max(ratios):.1f})"
        )
    print(
        f"interactive: complete one work item, committed: {interactive_latency(tmp):.2f} ms median"
    )
    if args.memory:  # in a fresh process, so nothing above is counted
        out = subprocess.run(
            [sys.executable, __file__, "--memory-child", str(tmp / "memory.duckdb")],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        print(out.stdout.strip())
    os.environ.get("KEEP_BENCH") or [p.unlink() for p in tmp.glob("*")]


if __name__ == "__main__":
    main()
