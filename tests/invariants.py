"""One checker of what must hold for any engine, after any call: `check_invariants(engine)`.

It reads three sources and makes them agree:

- the log (the truth): every run's rows are replayed into a fresh `State`;
- the engine's memory (`engine.state`): the open runs, their stages, steps and work items;
- the current-state tables (`runs`, `stage_runs`, `step_runs`, `work_items`) after
  `store.refresh()`.

and checks the rules of a run on the tables (which hold every stage visit, not only the latest):
at most one stage in progress per run, stages follow the definition's path (connectors, decision
outcomes, fault paths), no step runs outside its stage, a completed stage has no running step,
every open work item belongs to an in-progress interactive step.

It raises `AssertionError` listing every problem found (not only the first), so a failing test
says all that is wrong at once. It never writes: it is safe on any engine a test made.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from orchlab.definition.model import Decision, InteractiveStep, Stage
from orchlab.engine import Engine
from orchlab.engine.plan import Plan
from orchlab.engine.state import Records, Run, State

__all__ = ["check_invariants", "live_picture"]

_OPEN_RUN = {"InProgress", "Suspended", "Error"}
_OPEN_STAGE = {"InProgress", "Suspended"}


def check_invariants(engine: Engine) -> None:
    """Raise AssertionError naming every broken invariant of this engine and its store."""
    problems: list[str] = []
    store = engine.store
    store.refresh()
    replay = _replay(engine, problems)
    _memory_agrees(engine, replay, problems)
    _tables_agree(engine, replay, problems)
    _rules_hold(engine, problems)
    if problems:
        shown = "\n  ".join(problems[:40])
        more = f"\n  ... and {len(problems) - 40} more" if len(problems) > 40 else ""
        raise AssertionError(f"{len(problems)} invariant(s) broken:\n  {shown}{more}")


def _replay(engine: Engine, problems: list[str]) -> dict[str, Run]:
    """Every run the log can rebuild: replayed from its rows alone, kept even when closed."""
    state = State(lambda name, version: engine.plans[(name, version)], keep_closed=True)
    state.records = Records()
    skip = {r for (r,) in engine.store.execute("SELECT id FROM runs WHERE source = 'imported'")}
    for row in engine.store.rows():
        rid = row.instance_id
        if rid is not None:
            if rid in skip:
                continue
            if rid not in state.runs:
                # Imported history, archived starts or unknown definitions cannot be replayed
                # by the engine: those runs are checked on the tables only.
                known = (row.orchestration_name, row.orchestration_version) in engine.plans
                if row.kind != "StartInstance" or not known:
                    skip.add(rid)
                    continue
        try:
            state.apply(row)
        except Exception as exc:  # a row the log holds but memory cannot take: a broken log
            problems.append(f"log row seq {row.seq} ({row.kind} of {rid}) does not replay: {exc!r}")
            if rid is not None:
                skip.add(rid)
                state.runs.pop(rid, None)
    return state.runs


def live_picture(run: Run) -> dict[str, Any]:
    """What must be equal between a run in memory and the same run replayed or reopened."""
    return {
        "status": str(run.status),
        "stage": run.stage.name if run.stage else None,
        "stage_status": str(run.stage.status) if run.stage else None,
        "path": list(run.path),
        "variables": run.variables,
        "outputs": run.outputs,
        "record": run.record_id,
        "steps": {
            name: {
                step_name: (str(s.status), s.work_item, s.pending)
                for step_name, s in stage.steps.items()
            }
            for name, stage in run.latest.items()
        },
        "items": {
            i.id: (str(i.status), i.assignee, i.assignee_type, i.owner, i.completed_by, i.values)
            for i in run.items.values()
        },
    }


def _memory_agrees(engine: Engine, replay: dict[str, Run], problems: list[str]) -> None:
    memory = engine.state.runs
    replay_open = {r for r, run in replay.items() if str(run.status) in _OPEN_RUN}
    lost = set(memory) - set(replay) - _unreplayable(engine, memory)
    if lost:
        problems.append(f"runs in memory but not in the log: {sorted(lost)}")
    if replay_open - set(memory):
        problems.append(
            f"open runs in the log, missing from memory: {sorted(replay_open - set(memory))}"
        )
    for rid in sorted(set(memory) & set(replay)):
        live, again = live_picture(memory[rid]), live_picture(replay[rid])
        if live != again:
            diff = {k: (live[k], again[k]) for k in live if live[k] != again[k]}
            problems.append(f"run {rid}: memory differs from the log's replay: {diff}")
    items = {i for run in memory.values() for i in run.items}
    if items != set(engine.state.work_items):
        problems.append(
            f"engine.state.work_items {sorted(engine.state.work_items)} are not the open runs' "
            f"items {sorted(items)}"
        )


def _unreplayable(engine: Engine, memory: dict[str, Run]) -> set[str]:
    return {r for r, run in memory.items() if (run.name, run.version) not in engine.plans}


def _tables_agree(engine: Engine, replay: dict[str, Run], problems: list[str]) -> None:
    q = engine.store.execute
    runs = {r[0]: r[1:] for r in q("SELECT id, status, current_stage FROM runs")}
    for rid, run in replay.items():
        if rid not in runs:
            problems.append(f"run {rid} is in the log but not in the runs table")
            continue
        status, current = runs[rid]
        if status != str(run.status):
            problems.append(f"run {rid}: runs.status {status!r}, the log says {run.status!s}")
        stages = [p for p in run.path if isinstance(run.plan.elements.get(p), Stage)]
        if current != (stages[-1] if stages else None):
            problems.append(f"run {rid}: runs.current_stage {current!r}, the log's path {run.path}")
    for rid, (status, _) in runs.items():
        if status in _OPEN_RUN and rid not in engine.state.runs:
            problems.append(f"run {rid} is {status} in the runs table but not open in memory")
    stage_rows = {
        r[0]: r[1:] for r in q("SELECT id, orchestration_instance_id, name, status FROM stage_runs")
    }
    step_rows = {
        r[0]: r[1:] for r in q("SELECT id, stage_instance_id, name, status FROM step_runs")
    }
    item_rows = {
        r[0]: r[1:]
        for r in q(
            "SELECT id, orchestration_instance_id, status, assignee_id, assignee_type, owner_id, "
            "completed_by FROM work_items"
        )
    }
    for rid, run in replay.items():
        for stage in run.latest.values():
            got = stage_rows.get(stage.id)
            if got != (rid, stage.name, str(stage.status)):
                problems.append(
                    f"stage run {stage.id}: table {got}, the log {stage.name} {stage.status}"
                )
            for step in stage.steps.values():
                got_step = step_rows.get(step.id)
                if got_step != (stage.id, step.name, str(step.status)):
                    problems.append(
                        f"step run {step.id}: table {got_step}, the log {step.name} {step.status}"
                    )
        for item in run.items.values():
            want = (rid, str(item.status), item.assignee, item.assignee_type, item.owner,
                    item.completed_by)  # fmt: skip
            if item_rows.get(item.id) != want:
                problems.append(f"work item {item.id}: table {item_rows.get(item.id)}, log {want}")


def _rules_hold(engine: Engine, problems: list[str]) -> None:
    """The rules of a run, on the tables: every stage visit, open or closed."""
    q = engine.store.execute
    run_info = {
        r[0]: r[1:]
        for r in q("SELECT id, orchestration_name, orchestration_version, status, source FROM runs")
    }
    stages: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for row in q(
        "SELECT orchestration_instance_id, id, name, status, sequence FROM stage_runs "
        "ORDER BY orchestration_instance_id, sequence"
    ):
        stages[row[0]].append(row[1:])
    stage_of = {s[0]: (rid, s[1], s[2]) for rid, ss in stages.items() for s in ss}
    steps = q(
        "SELECT id, orchestration_instance_id, stage_instance_id, name, status FROM step_runs"
    )
    step_of = {s[0]: s for s in steps}
    for rid, visits in stages.items():
        name, version, status, source = run_info.get(rid, (None, None, None, None))
        open_ = [v for v in visits if v[2] in _OPEN_STAGE]
        if len(open_) > 1:
            problems.append(f"run {rid}: {len(open_)} stages in progress at once: {open_}")
        if open_ and status not in ("InProgress", "Suspended"):
            problems.append(f"run {rid} is {status} but stage {open_[0][1]} is {open_[0][2]}")
        if open_ and open_[0] is not visits[-1]:
            problems.append(f"run {rid}: stage {open_[0][1]} is open but is not the last entered")
        plan = engine.plans.get((name, version))
        if plan is None or source == "imported":
            continue  # only the engine's own runs follow an engine's definition
        allowed = _reachable(plan, plan.orch.first)
        for i, (sid, stage_name, stage_status, _seq) in enumerate(visits):
            if stage_name not in allowed:
                came = visits[i - 1][1] if i else "the start"
                problems.append(
                    f"run {rid}: stage {stage_name} ({sid}) cannot follow {came}; the "
                    f"definition allows {sorted(allowed)}"
                )
            if i + 1 < len(visits) and stage_status not in ("Completed", "Error"):
                problems.append(f"run {rid}: stage {sid} is {stage_status} yet another followed")
            stage = plan.elements.get(stage_name)
            allowed = set()
            if isinstance(stage, Stage):
                if stage_status != "Error" and stage.next:
                    allowed |= _reachable(plan, stage.next.target)
                if stage_status == "Error" and stage.on_fault:
                    allowed |= _reachable(plan, stage.on_fault.target)
    for sid, rid, stage_id, step_name, status in steps:
        owner = stage_of.get(stage_id)
        if owner is None:
            problems.append(f"step run {sid} ({step_name}) belongs to no stage run {stage_id}")
            continue
        stage_rid, stage_name, stage_status = owner
        if stage_rid != rid:
            problems.append(f"step run {sid} is of run {rid}, its stage {stage_id} of {stage_rid}")
        name, version, _, source = run_info.get(rid, (None, None, None, None))
        plan = engine.plans.get((name, version))
        if plan is not None and source != "imported":
            defined = plan.stage_of.get(step_name)
            if defined is None or defined.name != stage_name:
                problems.append(f"step {step_name} ({sid}) ran in stage {stage_name}, not its own")
        if status == "InProgress" and stage_status not in _OPEN_STAGE:
            problems.append(
                f"step run {sid} ({step_name}) is InProgress in stage {stage_id}, "
                f"which is {stage_status}"
            )
    for item_id, rid, step_id, step_name in q(
        "SELECT id, orchestration_instance_id, step_instance_id, step_name FROM work_items "
        "WHERE status = 'Assigned'"
    ):
        step = step_of.get(step_id)
        if step is None or step[4] != "InProgress":
            problems.append(
                f"open work item {item_id}: its step {step_name} ({step_id}) is "
                f"{step[4] if step else 'missing'}, expected InProgress"
            )
        name, version, _, source = run_info.get(rid, (None, None, None, None))
        plan = engine.plans.get((name, version))
        if plan is not None and not isinstance(plan.steps.get(step_name), InteractiveStep):
            problems.append(f"open work item {item_id}: step {step_name} is not interactive")


def _reachable(plan: Plan, name: str | None, seen: set[str] | None = None) -> set[str]:
    """The stages a run can enter next from element `name`: through decisions, not stages."""
    seen = set() if seen is None else seen
    if name is None or name in seen:
        return set()
    seen.add(name)
    element = plan.elements.get(name)
    if isinstance(element, Stage):
        return {name}
    if isinstance(element, Decision):
        out: set[str] = set()
        for target in [o.next for o in element.outcomes] + [element.default]:
            if target is not None:
                out |= _reachable(plan, target.target, seen)
        return out
    return set()  # an End, or nothing: the path ends
