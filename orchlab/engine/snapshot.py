"""The open runs' state written down, so a reopened engine need not replay all their rows.

Event sourcing's snapshot: the log stays the truth, and `State` at seq S is a pure function
of the rows up to S. An engine writes its open runs when its store closes; the next engine
reads them back and applies only the open runs' rows after S (`HistoryStore.open_run_rows`),
which gives the state a replay from the first row would (tests/engine/test_snapshot.py).
A snapshot in another `FORMAT`, or one ahead of the log, is ignored: the engine replays.

One JSON document per run, positional and without tags for what the engine itself keeps
(timestamps as ISO text, statuses as their names); run data (variables, outputs, form
values) keeps its types through the log's own codec. Never pickle: a history file may come
from someone else, and reading it must not run code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from orchlab.engine.state import Run, StageRun, State, StepRun, WorkItem
from orchlab.engine.status import RUN_STATUS_OF, STATUS_OF, WorkItemStatus
from orchlab.store.row import dumps, loads

__all__ = ["FORMAT", "encode", "restore"]

FORMAT = "orchlab-state-1"  # bump whenever Run, StageRun, StepRun or WorkItem change

_ITEM_STATUS_OF = {s.value: s for s in WorkItemStatus}
_iso = dt.datetime.fromisoformat


def _time(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _when(text: str | None) -> dt.datetime | None:
    return None if text is None else _iso(text)


def encode(state: State) -> list[tuple[str, str]]:
    """(run id, JSON) for every run in memory, in the order the state holds them."""
    position = {item_id: i for i, item_id in enumerate(state.work_items)}
    return [(run.id, dumps(_run(run, position))) for run in state.runs.values()]  # type: ignore[misc]


def _run(run: Run, position: dict[str, int]) -> list[Any]:
    return [
        run.id,
        run.name,
        run.version,
        run.status,
        _time(run.started),
        _time(run.ended),
        run.variables,
        run.record_id,
        run.record_type,
        run.prior,
        run.stage.name if run.stage is not None else None,
        [_stage(stage) for stage in run.latest.values()],
        run.outputs,
        sorted(run.outcomes),
        run.path,
        run.next_element,
        [_item(item, position[item.id]) for item in run.items.values()],
        run.visits,
        run.stage_count,
        run.work_count,
        run.error,
        sorted(run.held),
    ]


def _stage(stage: StageRun) -> list[Any]:
    steps = [
        [
            s.id,
            s.name,
            s.status,
            _time(s.started),
            _time(s.ended),
            s.outputs,
            s.error,
            s.work_item,
            s.pending,
        ]
        for s in stage.steps.values()
    ]
    return [
        stage.id,
        stage.name,
        stage.position,
        stage.status,
        _time(stage.started),
        _time(stage.ended),
        steps,
    ]


def _item(item: WorkItem, position: int) -> list[Any]:
    return [
        position,
        item.id,
        item.step_name,
        item.step_id,
        item.status,
        item.assignee,
        item.assignee_type,
        item.context,
        _time(item.created),
        item.label,
        item.screen,
        item.owner,
        _time(item.completed),
        item.completed_by,
        item.values,
    ]


def restore(state: State, documents: Iterable[str], plan_of: Callable[[str, int], Any]) -> int:
    """Put the runs of a snapshot into an empty `state`; returns how many."""
    items: list[tuple[int, WorkItem]] = []
    for text in documents:
        run = _read_run(loads(text), plan_of, items)
        state.runs[run.id] = run
        if run.record_id:
            state.record_runs.setdefault(run.record_id, set()).add(run.id)
        for rid in run.held:
            state.record_runs.setdefault(rid, set()).add(run.id)
    items.sort(key=lambda pair: pair[0])  # the order replay creates them in: by seq
    state.work_items.update((item.id, item) for _, item in items)
    state.recount_open_items()
    return len(state.runs)


def _read_run(
    d: list[Any], plan_of: Callable[[str, int], Any], items: list[tuple[int, WorkItem]]
) -> Run:
    run = Run.__new__(Run)
    (
        run.id,
        run.name,
        run.version,
        status,
        started,
        ended,
        run.variables,
        run.record_id,
        run.record_type,
        run.prior,
        current,
        stages,
        run.outputs,
        outcomes,
        run.path,
        run.next_element,
        found,
        run.visits,
        run.stage_count,
        run.work_count,
        run.error,
        held,
    ) = d
    run.status = RUN_STATUS_OF[status]
    run.started, run.ended = _iso(started), _when(ended)
    run.outcomes, run.held = set(outcomes), set(held)
    run.plan = plan_of(run.name, run.version)
    run.latest = {}
    for s in stages:
        stage = _read_stage(s)
        run.latest[stage.name] = stage
    run.stage = run.latest[current] if current is not None else None
    run.items = {}
    for position, *fields in found:
        item = _read_item(run.id, fields)
        run.items[item.id] = item
        items.append((position, item))
    return run


def _read_stage(d: list[Any]) -> StageRun:
    stage = StageRun.__new__(StageRun)
    stage.id, stage.name, stage.position, status, started, ended, found = d
    stage.status = STATUS_OF[status]
    stage.started, stage.ended = _iso(started), _when(ended)
    stage.steps = steps = {}
    for s in found:
        step = StepRun.__new__(StepRun)
        (
            step.id,
            step.name,
            status,
            started,
            ended,
            step.outputs,
            step.error,
            step.work_item,
            step.pending,
        ) = s
        step.status = STATUS_OF[status]
        step.started, step.ended = _when(started), _when(ended)
        steps[step.name] = step
    return stage


def _read_item(run_id: str, d: list[Any]) -> WorkItem:
    item = WorkItem.__new__(WorkItem)
    item.run_id = run_id
    (
        item.id,
        item.step_name,
        item.step_id,
        status,
        item.assignee,
        item.assignee_type,
        item.context,
        created,
        item.label,
        item.screen,
        item.owner,
        completed,
        item.completed_by,
        item.values,
    ) = d
    item.status = _ITEM_STATUS_OF[status]
    item.created, item.completed = _iso(created), _when(completed)
    return item
