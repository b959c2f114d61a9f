"""Every action by every kind of actor: allowed or refused, as orchlab/people/rights.py says.

The table below is written out by hand from the rules in rights.py's docstring (and
docs/engine.md for work items), not computed from the code under test:

- admin-only: change the directory, deploy, activate, cancel, suspend, resume, reassign,
  finish asynchronous steps — admins and SYSTEM;
- any user: start a run, create or update a record, publish an event — every user in the
  directory and SYSTEM;
- complete a work item: its user, a member of its group or queue, for a routed item only the
  member it was routed to; admins and SYSTEM.

Nobody else: not a user missing from the directory, not `None`, not an empty name. A refused
call raises PermissionDenied and stores nothing (the whole log compared) and changes no memory
(the invariants); an allowed one succeeds and its actor is in the log.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from orchlab import SYSTEM, PermissionDenied
from orchlab.people.directory import User
from orchlab.people.directory_file import DirectoryFile
from tests.invariants import check_invariants
from tests.reliability.world import World, definition, make_world

ACTORS: dict[str, Any] = {
    "assignee": "asg",  # the user the For_user item is assigned to
    "group": "gm",  # member of group G (For_group)
    "queue": "qm",  # member of pool queue Q (For_queue)
    "routed": "ro1",  # member of round-robin queue RQ, For_routed routed to them
    "unrouted": "ro2",  # member of RQ, but the item went to ro1
    "nonmember": "nm",  # in the directory, in no group or queue
    "admin": "adm",
    "system": SYSTEM,
    "unknown": "ghost",  # not in the directory
    "none": None,
    "empty": "",
}
# Y: allowed, N: refused, in the order of ACTORS' columns.
#                  asg grp que rou unr non adm sys unk none emp
MATRIX = {
    "cancel_run":        "N   N   N   N   N   N   Y   Y   N   N    N",
    "suspend_run":       "N   N   N   N   N   N   Y   Y   N   N    N",
    "resume_run":        "N   N   N   N   N   N   Y   Y   N   N    N",
    "reassign":          "N   N   N   N   N   N   Y   Y   N   N    N",
    "add_user":          "N   N   N   N   N   N   Y   Y   N   N    N",
    "add_admin":         "N   N   N   N   N   N   Y   Y   N   N    N",
    "add_group":         "N   N   N   N   N   N   Y   Y   N   N    N",
    "add_queue":         "N   N   N   N   N   N   Y   Y   N   N    N",
    "load_directory":    "N   N   N   N   N   N   Y   Y   N   N    N",
    "deploy":            "N   N   N   N   N   N   Y   Y   N   N    N",
    "activate":          "N   N   N   N   N   N   Y   Y   N   N    N",
    "run_step":          "N   N   N   N   N   N   Y   Y   N   N    N",
    "finish_step":       "N   N   N   N   N   N   Y   Y   N   N    N",
    "start_run":         "Y   Y   Y   Y   Y   Y   Y   Y   N   N    N",
    "create_record":     "Y   Y   Y   Y   Y   Y   Y   Y   N   N    N",
    "update_record":     "Y   Y   Y   Y   Y   Y   Y   Y   N   N    N",
    "publish_event":     "Y   Y   Y   Y   Y   Y   Y   Y   N   N    N",
    "complete_user":     "Y   N   N   N   N   N   Y   Y   N   N    N",
    "complete_group":    "N   Y   N   N   N   N   Y   Y   N   N    N",
    "complete_queue":    "N   N   Y   N   N   N   Y   Y   N   N    N",
    "complete_routed":   "N   N   N   Y   N   N   Y   Y   N   N    N",
}  # fmt: skip

VALID = {"must": "x"}  # the one required field of the form


def _prepare_resume(w: World) -> None:
    w.engine.suspend_run(w.run.id, by=SYSTEM)


def _complete(step: str) -> tuple[Callable[[World, Any], Any], None]:
    return (lambda w, a: w.engine.complete_work_item(w.items[step], a, VALID), None)


ACTIONS: dict[str, tuple[Callable[[World, Any], Any], Callable[[World], None] | None]] = {
    "cancel_run": (lambda w, a: w.engine.cancel_run(w.run.id, by=a), None),
    "suspend_run": (lambda w, a: w.engine.suspend_run(w.run.id, by=a), None),
    "resume_run": (lambda w, a: w.engine.resume_run(w.run.id, by=a), _prepare_resume),
    "reassign": (lambda w, a: w.engine.reassign_work_item(w.items["For_user"], "nm", by=a), None),
    "add_user": (lambda w, a: w.engine.add_user("newbie", "N", by=a), None),
    "add_admin": (lambda w, a: w.engine.add_user("nm", "NM", admin=True, by=a), None),
    "add_group": (lambda w, a: w.engine.add_group("G", ["gm", "nm"], by=a), None),
    "add_queue": (lambda w, a: w.engine.add_queue("Q", ["qm", "nm"], by=a), None),
    "load_directory": (
        lambda w, a: w.engine.load_directory(DirectoryFile(users=(User("x", "X"),)), by=a),
        None,
    ),
    "deploy": (lambda w, a: w.engine.deploy(definition("Other"), by=a), None),
    "activate": (lambda w, a: w.engine.activate("Work", 1, by=a), None),
    "run_step": (lambda w, a: w.engine.run_step(w.run.id, "Later", by=a), None),
    "finish_step": (lambda w, a: w.engine.finish_step(w.run.id, "Later", {"ok": True}, by=a), None),
    "start_run": (lambda w, a: w.engine.start_run("Work", {"title": "x"}, by=a), None),
    "create_record": (lambda w, a: w.engine.create_record("Account", {"Name": "B"}, by=a), None),
    "update_record": (lambda w, a: w.engine.update_record(w.record, {"Name": "C"}, by=a), None),
    "publish_event": (lambda w, a: w.engine.publish_event(w.run.id, by=a), None),
    "complete_user": _complete("For_user"),
    "complete_group": _complete("For_group"),
    "complete_queue": _complete("For_queue"),
    "complete_routed": _complete("For_routed"),
}
# The steps an asynchronous step's worker finishes record the automated process, not `by`.
NO_ACTOR_ROW = {"run_step"}


def _log(w: World) -> list[tuple[Any, ...]]:
    return w.engine.store.execute("SELECT * FROM log ORDER BY seq")


def test_the_matrix_covers_every_action_and_actor() -> None:
    assert set(MATRIX) == set(ACTIONS)
    for action, row in MATRIX.items():
        assert len(row.split()) == len(ACTORS), action


@pytest.mark.parametrize("action", sorted(MATRIX))
def test_action_allowed_or_refused_by_actor(action: str) -> None:
    call, prepare = ACTIONS[action]
    wrong: list[str] = []
    refused_world: World | None = None  # refusals change nothing, so they share one world
    checked = False
    for (kind, actor), want in zip(ACTORS.items(), MATRIX[action].split(), strict=True):
        if want == "N":
            if refused_world is None:
                refused_world = make_world()
                if prepare:
                    prepare(refused_world)
            w = refused_world
        else:
            w = make_world()
            if prepare:
                prepare(w)
        before = _log(w)
        try:
            call(w, actor)
        except PermissionDenied as exc:
            if want == "Y":
                wrong.append(f"{kind} ({actor!r}) was refused: {exc}")
            elif _log(w) != before:
                wrong.append(f"{kind} ({actor!r}) was refused, but the log changed")
            message = str(exc)
            if actor and want == "N" and repr(actor) not in message:
                wrong.append(f"{kind}: the refusal does not name the actor: {message}")
        else:
            if want == "N":
                wrong.append(f"{kind} ({actor!r}) was allowed")
            else:
                new = w.engine.store.execute(
                    "SELECT DISTINCT actor FROM log WHERE seq > ?", [before[-1][0]]
                )
                if action not in NO_ACTOR_ROW and (actor,) not in new:
                    wrong.append(f"{kind} ({actor!r}) allowed, not recorded: actors {new}")
                if not checked:  # every allowed actor makes the same change: one check
                    check_invariants(w.engine)
                    checked = True
    if refused_world is not None:
        check_invariants(refused_world.engine)
    assert not wrong, f"{action}:\n  " + "\n  ".join(wrong)
