"""Commands about runs and work: start, runs, show, work-items, complete, and admin actions."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from orchlab.cli.common import (
    add_actor,
    add_flows,
    add_history,
    default_history,
    open_engine,
    open_store,
    plural,
    register_flows,
    table,
    text_pairs,
    typed_inputs,
)

__all__ = ["add_commands", "describe_run"]


def _history(args: argparse.Namespace) -> str:
    return args.history or default_history()


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, dt.datetime) else str(value)


def _assignee(item: Any) -> str:
    who = f"{item.assignee_type} {item.assignee}"
    return who + (f" → {item.owner}" if item.owner and item.assignee_type != "User" else "")


def describe_run(engine: Any, run: Any) -> tuple[str, int]:
    """One line on where a run stands, and the exit code it deserves (1 when it errored)."""
    where = f" at {run.stage.name}" if run.stage is not None else ""
    lines = [f"run {run.id}: {run.name} v{run.version} {run.status}{where}"]
    if str(run.status) == "Error":
        lines.append(f"  error: {run.error}")
        lines.append(f"  fix the cause, then: orchlab resume {run.id} --as <admin>")
    for item in engine.work_items():
        if item.run_id == run.id:
            lines.append(f"  waiting: {item.id} {item.label!r} for {_assignee(item)}")
    return "\n".join(lines), 1 if str(run.status) == "Error" else 0


def cmd_start(args: argparse.Namespace) -> int:
    register_flows(args.flows)
    engine = open_engine(_history(args))
    orch = engine.definition(args.name, args.version)
    run = engine.start_run(
        orch.name,
        typed_inputs(orch, args.input),
        by=args.actor,
        version=orch.version,
        record_id=args.record,
    )
    text, code = describe_run(engine, run)
    print(text)
    return code


def cmd_run(args: argparse.Namespace) -> int:
    from orchlab.definition.serialize import load

    register_flows(args.flows)
    engine = open_engine(_history(args), create=True)
    orch = engine.deploy(load(args.file), by=args.actor)
    run = engine.start_run(
        orch.name, typed_inputs(orch, args.input), by=args.actor, record_id=args.record
    )
    text, code = describe_run(engine, run)
    print(text)
    return code


def cmd_record(args: argparse.Namespace) -> int:
    register_flows(args.flows)
    engine = open_engine(_history(args))
    fields = text_pairs(args.field, "--field")
    typed = {k: _guess(v) for k, v in fields.items()}
    if args.action == "create":
        change = engine.create_record(args.target, typed, by=args.actor)
        print(f"created {args.target} record {change.id}")
    else:
        change = engine.update_record(args.target, typed, by=args.actor)
        print(f"updated record {change.id}")
    code = 0
    for run_id in change.started:
        text, failed = describe_run(engine, engine.run(run_id))
        print(text)
        code = max(code, failed)
    if not change.started:
        print("  no orchestration started")
    return code


def _guess(text: str) -> Any:
    """A record field typed from text: numbers, true/false and dates read as such."""
    import yaml

    try:
        value = yaml.safe_load(text) if text else None
    except yaml.YAMLError:
        return text
    return value if isinstance(value, int | float | bool | dt.date) or value is None else text


def cmd_runs(args: argparse.Namespace) -> int:
    store = open_store(_history(args))
    where, params = [], []
    if args.status:
        where.append("status = ?")
        params.append(args.status)
    if args.orchestration:
        where.append("orchestration_name = ?")
        params.append(args.orchestration)
    sql = (
        "SELECT id, orchestration_name || ' v' || orchestration_version, status, current_stage, "
        "created_date, completed_date FROM runs"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY id LIMIT ?"
    )
    rows = store.execute(sql, [*params, args.limit])
    store.close()
    if not rows:
        print("no runs" + (" match" if where else f" in {_history(args)}"))
        return 0
    rows = [(*r[:4], _when(r[4]), _when(r[5]) if r[5] else None) for r in rows]
    print(table(rows, ["run", "orchestration", "status", "stage", "started", "ended"]))
    return 0


def _where(row: Any, labels: dict[str, str]) -> str:
    """Where a log row happened, as a person reads it."""
    if row.kind == "TakeOutcome":
        decision = (row.payload or {}).get("decision", "?")
        return f"{decision}: {row.comments or labels.get(decision, 'default')}"
    return row.step_name or row.stage_name or "-"


def cmd_show(args: argparse.Namespace) -> int:
    engine = open_engine(_history(args))
    run = engine.run(args.run)
    text, code = describe_run(engine, run)
    print(text)
    rows = engine.store.rows("WHERE instance_id = ?", [run.id])
    decisions = run.plan.orch.decisions
    labels = {d.name: d.default_label or "default" for d in decisions}
    path = [
        _where(r, labels) if r.kind == "TakeOutcome" else r.stage_name
        for r in rows
        if r.kind in ("StartStage", "TakeOutcome")
    ]
    if str(run.status) == "Completed":
        path.append((rows[-1].payload or {}).get("end", "End"))
    print(f"  path: {' → '.join(path) or '-'}")
    start = rows[0].timestamp
    lines = []
    for r in rows:
        hours, rest = divmod(int((r.timestamp - start).total_seconds()), 3600)
        note = r.comments if r.kind.startswith("Fail") else None
        lines.append(
            (
                _when(r.timestamp),
                f"+{hours}h{rest // 60:02d}",
                r.kind,
                _where(r, labels),
                r.work_item_id,
                r.status,
                r.actor,
                note,
            )
        )
    print(table(lines, ["time", "elapsed", "event", "where", "work item", "status", "by", "note"]))
    engine.store.close()
    return code


def cmd_work_items(args: argparse.Namespace) -> int:
    engine = open_engine(_history(args))
    items = engine.work_items(args.user)
    whose = f"{args.user}'s inbox" if args.user else "open work items"
    print(f"{whose}: {plural(len(items), 'open work item')}")
    if items:
        rows = []
        for w in items:
            run = engine.state.runs[w.run_id]
            process = f"{run.name} v{run.version}"
            rows.append((w.id, w.label, process, w.run_id, _assignee(w), _when(w.created)))
        print(table(rows, ["work item", "label", "orchestration", "run", "assigned to", "since"]))
    engine.store.close()
    return 0


def cmd_complete(args: argparse.Namespace) -> int:
    register_flows(args.flows)
    engine = open_engine(_history(args))
    item = engine.complete_work_item(
        args.item, args.actor, text_pairs(args.value, "--value"), comments=args.comments
    )
    print(f"completed {item.id} {item.label!r} as {args.actor}")
    text, code = describe_run(engine, engine.run(item.run_id))
    print(text)
    return code


def cmd_reassign(args: argparse.Namespace) -> int:
    engine = open_engine(_history(args))
    item = engine.reassign_work_item(args.item, args.to, by=args.actor)
    print(f"reassigned {item.id} {item.label!r} to {_assignee(item)}")
    return 0


def _admin_action(verb: str) -> Any:
    def command(args: argparse.Namespace) -> int:
        register_flows(getattr(args, "flows", []))
        engine = open_engine(_history(args))
        act = {
            "cancel": engine.cancel_run,
            "suspend": engine.suspend_run,
            "resume": engine.resume_run,
            "event": engine.publish_event,
        }[verb]
        run = act(args.run, by=args.actor)
        text, code = describe_run(engine, engine.run(run.id))
        print(text)
        return code

    return command


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("start", help="start a run of a deployed orchestration")
    p.add_argument("name", help="orchestration API name")
    p.add_argument("--version", type=int, help="a deployed version (default: the active one)")
    p.add_argument("--input", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--record", help="record id the run is about")
    add_actor(p)
    add_history(p)
    add_flows(p)
    p.set_defaults(fn=cmd_start)

    p = sub.add_parser("run", help="deploy a definition file and start a run (admins)")
    p.add_argument("file")
    p.add_argument("--input", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--record", help="record id the run is about")
    add_actor(p)
    add_history(p)
    add_flows(p)
    p.set_defaults(fn=cmd_run)

    for action, target in (("create", "object"), ("update", "record_id")):
        p = sub.add_parser(
            f"{action}-record", help=f"{action} a record (record-triggered runs may start)"
        )
        p.add_argument("target", metavar=target.upper())
        p.add_argument("--field", action="append", default=[], metavar="NAME=VALUE")
        add_actor(p)
        add_history(p)
        add_flows(p)
        p.set_defaults(fn=cmd_record, action=action)

    p = sub.add_parser("runs", help="list runs")
    p.add_argument("--status", help="InProgress, Completed, Canceled, Suspended or Error")
    p.add_argument("--orchestration", help="only runs of this orchestration")
    p.add_argument("--limit", type=int, default=200, help="at most this many (default 200)")
    add_history(p)
    p.set_defaults(fn=cmd_runs)

    p = sub.add_parser("show", help="one run: where it stands, its path and its timeline")
    p.add_argument("run")
    add_history(p)
    p.set_defaults(fn=cmd_show)

    p = sub.add_parser("work-items", help="open work items (a person's inbox with --user)")
    p.add_argument("--user")
    add_history(p)
    p.set_defaults(fn=cmd_work_items)

    p = sub.add_parser("complete", help="complete a work item as a user")
    p.add_argument("item")
    add_actor(p, also="--user")
    p.add_argument("--value", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--comments", help="a note kept with the completion")
    add_history(p)
    add_flows(p)
    p.set_defaults(fn=cmd_complete)

    p = sub.add_parser("reassign", help="give an open work item to another assignee (admins)")
    p.add_argument("item")
    p.add_argument("--to", required=True, help="a user, group or queue")
    add_actor(p)
    add_history(p)
    p.set_defaults(fn=cmd_reassign)

    for verb, text in (
        ("cancel", "cancel a run (admins)"),
        ("suspend", "suspend a run (admins)"),
        ("resume", "resume a suspended run or retry an errored one (admins)"),
        ("event", "publish an orchestration event: the run re-checks its conditions"),
    ):
        p = sub.add_parser(verb, help=text)
        p.add_argument("run")
        add_actor(p)
        add_history(p)
        add_flows(p)
        p.set_defaults(fn=_admin_action(verb))
