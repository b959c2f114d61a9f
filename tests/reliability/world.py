"""A small world for the authorization and bad-input suites: one person of every kind.

People: `asg` (a user assignee), `gm` (group member), `qm` (member of a pool queue), `ro1` and
`ro2` (members of a round-robin queue: its item is routed to ro1), `nm` (in the directory,
member of nothing), `adm` (an admin). One orchestration, `Work`, whose first stage gives one
work item to each kind of assignee and has an asynchronous background step; typed inputs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import orchlab as ol
from orchlab import SYSTEM, Field
from orchlab.definition.registry import Registry
from orchlab.engine import Engine
from orchlab.engine.clock import VirtualClock
from orchlab.engine.state import Run
from orchlab.store import HistoryStore

PEOPLE = ("asg", "gm", "qm", "ro1", "ro2", "nm", "adm")


def registry() -> Registry:
    reg = Registry()

    @reg.flow("noop", outputs={"ok": bool})
    def noop() -> dict[str, bool]:
        return {"ok": True}

    return reg


def definition(name: str = "Work") -> ol.Orchestration:
    form = ol.screen(
        "Form",
        Field("approved", "checkbox", "Approved"),
        Field("amount", "currency", "Amount", min=0, max=1000),
        Field("count", "number", "Count"),
        Field("note", "text", "Note", max_length=20),
        Field("code", "text", "Code", regex=r"[A-Z]-\d+"),
        Field("choice", "picklist", "Choice", choices=("Yes", "No")),
        Field("when", "date", "When"),
        Field("must", "text", "Must", required=True),
    )
    return ol.orchestration(
        name,
        ol.stage(
            "Do",
            ol.interactive("For_user", "Form", ol.user("asg")),
            ol.interactive("For_group", "Form", ol.group("G")),
            ol.interactive("For_queue", "Form", ol.queue("Q")),
            ol.interactive("For_routed", "Form", ol.queue("RQ")),
            ol.background("Later", "noop", asynchronous=True),
        ),
        ol.stage("Wrap", ol.background("Done", "noop")),
        variables=[
            ol.var("amount", "currency", input=True),
            ol.var("title", "text", input=True),
            ol.var("tags", "text", collection=True, input=True),
            ol.var("flag", "boolean", input=True),
            ol.var("day", "date", input=True),
        ],
        screens=[form],
    )


@dataclass
class World:
    engine: Engine
    run: Run
    items: dict[str, str]  # step name -> its work item id
    record: str  # a record id


def make_world(path: Path | None = None) -> World:
    clock = VirtualClock(dt.datetime(2026, 3, 2, 9, 0))
    engine = Engine(HistoryStore(path), registry=registry(), clock=clock)
    with engine.batch():  # one commit: the suites build hundreds of these
        for u in PEOPLE:
            engine.add_user(u, u.upper(), f"{u}@example.com", admin=u == "adm", by=SYSTEM)
        engine.add_group("G", ["gm"], by=SYSTEM)
        engine.add_queue("Q", ["qm"], by=SYSTEM)
        engine.add_queue("RQ", ["ro1", "ro2"], routing="round_robin", by=SYSTEM)
        engine.deploy(definition(), by=SYSTEM)
        run = engine.start_run("Work", {"amount": Decimal("5"), "title": "t"}, by=SYSTEM)
        record = engine.create_record("Account", {"Name": "Acme"}, by=SYSTEM).id
    items = {w.step_name: w.id for w in engine.work_items()}
    return World(engine, run, items, record)
