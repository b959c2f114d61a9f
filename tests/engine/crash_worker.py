"""Works a history file until killed: prints `ACK <what>` after every committed engine call.

Run by test_durability.py, which kills it with SIGKILL at random moments.
"""

from __future__ import annotations

import random
import sys
from decimal import Decimal

import orchlab.definition.examples  # noqa: F401 - registers the example flows
from orchlab import SYSTEM
from orchlab.engine import Engine
from orchlab.simulate.demo import answer, deploy_examples, setup_directory
from orchlab.store import HistoryStore


def main(path: str, seed: int) -> None:
    rng = random.Random(seed)
    engine = Engine(HistoryStore(path))
    if not engine.directory.users:
        setup_directory(engine)
        deploy_examples(engine)
    print("READY", flush=True)
    while True:
        items = engine.work_items()
        if items and rng.random() < 0.7:
            item = rng.choice(items)
            run = engine.state.runs[item.run_id]
            screen = engine.plans[(run.name, run.version)].screens[item.screen]
            engine.complete_work_item(item.id, "olivia", answer(screen, rng))
            print(f"ACK complete {item.id}", flush=True)
        else:
            amount = Decimal(rng.choice([100, 60000]))
            run = engine.start_run(
                "Loan", {"application_id": "A", "applicant": "Kim", "amount": amount}, by=SYSTEM
            )
            print(f"ACK start {run.id}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
