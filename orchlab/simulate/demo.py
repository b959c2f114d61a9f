"""A demo world: the example processes, the people who work them, and weeks of history.

`populate()` simulates `DEMO_SCENARIO` on the real engine: records arrive and runs start,
people answer in working hours at their own pace (Engineering and Underwriting are slow,
bob and wes go on holiday), admins reassign what waits on someone away. What is still open
at the end stays open, so analysts have stalled runs and backlogs to find.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from orchlab.definition.examples import EXAMPLES
from orchlab.definition.model import FieldKind, Screen
from orchlab.engine import Engine
from orchlab.engine.clock import VirtualClock
from orchlab.people.directory import Group, Queue, Routing, User
from orchlab.people.directory_file import DirectoryFile
from orchlab.people.rights import SYSTEM

__all__ = [
    "DEMO_SCENARIO",
    "demo_directory",
    "setup_directory",
    "deploy_examples",
    "answer",
    "populate",
    "PEOPLE",
]

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
# The demo's assumptions, as a scenario file would say them (`orchlab demo --out` writes it).
DEMO_SCENARIO: dict[str, Any] = {
    "days": 21,
    "start": "2026-01-05 08:00",
    "seed": 7,
    "arrivals": {
        "Customer_QA_Survey": {
            "per_day": 1.45,
            "record": {"create": {"Name": {"choice": ["Site 12", "Site 7", "Site 31"]}}},
        },
        "Case_Escalation": {
            "per_day": 1.45,
            "record": {
                "create": {
                    "CaseNumber": {"integer": [1000, 9999]},
                    "Amount": {"integer": [100, 2500]},
                    "Owner": {"choice": ["ada", "dana"]},
                }
            },
        },
        "Loan": {
            "per_day": 1.45,
            "inputs": {
                "application_id": {"choice": ["APP-1001", "APP-1002", "APP-1003"]},
                "applicant": {"choice": ["Lee", "Kim", "Ngo", "Ortiz"]},
                "amount": {"choice": [0, 5000, 20000, 45000, 80000, 120000]},
            },
        },
        "Employee_Onboarding": {
            "per_day": 1.45,
            "record": {"create": {"Name": {"choice": ["Ann", "Ben", "Cy", "Di"]}}},
        },
    },
    "people": {"absences": {"bob": [[12, 21]], "wes": [[16, 21]]}},
    "response": {
        "default": {"median": "30m", "spread": 0.8},
        "Engineering": {"median": "3h", "spread": 0.6},
        "Underwriting": {"median": "4h", "spread": 0.6},
        "HR_Operations": {"median": "2h", "spread": 0.6},
        "Facilities": {"median": "90m", "spread": 0.6},
    },
    "admins": {"reassign_after": "4d", "cancel_after": "30d", "holds": {"rate": 0.03, "for": "1d"}},
}


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


def populate(engine: Engine, clock: VirtualClock, *, days: float | None = None) -> dict[str, int]:
    """Simulate the demo scenario on `engine` (its people and the examples set up first)."""
    import dataclasses

    from orchlab.simulate.run import simulate
    from orchlab.simulate.scenario import scenario_from_dict

    scenario = scenario_from_dict(DEMO_SCENARIO, "demo scenario")
    if days is not None:
        scenario = dataclasses.replace(scenario, days=days)
    if clock.now() < scenario.start:
        clock.set(scenario.start)
    sim = simulate([make() for make in EXAMPLES.values()], scenario, engine=engine)
    return {"runs": sim.report.started, "work_items_completed": sim.report.answered}
