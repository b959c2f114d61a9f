"""Reading what a run did, as short lines, for exact comparisons."""

from __future__ import annotations

import os
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

from orchlab import SYSTEM
from orchlab.engine import Engine, RunStatus
from orchlab.simulate.demo import answer


def trace(engine: Engine, run_id: str) -> list[str]:
    """One line per log row of a run: kind, then stage/step or work item, then status."""
    rows = engine.store.execute(
        "SELECT kind, stage_name, step_name, work_item_id, status, actor, comments FROM log "
        "WHERE instance_id = ? ORDER BY seq",
        [run_id],
    )
    lines = []
    for kind, stage, step, _item, status, actor, comments in rows:
        where = "/".join(x for x in (stage, step) if x)
        if kind == "TakeOutcome":
            where = comments or "default"
        line = " ".join(x for x in (kind, where, status) if x)
        if actor and kind in ("EndWorkItem", "ReassignWorkItem"):
            line += f" by {actor}"
        lines.append(line)
    return lines


def do(engine: Engine, step: str, values: dict[str, Any] | None = None, user: str | None = None):
    """Complete the open work item of `step` as its assignee (or `user`)."""
    items = [w for w in engine.work_items() if w.step_name == step]
    assert len(items) == 1, f"expected one open item for {step}, found {items}"
    item = items[0]
    who = (
        user
        or item.owner
        or (
            item.assignee
            if item.assignee_type == "User"
            else engine.directory.members_of(item.assignee, item.assignee_type)[0]
        )
    )
    return engine.complete_work_item(item.id, who, values or {})


GOLDEN = Path(__file__).with_name("golden")


def assert_golden(engine: Engine, run_id: str, name: str) -> None:
    """The run's whole trace equals tests/engine/golden/<name>.trace (reviewed by hand).

    Set ORCHLAB_UPDATE_GOLDEN=1 to rewrite the file after a deliberate change, then review
    the diff before committing it.
    """
    lines = trace(engine, run_id)
    path = GOLDEN / f"{name}.trace"
    if os.environ.get("ORCHLAB_UPDATE_GOLDEN"):
        path.write_text("\n".join(lines) + "\n")
    assert lines == path.read_text().splitlines()


def random_call(engine: Engine, rng: random.Random) -> None:
    """One random engine call of the demo world: completions, reassignments, suspends,
    resumes, starts and record changes (the processes of `orchlab.definition.examples`)."""
    items = engine.work_items()
    roll = rng.random()
    if items and roll < 0.6:
        item = rng.choice(items)
        screen = engine.state.runs[item.run_id].plan.screens[item.screen]
        engine.complete_work_item(item.id, "olivia", answer(screen, rng, reject=0.3))
    elif items and roll < 0.65:
        engine.reassign_work_item(rng.choice(items).id, rng.choice(["ada", "bob", "dana"]),
                                  by="olivia")  # fmt: skip
    elif roll < 0.72 and engine.state.runs:
        run = engine.state.runs[rng.choice(sorted(engine.state.runs))]
        if run.status is RunStatus.IN_PROGRESS:
            engine.suspend_run(run.id, by="olivia")
        elif run.status in (RunStatus.SUSPENDED, RunStatus.ERROR):
            engine.resume_run(run.id, by="olivia")
    elif roll < 0.8:
        applicant = rng.choice(["Kim", "Lee"])
        amount = Decimal(rng.choice([0, 100, 90_000]))
        engine.start_run(
            "Loan", {"application_id": "A", "applicant": applicant, "amount": amount}, by=SYSTEM
        )
    elif roll < 0.9:
        fields = {"Severity": "Low", "Owner": "dana", "Amount": rng.choice([10, 5000])}
        rid = engine.create_record("Case", fields, by=SYSTEM).id
        engine.update_record(rid, {"Severity": "High"}, by=SYSTEM)
    else:
        engine.create_record("Employee__c", {"Name": "N"}, by=SYSTEM)
