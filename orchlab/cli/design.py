"""Commands about definitions and the directory: validate, render, deploy, directory, demo."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from orchlab.cli.common import (
    CommandError,
    add_actor,
    add_flows,
    add_history,
    default_history,
    load_definition,
    open_engine,
    plural,
    register_flows,
)

__all__ = ["add_commands"]


def _load(path: str):
    return load_definition(path)


def cmd_validate(args: argparse.Namespace) -> int:
    from orchlab.definition.validate import Severity, validate

    register_flows(args.flows)
    orch = _load(args.file)
    problems = validate(orch)
    for p in problems:
        print(p)
    errors = [p for p in problems if p.severity is Severity.ERROR]
    if errors:
        print(f"{args.file}: {plural(len(errors), 'error')}", file=sys.stderr)
        return 1
    warnings = f" ({plural(len(problems), 'warning')})" if problems else ""
    print(f"{args.file}: {orch.name} v{orch.version} is valid{warnings}")
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    from orchlab.render import render

    picture = None
    if args.run:
        engine = open_engine(args.history or default_history())
        run = engine.run(args.run)
        orch, picture = run.plan.orch, run.picture()
        if args.file:
            given = _load(args.file)
            if given.name != orch.name:
                raise CommandError(
                    f"run {args.run} is of {orch.name}, not of {given.name} ({args.file}); "
                    "leave FILE out to draw the run on the version it ran"
                )
        engine.store.close()
    elif args.file:
        orch = _load(args.file)
    else:
        raise CommandError("render: expected a definition FILE, or --run RUN (or both)")
    out = render(orch, args.output, picture=picture, legend=picture is not None)
    print(f"wrote {out}" + (f" ({picture.title})" if picture else ""))
    return 0


def cmd_deploy(args: argparse.Namespace) -> int:
    register_flows(args.flows)
    orch = _load(args.file)
    engine = open_engine(args.history or default_history(), create=True)
    before = engine.active.get(orch.name)
    deployed = engine.deploy(orch, by=args.actor, activate=not args.inactive)
    state = "active" if engine.active.get(orch.name) == deployed.version else "inactive"
    if before == deployed.version:
        print(f"{deployed.name} v{deployed.version} is already deployed unchanged ({state})")
    else:
        print(f"deployed {deployed.name} v{deployed.version} ({state})")
    engine.store.close()
    return 0


def cmd_directory(args: argparse.Namespace) -> int:
    from orchlab.people.directory_file import load_directory

    entries = load_directory(args.file)
    engine = open_engine(args.history or default_history(), create=True)
    engine.load_directory(entries, by=args.actor)
    print(
        f"{args.file}: {plural(len(entries.users), 'user')}, "
        f"{plural(len(entries.groups), 'group')}, {plural(len(entries.queues), 'queue')} "
        f"in {engine.store.path}"
    )
    engine.store.close()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from orchlab.definition.examples import EXAMPLES
    from orchlab.definition.validate import validate

    out = Path(args.out) if args.out else None
    for key, make in EXAMPLES.items():
        orch = make()
        problems = validate(orch)
        steps = sum(len(s.steps) for s in orch.stages)
        line = (
            f"built {orch.name}: {plural(len(orch.stages), 'stage')}, {plural(steps, 'step')}, "
            f"{plural(len(orch.decisions), 'decision')}; {plural(len(problems), 'problem')}"
        )
        if out:
            from orchlab.definition.serialize import save

            out.mkdir(parents=True, exist_ok=True)
            line += f"; saved {save(orch, out / f'{key}.yaml')}"
        print(line)
    if out:
        from orchlab.definition.yaml_dialect import yaml_dump
        from orchlab.people.directory_file import save_directory
        from orchlab.simulate.demo import DEMO_SCENARIO, demo_directory

        scenario_file = out / "scenario.yaml"
        scenario_file.write_text(
            "# The demo history's assumptions: orchlab simulate FILE... --scenario scenario.yaml\n"
            + yaml_dump(DEMO_SCENARIO),
            encoding="utf-8",
        )
        print(f"saved {scenario_file}: the demo's arrivals, people and response times")

        people = demo_directory()
        path = save_directory(people, out / "people.yaml")
        print(
            f"saved {path}: {plural(len(people.users), 'user')}, "
            f"{plural(len(people.groups), 'group')}, {plural(len(people.queues), 'queue')}"
        )
    if args.history:
        _demo_history(Path(args.history), args)
    return 0


def _demo_history(path: Path, args: argparse.Namespace) -> None:
    from orchlab.engine import Engine, VirtualClock
    from orchlab.simulate.demo import deploy_examples, populate, setup_directory
    from orchlab.store import HistoryStore

    if path.exists() and not args.replace:
        raise CommandError(
            f"{path} already exists; pass --replace to overwrite it with a new demo history"
        )
    if path.exists():
        from orchlab.errors import StoreLocked

        try:  # refuse to replace a history another process is writing
            HistoryStore(path, read_only=True).close()
        except StoreLocked:
            raise
        except Exception:
            pass
    tmp = path.with_name(f".{path.name}.demo-tmp")
    for stale in (tmp, tmp.with_name(tmp.name + ".wal"), tmp.with_name(tmp.name + ".seq")):
        stale.unlink(missing_ok=True)
    clock = VirtualClock()
    engine = Engine(HistoryStore(tmp), clock=clock)
    setup_directory(engine)
    deploy_examples(engine)
    stats = populate(engine, clock, days=args.days)
    engine.store.checkpoint()
    engine.store.close()
    path.with_name(path.name + ".wal").unlink(missing_ok=True)
    tmp.replace(path)  # the old history is replaced only by a complete new one
    tmp.with_name(tmp.name + ".seq").replace(path.with_name(path.name + ".seq"))
    print(
        f"wrote demo history {path}: {plural(stats['runs'], 'run')}, "
        f"{plural(stats['work_items_completed'], 'work item')} completed"
    )


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "validate", help="check a definition (YAML, JSON or .flow-meta.xml): every problem at once"
    )
    p.add_argument("file")
    add_flows(p)
    p.set_defaults(fn=cmd_validate)

    p = sub.add_parser("render", help="draw a definition, or a run's state, to SVG, PNG or PDF")
    p.add_argument("file", nargs="?", help="definition file (optional with --run)")
    p.add_argument("-o", "--output", required=True, help="out.svg, out.png or out.pdf")
    p.add_argument("--run", help="paint this run's state (open or closed) from the history")
    add_history(p)
    p.set_defaults(fn=cmd_render)

    p = sub.add_parser("deploy", help="save a definition as a new active version (admins)")
    p.add_argument("file")
    p.add_argument("--inactive", action="store_true", help="deploy without activating")
    add_actor(p)
    add_history(p)
    add_flows(p)
    p.set_defaults(fn=cmd_deploy)

    p = sub.add_parser("directory", help="add the users, groups and queues of a YAML file")
    p.add_argument("file")
    p.add_argument("--as", dest="actor", default="system", metavar="USER", help="default: system")
    add_history(p)
    p.set_defaults(fn=cmd_directory)

    p = sub.add_parser("demo", help="write the example orchestrations and a demo history")
    p.add_argument("--out", help="save the examples and people.yaml in this folder")
    p.add_argument("--history", help="write a demo history database to this DuckDB file")
    p.add_argument("--replace", action="store_true", help="overwrite an existing --history")
    p.add_argument("--days", type=float, default=21.0, help="virtual days of history")
    p.set_defaults(fn=cmd_demo)
