"""Analyses that the store answers from folded columns, against the same answer worked out
in plain Python from the raw tables, on random histories and at several "as of" times."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict
from pathlib import Path

import pandas as pd
import pytest

import orchlab.analysis as oa
from orchlab.analysis import Filters
from orchlab.engine import Engine
from orchlab.engine.clock import VirtualClock
from orchlab.simulate.demo import deploy_examples, setup_directory
from orchlab.store import HistoryStore
from tests.engine.helpers import random_call


@pytest.fixture(scope="module")
def busy(tmp_path_factory: pytest.TempPathFactory) -> HistoryStore:
    clock = VirtualClock(dt.datetime(2026, 3, 2, 9, 0))
    path: Path = tmp_path_factory.mktemp("busy") / "h.duckdb"
    rng = random.Random(11)
    engine = Engine(HistoryStore(path), clock=clock)
    setup_directory(engine)
    deploy_examples(engine)
    for _ in range(220):
        clock.advance(minutes=rng.randint(1, 600))
        random_call(engine, rng)
        if rng.random() < 0.2:
            engine.store.refresh()  # folded in pieces, as a live history is
    engine.store.refresh()
    return engine.store


def _times(store: HistoryStore) -> list[dt.datetime]:
    first, last = store.execute("SELECT min(timestamp), max(timestamp) FROM log")[0]
    return [first + (last - first) * f for f in (0.3, 0.6)] + [last]


def _union(spans: list[tuple[dt.datetime, dt.datetime]]) -> float:
    total, end = 0.0, None
    for s, e in sorted(spans):
        if end is None or s > end:
            total += (e - s).total_seconds()
            end = e
        elif e > end:
            total += (e - end).total_seconds()
            end = e
    return total


def test_time_split_equals_intervals_worked_out_in_python(busy: HistoryStore) -> None:
    stages = busy.execute(
        "SELECT id, orchestration_name, name, start_date, end_date FROM stage_runs"
    )
    steps = defaultdict(list)
    for sid, start, end, kind in busy.execute(
        "SELECT stage_instance_id, start_date, end_date, step_type FROM step_runs "
        "WHERE start_date IS NOT NULL"
    ):
        steps[sid].append((start, end, kind))
    checked = 0
    for t in _times(busy):
        want: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0])
        for sid, orch, name, start, end in stages:
            if start > t:
                continue
            stop = end if end is not None and end <= t else t
            spans = [(s, min(e if e is not None and e <= t else t, stop), k)
                     for s, e, k in steps[sid] if s <= t]  # fmt: skip
            busy_s = _union([(s, e) for s, e, _ in spans])
            person = _union([(s, e) for s, e, k in spans if k == "InteractiveStep"])
            row = want[(orch, name)]
            row[0] += (stop - start).total_seconds()
            row[1] += person
            row[2] += busy_s - person
            row[3] += 1
        found = oa.time_split(busy, Filters(as_of=t))
        got = {
            (r.orchestration_name, r.stage_name): [
                r.elapsed_seconds, r.person_seconds, r.automated_seconds, r.stage_runs
            ]
            for r in found.itertuples()
        }  # fmt: skip
        assert got.keys() == want.keys()
        for key, values in want.items():
            assert got[key] == pytest.approx(values), (t, key)
        checked += len(want)
        assert any(v[1] > 0 for v in want.values())  # background steps here end at once
    assert checked > 10


def test_paths_equal_the_log_read_in_order_in_python(busy: HistoryStore) -> None:
    for t in _times(busy):
        by_run = defaultdict(list)
        for run, orch, kind, stage, payload in busy.execute(
            "SELECT instance_id, orchestration_name, kind, stage_name, payload FROM log "
            "WHERE kind IN ('StartInstance', 'StartStage', 'FailStage', 'TakeOutcome', "
            "'EndInstance', 'CancelInstance', 'FailInstance') AND timestamp <= ? ORDER BY seq",
            [t],
        ):
            by_run[run].append((orch, kind, stage, payload))
        edges: Counter[tuple[str, str, str, str]] = Counter()
        entries: Counter[tuple[str, str]] = Counter()
        for rows in by_run.values():
            previous = None
            for orch, kind, stage, payload in rows:
                element = _element(kind, stage, payload)
                if kind == "StartStage":
                    entries[(orch, element)] += 1
                if previous is not None and kind != "FailStage":
                    way = "fault" if previous[0] == "FailStage" else "next"
                    edges[(orch, previous[1], element, way)] += 1
                previous = (kind, element)
        found = oa.transitions(busy, Filters(as_of=t))
        got = {
            (r.orchestration_name, r.source, r.target, r.kind): r.count for r in found.itertuples()
        }
        assert got == dict(edges)
        reworked = oa.rework(busy, Filters(as_of=t))
        pairs = zip(reworked.orchestration_name, reworked.stage_name, strict=True)
        assert dict(zip(pairs, reworked.entries, strict=True)) == dict(entries)
    assert sum(edges.values()) > 50


def _element(kind: str, stage: str | None, payload: str | None) -> str:
    import json

    data = json.loads(payload) if payload else {}
    return {
        "StartInstance": "$Start",
        "StartStage": stage,
        "FailStage": stage,
        "TakeOutcome": data.get("decision"),
        "EndInstance": data.get("end") or "$End",
        "CancelInstance": "$Canceled",
    }.get(kind, "$Error")


def test_start_and_end_steps_equal_each_runs_completed_steps_in_python(
    busy: HistoryStore,
) -> None:
    steps = busy.execute(
        "SELECT orchestration_instance_id, end_date, start_date, name, id FROM step_runs "
        "WHERE status = 'Completed'"
    )
    times = _times(busy)
    for t in times:
        by_run = defaultdict(list)
        for run, end, start, name, sid in steps:
            if end <= t:
                by_run[run].append((end, start, name, sid))
        want: Counter[tuple[str, str]] = Counter()
        for done in by_run.values():
            done.sort()
            want[("start", done[0][2])] += 1
            want[("end", done[-1][2])] += 1
        found = oa.start_end_steps(busy, Filters(as_of=t))
        assert {(r.side, r.step_name): r.runs for r in found.itertuples()} == want, t
    # Without as_of the newest row's time is meant: the same answers, by a shorter query.
    for question in (oa.start_end_steps, oa.directly_follows):
        latest = question(busy, Filters(as_of=times[-1]))
        pd.testing.assert_frame_equal(question(busy), latest)
