"""The monitor's questions: pages of runs and work items, a run's timeline, closed runs' pictures.

Runs are read from the history with one query per page (a filter, an order, `LIMIT`, and the
total from a window function in the same pass), so a page costs the same on a hundred runs
and on a hundred thousand. What only open runs have (whom they wait on, their open work items)
comes from the engine's memory, which holds exactly the runs that can still move.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from orchlab.definition.model import Orchestration
from orchlab.engine.state import Run, State, WorkItem
from orchlab.engine.status import RunStatus, Status, WorkItemStatus
from orchlab.errors import EngineError, NotFound
from orchlab.render.markup import RunPicture

if TYPE_CHECKING:
    from orchlab.engine.engine import Engine
    from orchlab.service.api import AppApi

__all__ = [
    "RUN_SORTS",
    "ITEM_SORTS",
    "SvgCache",
    "items_page",
    "outbox",
    "replay",
    "run_row",
    "runs_page",
    "timeline",
    "waiting_on",
]

MAX_PAGE = 200  # rows per page at most: pages are for people, not exports
_CLOSED = ("Completed", "Canceled")
# Sort key -> (SQL expression, whether "descending" means ascending in SQL).
RUN_SORTS: dict[str, tuple[str, bool]] = {
    "started": ("created_date", False),
    # Idle time only means something for runs that can still move; longest idle first.
    "idle": (
        "CASE WHEN status IN ('Completed', 'Canceled') THEN NULL ELSE last_modified_date END",
        True,
    ),
    "orchestration": ("orchestration_name", False),
    "status": ("status", False),
    "stage": ("current_stage", False),
    "id": ("id", False),
}
ITEM_SORTS = ("age", "label", "assignee", "orchestration", "run")


class SvgCache:
    """Drawings by DOT text: runs standing at the same point share one `dot` call."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._found: OrderedDict[str, str] = OrderedDict()

    def svg(self, orch: Orchestration, picture: RunPicture | None = None) -> str:
        from orchlab.render.graph import pipe, to_graph

        graph = to_graph(orch, picture)
        source = graph.source
        hit = self._found.get(source)
        if hit is not None:
            self._found.move_to_end(source)
            return hit
        text = pipe(graph, "svg").decode("utf-8")
        text = text[text.find("<svg") :]  # the XML prolog and doctype do not belong in HTML
        self._found[source] = text
        if len(self._found) > self.size:
            self._found.popitem(last=False)
        return text


def _page(offset: Any, limit: Any) -> tuple[int, int]:
    try:
        offset, limit = int(offset), int(limit)
    except (TypeError, ValueError):
        raise EngineError(
            f"page: offset and limit must be whole numbers, got {offset!r}, {limit!r}"
        ) from None
    if offset < 0 or not 0 < limit <= MAX_PAGE:
        raise EngineError(
            f"page: expected offset >= 0 and 1 <= limit <= {MAX_PAGE}, got {offset}, {limit}"
        )
    return offset, limit


def who(item: WorkItem) -> str:
    """Whom an item waits on, e.g. "queue Underwriting → uma" or "user dana"."""
    text = f"{(item.assignee_type or '').lower()} {item.assignee}"
    return text + (f" → {item.owner}" if item.owner and item.assignee_type != "User" else "")


def waiting_on(run: Run) -> str:
    """What an open run waits on: people's work items, and steps still running in the background."""
    stage = run.stage
    if stage is None:
        return ""
    parts = []
    for step_run in stage.steps.values():
        if step_run.status is not Status.IN_PROGRESS:
            continue
        item = run.items.get(step_run.work_item or "")
        if item is not None and item.status is WorkItemStatus.ASSIGNED:
            parts.append(who(item))
        elif item is None:
            parts.append(f"step {step_run.name} (running)")
    return ", ".join(parts)


def _labels(engine: Engine) -> dict[str, str]:
    return {name: plan.orch.display_label for (name, _), plan in engine.plans.items()}


def runs_page(
    engine: Engine,
    *,
    orchestration: str | None = None,
    status: str | None = None,
    text: str | None = None,
    sort: str = "started",
    descending: bool = True,
    offset: int = 0,
    limit: int = 25,
) -> dict[str, Any]:
    """One page of the runs table, newest first by default; `total` counts every match."""
    offset, limit = _page(offset, limit)
    if sort not in RUN_SORTS:
        raise EngineError(f"runs: sort {sort!r}: expected one of {', '.join(RUN_SORTS)}")
    where, params = [], []
    if orchestration:
        where.append("orchestration_name = ?")
        params.append(orchestration)
    if status:
        where.append("status = ?")
        params.append(status)
    if text and text.strip():
        where.append("(id ILIKE ? OR triggering_record ILIKE ? OR current_stage ILIKE ?)")
        params += [f"%{text.strip()}%"] * 3
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    column, invert = RUN_SORTS[sort]
    order = "DESC" if descending != invert else "ASC"
    sql = (
        "SELECT id, orchestration_name, orchestration_version, status, current_stage, "
        "triggering_record, created_date, completed_date, last_modified_date, error, "
        f"count(*) OVER () AS total FROM runs {clause} "
        f"ORDER BY {column} {order} NULLS LAST, id {order} LIMIT ? OFFSET ?"
    )
    found = engine.store.execute(sql, [*params, limit, offset])
    if found:
        total = int(found[0][-1])
    elif offset:
        total = int(engine.store.execute(f"SELECT count(*) FROM runs {clause}", params)[0][0])
    else:
        total = 0
    now = engine.clock.now()
    labels = _labels(engine)
    rows = []
    for rid, name, version, st, stage, record, created, completed, modified, error, _ in found:
        run = engine.state.runs.get(rid)
        rows.append(
            {
                "id": rid,
                "orchestration": labels.get(name, name),
                "orchestration_name": name,
                "version": version,
                "status": st,
                "stage": stage if st not in _CLOSED else None,
                "record": record,
                "started": created,
                "completed": completed,
                "idle": None if st in _CLOSED else (now - modified).total_seconds(),
                "error": error,
                "waiting_on": waiting_on(run) if run is not None else "",
            }
        )
    return {"rows": rows, "total": total, "now": now, "offset": offset, "limit": limit}


def items_page(
    api: AppApi,
    *,
    orchestration: str | None = None,
    assignee: str | None = None,
    text: str | None = None,
    sort: str = "age",
    descending: bool = True,
    offset: int = 0,
    limit: int = 25,
) -> dict[str, Any]:
    """One page of the open work items (from memory: open items are exactly what it holds)."""
    offset, limit = _page(offset, limit)
    if sort not in ITEM_SORTS:
        raise EngineError(f"open items: sort {sort!r}: expected one of {', '.join(ITEM_SORTS)}")
    engine = api.engine
    runs = engine.state.runs
    items = engine.work_items()  # open ones, oldest first
    if orchestration:
        items = [w for w in items if runs[w.run_id].name == orchestration]
    if assignee:
        items = [w for w in items if assignee in (w.assignee, w.owner)]
    if text and text.strip():
        needle = text.strip().casefold()
        items = [
            w
            for w in items
            if needle in w.id.casefold()
            or needle in w.label.casefold()
            or needle in (w.context or "").casefold()
        ]
    if sort == "age":
        if not descending:
            items.reverse()  # newest first
    else:
        key = {
            "label": lambda w: w.label.casefold(),
            "assignee": lambda w: (w.owner or w.assignee or "").casefold(),
            "orchestration": lambda w: runs[w.run_id].name,
            "run": lambda w: w.run_id,
        }[sort]
        items.sort(key=key, reverse=descending)
    now = engine.clock.now()
    rows = [api.item_row(w, now) for w in items[offset : offset + limit]]
    return {"rows": rows, "total": len(items), "now": now, "offset": offset, "limit": limit}


def run_row(engine: Engine, run_id: str) -> dict[str, Any]:
    """A run's summary: from memory while it is open, else its row in the history."""
    run = engine.state.runs.get(run_id)
    labels = _labels(engine)
    if run is not None:
        return {
            "id": run.id,
            "orchestration": labels.get(run.name, run.name),
            "orchestration_name": run.name,
            "version": run.version,
            "status": str(run.status),
            "stage": run.stage.name if run.stage else None,
            "record": run.record_id,
            "started": run.started,
            "completed": None,
            "error": run.error,
            "waiting_on": waiting_on(run),
            "variables": dict(run.variables),
        }
    found = engine.store.execute(
        "SELECT id, orchestration_name, orchestration_version, status, triggering_record, "
        "created_date, completed_date, error FROM runs WHERE id = ?",
        [run_id],
    )
    if not found:
        raise NotFound(f"run {run_id!r} does not exist")
    rid, name, version, status, record, created, completed, error = found[0]
    return {
        "id": rid,
        "orchestration": labels.get(name, name),
        "orchestration_name": name,
        "version": version,
        "status": status,
        "stage": None,
        "record": record,
        "started": created,
        "completed": completed,
        "error": error,
        "waiting_on": "",
        "variables": {},
    }


_TIMELINE = (
    "seq",
    "timestamp",
    "kind",
    "stage_name",
    "step_name",
    "work_item_id",
    "status",
    "actor",
    "assignee",
    "assignee_type",
    "duration",
    "comments",
)


def timeline(engine: Engine, run_id: str) -> list[dict[str, Any]]:
    """The run's log, in order: what happened, who did it, when, and how long it took."""
    found = engine.store.execute(
        f"SELECT {', '.join(_TIMELINE)} FROM log WHERE instance_id = ? ORDER BY seq", [run_id]
    )
    return [dict(zip(_TIMELINE, row, strict=True)) for row in found]


def replay(engine: Engine, run_id: str) -> Run:
    """A closed run rebuilt from its log rows (the engine keeps only open runs in memory)."""
    rows = engine.store.rows("WHERE instance_id = ?", [run_id])
    if not rows:
        raise NotFound(f"run {run_id!r} does not exist")
    state = State(lambda name, version: engine.plans[(name, version)])
    run: Run | None = None
    for row in rows:
        state.apply(row)
        if run is None:
            run = state.runs.get(run_id)  # held here: the state forgets a run when it closes
    if run is None:  # pragma: no cover - every run's log starts with StartInstance
        raise NotFound(f"run {run_id!r} has no StartInstance row")
    if run.status is RunStatus.IN_PROGRESS and run_id not in engine.state.runs:
        raise NotFound(f"run {run_id!r}: its log is incomplete")  # pragma: no cover
    return run


def outbox(engine: Engine, work_item_id: str | None, limit: int) -> list[dict[str, Any]]:
    where, params = ("WHERE work_item_id = ?", [work_item_id]) if work_item_id else ("", [])
    found = engine.store.execute(
        f'SELECT seq, timestamp, work_item_id, "to", subject, body FROM outbox {where} '
        "ORDER BY seq DESC LIMIT ?",
        [*params, int(limit)],
    )
    keys = ("seq", "timestamp", "work_item_id", "to", "subject", "body")
    return [dict(zip(keys, row, strict=True)) for row in found]
