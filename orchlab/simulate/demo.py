"""A demo world: the example processes, the people who work them, and weeks of history.

`populate()` drives the real engine on a virtual clock: records arrive, runs start,
scripted people answer their work items after a while. What is still open at the
end stays open, so analysts have stalled runs and backlogs to find.
"""

from __future__ import annotations

import datetime as dt
import heapq
import random
from decimal import Decimal
from typing import Any

from orchlab.definition.examples import EXAMPLES
from orchlab.definition.model import FieldKind, Screen
from orchlab.engine import Engine
from orchlab.engine.clock import VirtualClock
from orchlab.engine.state import WorkItem
from orchlab.people.directory import Group, Queue, Routing, User
from orchlab.people.directory_file import DirectoryFile
from orchlab.people.rights import SYSTEM

__all__ = ["demo_directory", "setup_directory", "deploy_examples", "answer", "populate", "PEOPLE"]

PEOPLE = {
    # username: (display name, admin)
    "ada": ("Ada Lovelace", False),
    "bob": ("Bob Dylan", False),
    "cara": ("Cara Mendes", False),
    "dana": ("Dana Scully", False),
    "olivia": ("Olivia Pope", True),
    "ravi": ("Ravi Shankar", False),
    "sam": ("Sam Carter", False),
    "tom": ("Tom Baker", False),
    "uma": ("Uma Thurman", False),
    "vic": ("Vic Mackey", False),
    "wes": ("Wes Anderson", False),
}
QUEUES = {
    "Roof_Technicians": (["ravi", "sam"], "pool"),
    "Electricians": (["tom"], "pool"),
    "Support_Tier2": (["ada", "uma"], "pool"),
    "Engineering": (["bob", "vic"], "round_robin"),
    "Loan_Officers": (["sam", "wes"], "pool"),
    "Underwriting": (["uma", "wes"], "least_open"),
    "IT_Service_Desk": (["vic"], "pool"),
    "People_Managers": (["dana"], "pool"),
    "Facilities": (["tom"], "pool"),
    "HR_Operations": (["cara", "uma"], "pool"),
}
GROUPS = {"Customer_Success": ["cara"], "Senior_Underwriters": ["olivia", "dana"]}
# Mean hours a person takes to answer, per assignee (the slow ones make bottlenecks).
MEAN_HOURS = {"Engineering": 20.0, "Underwriting": 30.0, "HR_Operations": 16.0, "Facilities": 10.0}
# People who stop answering after this many days (holidays): what is routed to them stalls.
ABSENT_FROM_DAY = {"bob": 12.0, "wes": 16.0}


def demo_directory() -> DirectoryFile:
    """The demo people, groups and queues as a directory file's entries."""
    return DirectoryFile(
        users=tuple(User(u, name, is_admin=admin) for u, (name, admin) in PEOPLE.items()),
        groups=tuple(Group(name, tuple(members)) for name, members in GROUPS.items()),
        queues=tuple(
            Queue(name, tuple(members), Routing(routing))
            for name, (members, routing) in QUEUES.items()
        ),
    )


def setup_directory(engine: Engine) -> None:
    engine.load_directory(demo_directory(), by=SYSTEM)


def deploy_examples(engine: Engine) -> None:
    for make in EXAMPLES.values():
        engine.deploy(make(), by=SYSTEM)


def answer(screen: Screen, rng: random.Random, reject: float = 0.0) -> dict[str, Any]:
    """Values a diligent person would enter: every required field filled, validly."""
    values: dict[str, Any] = {}
    for f in screen.fields:
        if f.kind is FieldKind.CHECKBOX:
            values[f.name] = f.required or rng.random() >= reject
        elif f.kind is FieldKind.PICKLIST:
            rejected = "Rejected" in f.choices and rng.random() < reject
            values[f.name] = "Rejected" if rejected else f.choices[0]
        elif f.kind in (FieldKind.NUMBER, FieldKind.CURRENCY):
            values[f.name] = Decimal(rng.randint(30, 200) * 1000)
        elif f.regex:
            values[f.name] = f"A-{rng.randint(100, 999)}"
        elif f.required:
            values[f.name] = "done"
    return values


def _who(engine: Engine, item: WorkItem, rng: random.Random, away: set[str]) -> str | None:
    """Who answers: the assignee or routed owner, else a member who is not away (None: nobody)."""
    if item.owner or item.assignee_type == "User":
        person = item.owner or item.assignee
        return None if person in away else person
    members = engine.directory.members_of(item.assignee, item.assignee_type)  # type: ignore[arg-type]
    present = [m for m in members if m not in away]
    return rng.choice(present) if present else None


def populate(
    engine: Engine,
    clock: VirtualClock,
    *,
    runs_per_process: int = 30,
    days: float = 21.0,
    seed: int = 7,
) -> dict[str, int]:
    """Start runs of every example over `days` and let scripted people work them."""
    rng = random.Random(seed)
    start = clock.now()
    end = start + dt.timedelta(days=days)
    queue: list[tuple[dt.datetime, int, str, Any]] = []
    counter = 0

    def at(when: dt.datetime, what: str, arg: Any) -> None:
        nonlocal counter
        counter += 1
        heapq.heappush(queue, (when, counter, what, arg))

    for name in EXAMPLES:
        for _ in range(runs_per_process):
            at(start + dt.timedelta(minutes=round(rng.uniform(0, days * 24 * 60))), "arrive", name)
    scheduled: set[str] = set()
    done = 0
    source, engine.store.source = engine.store.source, "simulated"  # marks the log rows
    try:
        with engine.batch():
            while queue and queue[0][0] <= end:
                when, _, what, arg = heapq.heappop(queue)
                clock.set(max(when, clock.now()))
                if what == "arrive":
                    _arrive(engine, arg, rng)
                else:
                    item = engine.state.work_items.get(arg)
                    if item is not None and item.status == "Assigned":
                        elapsed = clock.now() - start
                        away = {
                            p for p, d in ABSENT_FROM_DAY.items() if elapsed >= dt.timedelta(days=d)
                        }
                        who = _who(engine, item, rng, away)
                        if who is None:
                            continue  # its person is on holiday: the item waits
                        screen = engine.state.runs[item.run_id].plan.screens[item.screen]
                        engine.complete_work_item(item.id, who, answer(screen, rng, reject=0.2))
                        done += 1
                for item in engine.work_items():
                    if item.id not in scheduled:
                        scheduled.add(item.id)
                        mean = MEAN_HOURS.get(item.assignee or "", 6.0) * 60
                        delay = dt.timedelta(minutes=5 + round(rng.expovariate(1 / mean)))
                        at(clock.now() + delay, "work", item.id)
    finally:
        engine.store.source = source
    return {"runs": engine.store.run_count(), "work_items_completed": done}


def _arrive(engine: Engine, name: str, rng: random.Random) -> None:
    if name == "customer_qa_survey":
        rid = engine.create_record(
            "Installation__c",
            {"Name": f"Site {rng.randint(1, 999)}", "Status": "Scheduled"},
            by=SYSTEM,
        ).id
        engine.update_record(rid, {"Status": "Completed"}, by=SYSTEM)
    elif name == "case_escalation":
        owner = rng.choice(["ada", "dana"])
        rid = engine.create_record(
            "Case",
            {
                "CaseNumber": f"{rng.randint(1000, 9999)}",
                "Severity": "Low",
                "Owner": owner,
                "Amount": rng.randint(100, 2500),
            },
            by=SYSTEM,
        ).id
        engine.update_record(rid, {"Severity": "High"}, by=SYSTEM)
    elif name == "loan":
        amount = Decimal(rng.choice([0, 5_000, 20_000, 45_000, 80_000, 120_000]))
        engine.start_run(
            "Loan",
            {
                "application_id": f"APP-{rng.randint(1000, 9999)}",
                "applicant": rng.choice(["Lee", "Kim", "Ngo", "Ortiz"]),
                "amount": amount,
            },
            by=SYSTEM,
        )
    else:
        engine.create_record(
            "Employee__c", {"Name": rng.choice(["Ann", "Ben", "Cy", "Di"])}, by=SYSTEM
        )
