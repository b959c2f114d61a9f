"""Replay equals live: an engine reopened from the file holds exactly the state of the live one.

Like SpiffWorkflow's save/restore after each step: random work on a live engine, and every few
calls a second engine opened on a copy of the file must agree on every open run and work item.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from orchlab.engine import Engine
from orchlab.simulate.demo import deploy_examples, setup_directory
from orchlab.store import HistoryStore
from tests.engine.helpers import random_call


def _summary(engine: Engine) -> dict[str, Any]:
    runs = {}
    for run in engine.state.runs.values():
        stage = run.stage
        runs[run.id] = (
            str(run.status), run.error, run.path, dict(run.visits), run.variables, run.outputs,
            sorted(run.outcomes), run.next_element, run.stage_count, run.work_count,
            None if stage is None else (
                stage.id, stage.name, str(stage.status),
                [(s.id, s.name, str(s.status), s.outputs, s.work_item)
                 for s in stage.steps.values()],
            ),
        )  # fmt: skip
    items = {
        w.id: (str(w.status), w.assignee, w.assignee_type, w.owner, w.completed_by, w.values)
        for w in engine.state.work_items.values()
    }
    return {"runs": runs, "items": items, "records": engine.state.records,
            "ids": (engine.ids.counter, engine._record_ids.counter, engine.state.seq),
            "routing": (engine.state.open_by_owner, engine.state.last_routed)}  # fmt: skip


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_reopened_engine_equals_the_live_one(tmp_path: Path, clock, seed: int) -> None:
    rng = random.Random(seed)
    live = Engine(HistoryStore(tmp_path / "live.duckdb"), clock=clock)
    setup_directory(live)
    deploy_examples(live)
    for step in range(1, 121):
        clock.advance(minutes=rng.randint(1, 600))
        random_call(live, rng)
        if step % 20 == 0:
            copy = live.store.snapshot(tmp_path / f"copy{step}.duckdb")
            reopened = Engine(HistoryStore(copy), clock=clock)
            assert _summary(reopened) == _summary(live), f"after {step} calls"
            reopened.store.close()
    assert live.store.execute("SELECT count(DISTINCT kind) FROM log")[0][0] >= 12
