"""Commands for many runs and their history: simulate, report."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from orchlab.cli.common import (
    add_history,
    default_history,
    load_definition,
    open_engine,
    open_store,
    plural,
    register_flows,
)

__all__ = ["add_commands"]


def _progress(stream: object = None) -> object:
    """A one-line progress bar on a terminal; nothing when the output is a file or a pipe."""
    out = stream or sys.stderr
    if not getattr(out, "isatty", lambda: False)():
        return None

    def show(done: float) -> None:
        filled = int(done * 30)
        out.write(f"\rsimulating [{'#' * filled}{'.' * (30 - filled)}] {done:4.0%}")  # type: ignore[attr-defined]
        if done >= 1:
            out.write("\n")  # type: ignore[attr-defined]
        out.flush()  # type: ignore[attr-defined]

    return show


def cmd_simulate(args: argparse.Namespace) -> int:
    import dataclasses

    from orchlab.engine import VirtualClock
    from orchlab.simulate import load_scenario, scenario_for, simulate

    register_flows(args.flows)
    orchs = [load_definition(f) for f in args.files]
    base = load_scenario(args.scenario) if args.scenario else None
    if base is not None and args.per_day is None and args.days is None:
        scenario = base
    else:
        scenario = scenario_for(
            orchs,
            per_day=args.per_day if args.per_day is not None else 10.0,
            days=args.days if args.days is not None else (base.days if base else 30.0),
            seed=args.seed if args.seed is not None else (base.seed if base else 7),
            base=base,
        )
    if args.seed is not None:
        scenario = dataclasses.replace(scenario, seed=args.seed)
    path = Path(args.history or default_history())
    engine = open_engine(str(path), create=True)
    if engine.store.execute("SELECT count(*) FROM log")[0][0]:
        last = engine.store.execute("SELECT max(timestamp) FROM log")[0][0]
        clock = VirtualClock(max(last, scenario.start))
    else:
        clock = VirtualClock(scenario.start)
    engine.clock = clock
    sim = simulate(orchs, scenario, engine=engine, progress=_progress())  # type: ignore[arg-type]
    print(f"simulated {scenario.days:g} days in {path}: {sim.report}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from orchlab.render.report import build_report, html_report, text_report

    store = open_store(args.history or default_history())
    report = build_report(store, dt.timedelta(hours=args.stalled_after))
    print(text_report(report))
    if args.html:
        out = html_report(report, args.html)
        print(f"\nwrote {out} ({plural(len(report.runs), 'row')} of runs, with diagrams and plots)")
    return 0


def _hours(text: str) -> float:
    from orchlab.simulate.scenario import hours_of

    try:
        return hours_of(float(text) if text.replace(".", "", 1).isdigit() else text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("simulate", help="simulate many runs of definitions on a virtual clock")
    p.add_argument(
        "files", nargs="+", metavar="FILE", help="definition files (YAML, JSON or .flow-meta.xml)"
    )
    p.add_argument("--per-day", type=float, help="arrivals a day of each (default 10)")
    p.add_argument("--days", type=float, help="how long to simulate (default 30)")
    p.add_argument("--seed", type=int, help="random seed (same seed, same history)")
    p.add_argument("--scenario", help="a scenario YAML: people, response times, admins, ...")
    add_history(p)
    p.add_argument(
        "--flows",
        action="append",
        default=[],
        metavar="MODULE",
        help="import a module that registers flows (repeatable); others get stand-ins",
    )
    p.set_defaults(fn=cmd_simulate)

    p = sub.add_parser("report", help="stalled runs, throughput and bottlenecks of a history")
    p.add_argument("--html", metavar="OUT", help="also write an HTML page with diagrams and plots")
    p.add_argument(
        "--stalled-after",
        type=_hours,
        default=72.0,
        metavar="DURATION",
        help="no progress for this long counts as stalled (default 3d)",
    )
    add_history(p)
    p.set_defaults(fn=cmd_report)
