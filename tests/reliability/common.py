"""What the reliability suites share: hashing a store's files, driving every open run to its end."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

from orchlab import SYSTEM
from orchlab.engine import Engine, RunStatus
from orchlab.simulate.demo import answer


def file_hashes(path: Path) -> dict[str, str]:
    """SHA-256 of a history file and its sidecars (.wal, .seq): what 'unchanged' means."""
    out = {}
    for p in sorted(path.parent.glob(path.name + "*")):
        out[p.name] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def finish_all(engine: Engine, rng: random.Random, *, rounds: int = 200) -> int:
    """Drive every open run of the demo world to Completed; returns the calls it took.

    Suspended and errored runs are resumed, every open work item is completed with valid
    values. Raises AssertionError when runs are still open after `rounds` passes: a run that
    cannot finish is a failure of the engine, not of the test.
    """
    calls = 0
    for _ in range(rounds):
        if not engine.state.runs:
            return calls
        for run in list(engine.state.runs.values()):
            if run.status in (RunStatus.SUSPENDED, RunStatus.ERROR):
                engine.resume_run(run.id, by=SYSTEM)
                calls += 1
        for item in engine.work_items():
            if item.status != "Assigned":  # closed meanwhile: its stage ended
                continue
            screen = engine.state.runs[item.run_id].plan.screens[item.screen]
            engine.complete_work_item(item.id, SYSTEM, answer(screen, rng))
            calls += 1
        if not engine.work_items() and engine.state.runs:
            for run_id in list(engine.state.runs):  # waits on a condition: tell it to look again
                engine.publish_event(run_id, by=SYSTEM)
                calls += 1
    left = {r: str(run.status) for r, run in engine.state.runs.items()}
    raise AssertionError(f"runs still open after {rounds} rounds: {left}")
