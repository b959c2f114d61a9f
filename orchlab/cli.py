"""The `orchlab` command line.

orchlab validate FILE            exit 0 when valid, else the problems and exit 1
orchlab render FILE -o out.svg   also .png and .pdf
orchlab demo [--history PATH]    build the examples (and a demo history database)
orchlab run FILE --history H     deploy a definition and start a run
orchlab runs --history H         list runs
orchlab work-items --history H --user U
orchlab complete ITEM --user U --history H [--value name=value ...]
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from orchlab.people.rights import SYSTEM

__all__ = ["main"]

DEFAULT_HISTORY = os.environ.get("ORCHLAB_HISTORY", "orchlab.duckdb")


def _load(path: str) -> Any:
    from orchlab.definition.serialize import load

    return load(path)


def _flows(modules: Sequence[str]) -> None:
    import orchlab.definition.examples  # noqa: F401 - registers the example flows

    for name in modules:
        importlib.import_module(name)


def _pairs(items: Sequence[str]) -> dict[str, Any]:
    import yaml

    values: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep:
            raise SystemExit(f"expected name=value, got {item!r}")
        values[name] = yaml.safe_load(text) if text else None  # 12 -> int, true -> bool
    return values


def cmd_validate(args: argparse.Namespace) -> int:
    from orchlab.definition.validate import Severity, validate

    _flows(args.flows)
    orch = _load(args.file)
    problems = validate(orch)
    for p in problems:
        print(p)
    errors = [p for p in problems if p.severity is Severity.ERROR]
    if errors:
        print(f"{args.file}: {len(errors)} error(s)", file=sys.stderr)
        return 1
    print(
        f"{args.file}: {orch.name} v{orch.version} is valid"
        + (f" ({len(problems)} warning(s))" if problems else "")
    )
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    from orchlab.render import render

    orch = _load(args.file)
    out = render(orch, args.output)
    print(f"wrote {out}")
    return 0


def _engine(path: str) -> Any:
    from orchlab.engine import Engine
    from orchlab.store import HistoryStore

    return Engine(HistoryStore(path))


def cmd_demo(args: argparse.Namespace) -> int:
    from orchlab.definition.examples import EXAMPLES
    from orchlab.definition.validate import validate

    out = Path(args.out) if args.out else None
    for key, make in EXAMPLES.items():
        orch = make()
        problems = validate(orch)
        steps = sum(len(s.steps) for s in orch.stages)
        line = (
            f"built {orch.name}: {len(orch.stages)} stages, {steps} steps, "
            f"{len(orch.decisions)} decisions; {len(problems)} problems"
        )
        if out:
            from orchlab.definition.serialize import save

            out.mkdir(parents=True, exist_ok=True)
            line += f"; saved {save(orch, out / f'{key}.yaml')}"
        print(line)
    if args.history:
        from orchlab.engine import Engine
        from orchlab.engine.clock import VirtualClock
        from orchlab.simulate.demo import deploy_examples, populate, setup_directory
        from orchlab.store import HistoryStore

        path = Path(args.history)
        for stale in (path, path.with_name(path.name + ".wal")):
            stale.unlink(missing_ok=True)
        clock = VirtualClock()
        engine = Engine(HistoryStore(path), clock=clock)
        setup_directory(engine)
        deploy_examples(engine)
        stats = populate(engine, clock, runs_per_process=args.runs, days=args.days)
        engine.store.checkpoint()
        engine.store.close()
        print(
            f"wrote demo history {path}: {stats['runs']} runs, "
            f"{stats['work_items_completed']} work items completed"
        )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    _flows(args.flows)
    engine = _engine(args.history)
    orch = engine.deploy(_load(args.file), by=SYSTEM)
    run = engine.start_run(orch.name, _pairs(args.input), record_id=args.record, by=SYSTEM)
    print(f"run {run.id}: {orch.name} v{orch.version} {run.status}")
    for item in engine.work_items():
        if item.run_id == run.id:
            print(f"  waiting: {item.id} {item.label!r} for {item.assignee_type} {item.assignee}")
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    from orchlab.store import HistoryStore

    store = HistoryStore(args.history)
    frame = store.sql(
        "SELECT id, orchestration_name, status, current_stage, created_date, "
        "completed_date FROM runs ORDER BY id"
    )
    print(frame.to_string(index=False) if len(frame) else "no runs")
    return 0


def cmd_work_items(args: argparse.Namespace) -> int:
    engine = _engine(args.history)
    items = engine.work_items(args.user)
    for w in items:
        print(f"{w.id}\t{w.label}\t{w.assignee_type}:{w.assignee}\tsince {w.created}")
    if not items:
        print(f"no open work items for {args.user or 'anyone'}")
    return 0


def cmd_complete(args: argparse.Namespace) -> int:
    _flows(args.flows)
    engine = _engine(args.history)
    item = engine.complete_work_item(args.item, args.user, _pairs(args.value))
    print(f"completed {item.id}; run {item.run_id} is {engine.run_status(item.run_id)}")
    return 0


def cmd_snapshot(args: argparse.Namespace) -> int:
    from orchlab.store import open_snapshot

    dest = Path(args.dest)
    if dest.exists():
        print(f"orchlab snapshot: {dest} already exists; expected a new file", file=sys.stderr)
        return 1
    copy = open_snapshot(args.history, dest)
    runs = copy.execute("SELECT count(*) FROM runs")[0][0]
    copy.close()
    print(f"wrote {dest}: a copy of {args.history} with {runs} runs")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="orchlab", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def history(p: argparse.ArgumentParser) -> None:
        p.add_argument("--history", default=DEFAULT_HISTORY, help="DuckDB history file")

    def flows(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--flows",
            action="append",
            default=[],
            metavar="MODULE",
            help="import a module that registers flows (repeatable)",
        )

    p = sub.add_parser("validate", help="check a definition (YAML or JSON)")
    p.add_argument("file")
    flows(p)
    p.set_defaults(fn=cmd_validate)
    p = sub.add_parser("render", help="draw a definition to SVG, PNG or PDF")
    p.add_argument("file")
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(fn=cmd_render)
    p = sub.add_parser("demo", help="build the example orchestrations (and a demo history)")
    p.add_argument("--out", help="save the examples as YAML in this folder")
    p.add_argument("--history", help="write a demo history database to this DuckDB file")
    p.add_argument("--runs", type=int, default=30, help="runs per example process")
    p.add_argument("--days", type=float, default=21.0, help="virtual days of history")
    p.set_defaults(fn=cmd_demo)
    p = sub.add_parser("run", help="deploy a definition and start a run")
    p.add_argument("file")
    p.add_argument("--input", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--record", help="record id the run is about")
    history(p)
    flows(p)
    p.set_defaults(fn=cmd_run)
    p = sub.add_parser("runs", help="list runs in a history file")
    history(p)
    p.set_defaults(fn=cmd_runs)
    p = sub.add_parser("work-items", help="open work items (a person's inbox with --user)")
    p.add_argument("--user")
    history(p)
    p.set_defaults(fn=cmd_work_items)
    p = sub.add_parser("complete", help="complete a work item as a user")
    p.add_argument("item")
    p.add_argument("--user", required=True)
    p.add_argument("--value", action="append", default=[], metavar="NAME=VALUE")
    history(p)
    flows(p)
    p.set_defaults(fn=cmd_complete)
    p = sub.add_parser("snapshot", help="copy a history file to analyse while it is written")
    p.add_argument("dest", help="the new DuckDB file")
    history(p)
    p.set_defaults(fn=cmd_snapshot)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from orchlab.engine import EngineError
    from orchlab.people.forms import FormInvalid
    from orchlab.store import StoreError

    args = build_parser().parse_args(argv)
    try:
        return int(args.fn(args))
    except (EngineError, FormInvalid, StoreError, ValueError, OSError) as exc:
        print(f"orchlab {args.command}: {exc}", file=sys.stderr)
        return 1 if not isinstance(exc, OSError) else 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
