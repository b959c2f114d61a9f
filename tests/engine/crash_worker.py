"""Works a history file until killed, acknowledging every engine call only after it returned.

Two ways to run it:

- `python crash_worker.py PATH SEED` (test_durability.py): prints READY, then `ACK <what> <id>`
  on stdout after each committed call;
- `work(path, seed, ack_path)` in a process forked by tests/reliability/test_crash.py: each
  acknowledgement is one JSON line appended to `ack_path` with one write (a SIGKILL cannot
  tear it), holding every log row the call committed, column by column, the payload as the
  store encodes it. The parent then checks that the history holds exactly those rows.

The calls: starts (Loan, and Case records whose update starts Case escalation), completions
of work items, reassignments, record updates, cancels, suspends and resumes.
"""

from __future__ import annotations

import json
import os
import random
import sys
from decimal import Decimal
from typing import Any

import orchlab.definition.examples  # noqa: F401 - registers the example flows
from orchlab import SYSTEM
from orchlab.engine import Engine, RunStatus
from orchlab.simulate.demo import answer, deploy_examples, setup_directory
from orchlab.store import HistoryStore
from orchlab.store.row import COLUMNS, Row, dumps

ADMIN = "olivia"  # an admin of the demo directory: may reassign, cancel, suspend, resume
PEOPLE = ("ada", "bob", "dana", "sam")


def row_fields(row: Row | tuple[Any, ...]) -> list[Any]:
    """A log row as JSON-able text, the same from the engine's Row and from a SELECT of the
    log's COLUMNS (whose payload is already the stored text)."""
    *head, payload = row
    out = [None if v is None else str(v) if not isinstance(v, int | float) else v for v in head]
    return [*out, payload if isinstance(payload, str) or payload is None else dumps(payload)]


def open_engine(path: str) -> Engine:
    engine = Engine(HistoryStore(path))
    if not engine.directory.users:
        setup_directory(engine)
        deploy_examples(engine)
        for amount in (10, 5000):  # cases to update from the first call on
            fields = {"Severity": "Low", "Owner": "dana", "Amount": amount}
            engine.create_record("Case", fields, by=SYSTEM)
    return engine


def one_call(engine: Engine, rng: random.Random) -> tuple[str, str]:
    """One random engine call; returns (what, the id it was about)."""
    items = engine.work_items()
    runs = sorted(engine.state.runs)
    roll = rng.random()
    if items and roll < 0.45:
        item = rng.choice(items)
        screen = engine.state.runs[item.run_id].plan.screens[item.screen]
        engine.complete_work_item(item.id, ADMIN, answer(screen, rng, reject=0.2))
        return "complete", item.id
    if items and roll < 0.55:
        item = rng.choice(items)
        engine.reassign_work_item(item.id, rng.choice(PEOPLE), by=ADMIN)
        return "reassign", item.id
    if runs and roll < 0.6:
        run_id = rng.choice(runs)
        engine.cancel_run(run_id, by=ADMIN)
        return "cancel", run_id
    if runs and roll < 0.68:
        run = engine.state.runs[rng.choice(runs)]
        if run.status is RunStatus.IN_PROGRESS:
            engine.suspend_run(run.id, by=ADMIN)
            return "suspend", run.id
        engine.resume_run(run.id, by=ADMIN)
        return "resume", run.id
    if roll < 0.8:
        amount = Decimal(rng.choice([100, 60000]))
        inputs = {"application_id": f"A{rng.randint(1, 999)}", "applicant": "Kim", "amount": amount}
        return "start", engine.start_run("Loan", inputs, by=SYSTEM).id
    cases = [r for (r,) in engine.store.execute("SELECT id FROM records WHERE object = 'Case'")]
    if cases and roll < 0.92:
        rid = rng.choice(cases)
        severity = rng.choice(["Low", "High"])
        engine.update_record(
            rid, {"Severity": severity, "Amount": rng.choice([10, 5000])}, by=SYSTEM
        )
        return "update", rid
    fields = {"Severity": "Low", "Owner": "dana", "Amount": rng.choice([10, 5000])}
    return "create", engine.create_record("Case", fields, by=SYSTEM).id


def work(path: str, seed: int, ack_path: str) -> None:
    """Drive the file (already set up) until killed; one acknowledgement line per returned
    call."""
    rng = random.Random(seed)
    fd = os.open(ack_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    engine = open_engine(path)
    os.write(fd, b'{"ready": true}\n')
    while True:
        before = engine.state.seq
        what, about = one_call(engine, rng)
        rows = [row_fields(r) for r in engine.recent(before)]
        line = json.dumps({"op": what, "id": about, "rows": rows}) + "\n"
        os.write(fd, line.encode())  # only now is the call acknowledged


def main(path: str, seed: int) -> None:
    rng = random.Random(seed)
    engine = open_engine(path)
    print("READY", flush=True)
    while True:
        items = engine.work_items()
        if items and rng.random() < 0.7:
            item = rng.choice(items)
            screen = engine.state.runs[item.run_id].plan.screens[item.screen]
            engine.complete_work_item(item.id, ADMIN, answer(screen, rng))
            print(f"ACK complete {item.id}", flush=True)
        else:
            amount = Decimal(rng.choice([100, 60000]))
            run = engine.start_run(
                "Loan", {"application_id": "A", "applicant": "Kim", "amount": amount}, by=SYSTEM
            )
            print(f"ACK start {run.id}", flush=True)


assert COLUMNS[-1] == "payload"  # row_fields relies on it

if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
