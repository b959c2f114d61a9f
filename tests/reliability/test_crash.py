"""SIGKILL a writer at random moments: every acknowledged call is in the history, exactly, and
every run can still finish.

Each kill is a real `SIGKILL` of a fresh process that opened the file for writing and was in the
middle of its calls (starts, completions, reassignments, record updates, cancels, suspends,
resumes). To afford hundreds of them in the default run, children are forked from a
*forkserver* that has already imported orchlab and DuckDB (a spawn would spend most of its
time importing); each child still opens the history itself, as a restarted process would.

After each kill the parent reopens the file and checks:

1. it opens (the `.seq` note of acknowledged commits is not ahead of the log);
2. every row of every acknowledged call is in the log, every column equal, the payload's
   stored text equal;
3. seqs run 1..max without a gap, and past the last acknowledged row there is at most one
   call's rows (the call that committed but was killed before it could acknowledge);
4. `check_invariants` holds on an engine reopened on it;
5. every open run is driven to its end (`finish_all`), and the invariants hold again.

All on a byte copy (file, WAL, .seq note); 4 and 5 at the last kill of each history file.

Default: ORCHLAB_CRASH_KILLS=200 kills. A longer run:
`ORCHLAB_CRASH_KILLS=2000 .venv/bin/python -m pytest -q tests/reliability/test_crash.py -s`
prints its figures (kills, acknowledged calls and rows checked, runs finished, time).
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import random
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from orchlab.engine import Engine
from orchlab.store import HistoryStore
from orchlab.store.row import COLUMNS
from tests.engine.crash_worker import open_engine, row_fields, work
from tests.invariants import check_invariants
from tests.reliability.common import finish_all

KILLS = int(os.environ.get("ORCHLAB_CRASH_KILLS", "200"))
KILLS_PER_FILE = 5  # a new history every few kills: small files keep each check fast
FIGURES = Path(__file__).with_name("figures")  # where measured figures are written (gitignored)


ROOT = Path(__file__).resolve().parents[2]


def _context(monkeypatch: pytest.MonkeyPatch) -> Any:
    ctx = mp.get_context("forkserver")
    # Imported once in the server; every child is forked from it with them already loaded
    # (pytest too: a child imports the parent's main module, pytest's, before its target).
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the server finds `tests` as pytest does
    ctx.set_forkserver_preload(["pytest", "tests.engine.crash_worker"])
    return ctx


def _copy(src: Path, dest: Path) -> None:
    """A byte copy of a history: its file, write-ahead log and .seq note, under a new name."""
    for old in dest.parent.glob(dest.name + "*"):
        old.unlink()
    for p in src.parent.glob(src.name + "*"):
        shutil.copyfile(p, dest.with_name(p.name.replace(src.name, dest.name, 1)))


def _acks(path: Path) -> tuple[bool, list[dict[str, Any]]]:
    if not path.exists():
        return False, []
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b"", "an acknowledgement line was torn: each is one write"
    parsed = [json.loads(line) for line in lines[:-1]]
    ready = {"ready": True} in parsed
    return ready, [p for p in parsed if "op" in p]


def _check_history(store: HistoryStore, acked: list[dict[str, Any]], since: int) -> tuple[int, int]:
    """Checks 2-3; returns how many acknowledged rows were compared, and the log's last seq.

    `since` is the log's last seq when the killed child started: a call that an earlier child
    committed but was killed before acknowledging lies before it, and is rightly there.
    """
    found = {
        r[0]: row_fields(r)
        for r in store.execute(f"SELECT {','.join(COLUMNS)} FROM log ORDER BY seq")
    }
    compared = 0
    for ack in acked:
        for row in ack["rows"]:
            got = found.get(row[0])
            assert got == row, f"acknowledged {ack['op']} {ack['id']}: row {row} is {got}"
            compared += 1
    seqs = sorted(found)
    assert seqs == list(range(1, len(seqs) + 1)), "the log's seqs have a gap"
    last = max((row[0] for ack in acked for row in ack["rows"]), default=0)
    last = max(last, since)
    beyond = {tuple(found[s][1:2]) for s in seqs if s > last}  # the timestamps of the rest
    assert len(beyond) <= 1, f"more than one unacknowledged call after seq {last}: {beyond}"
    return compared, max(seqs, default=0)


def test_sigkill_at_random_moments_loses_nothing_acknowledged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = _context(monkeypatch)
    rng = random.Random(20261202)
    figures = {"kills": 0, "acknowledged_calls": 0, "rows_checked": 0, "runs_finished": 0}
    ops: dict[str, int] = {}
    began = time.monotonic()
    # Every history starts as a copy of one set up once (directory, the four examples): the
    # set-up is not what is under test, and doing it in each child would double its cost.
    template = tmp_path / "template.duckdb"
    made = open_engine(str(template))
    setup = {"op": "setup", "id": "template", "rows": [row_fields(r) for r in made.store.rows()]}
    made.store.close()
    path = tmp_path / "h0.duckdb"
    acked: list[dict[str, Any]] = []
    for kill in range(KILLS):
        if kill % KILLS_PER_FILE == 0:
            path, acked = tmp_path / f"h{kill}.duckdb", [setup]
            since = 0
            _copy(template, path)
        ack_path = tmp_path / f"ack{kill}.jsonl"
        child = ctx.Process(target=work, args=(str(path), kill, str(ack_path)), daemon=True)
        child.start()
        deadline = time.monotonic() + 60
        while not _acks(ack_path)[0]:  # wait until it has the file open and is working
            assert child.is_alive(), f"worker died before it was ready (exit {child.exitcode})"
            assert time.monotonic() < deadline, "worker not ready in 60 s"
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.12))  # somewhere inside a later call, or between two
        child.kill()  # SIGKILL
        child.join()
        assert child.exitcode == -9, f"worker ended by itself ({child.exitcode}) before the kill"
        _, new = _acks(ack_path)
        acked += new
        for ack in new:
            ops[ack["op"]] = ops.get(ack["op"], 0) + 1
        figures["kills"] += 1
        figures["acknowledged_calls"] += len(new)
        # Checked on a byte copy of the file, its write-ahead log and its .seq note (what a
        # restart would open), so the checks and the drive to the end leave the original as
        # the kill left it: the next child reopens that one.
        copy = tmp_path / "copy.duckdb"
        _copy(path, copy)
        last_of_file = kill % KILLS_PER_FILE == KILLS_PER_FILE - 1 or kill == KILLS - 1
        if not last_of_file:  # the next child's engine reopens it: the store is enough here
            with HistoryStore(copy) as store:  # (1) raises if acknowledged commits were lost
                compared, since = _check_history(store, acked, since)
            figures["rows_checked"] += compared
            continue
        engine = Engine(HistoryStore(copy))  # (1)
        compared, since = _check_history(engine.store, acked, since)
        figures["rows_checked"] += compared
        # (4) and (5) at the last kill of each file, to keep the default run to a couple
        # of minutes: every run opened under that file is either closed by then or still
        # open now, so each is driven to its end from some kill's state.
        check_invariants(engine)
        figures["runs_finished"] += len(engine.state.runs)
        finish_all(engine, random.Random(kill))
        check_invariants(engine)
        engine.store.close()
    figures["ops_per_kill"] = round(figures["acknowledged_calls"] / KILLS, 1)
    figures["seconds"] = round(time.monotonic() - began, 1)
    figures["calls_by_kind"] = ops  # type: ignore[assignment]
    print(f"\ncrash harness: {json.dumps(figures)}")
    FIGURES.mkdir(exist_ok=True)
    (FIGURES / f"crash-{KILLS}.json").write_text(json.dumps(figures, indent=1) + "\n")
    assert figures["kills"] == KILLS and figures["acknowledged_calls"] > KILLS
    # Every kind of call was acknowledged at least once, and so was killed around.
    if KILLS >= 100:
        assert set(ops) >= {"start", "complete", "reassign", "update", "cancel", "create"}, ops


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
