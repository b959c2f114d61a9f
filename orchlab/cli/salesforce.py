"""Commands that bring Salesforce in: import-flow (metadata to YAML), import-history."""

from __future__ import annotations

import argparse
from pathlib import Path

from orchlab.cli.common import CommandError, add_history, default_history, plural

__all__ = ["add_commands"]


def cmd_import_flow(args: argparse.Namespace) -> int:
    """Read a `.flow-meta.xml` (or `.flow`), write it as orchlab YAML, list what was kept aside."""
    from orchlab.definition.serialize import save
    from orchlab.salesforce import load

    orch, warnings, registry = load(args.path)
    out = save(orch, args.output)
    stages = len(orch.stages)
    steps = sum(len(s.steps) for s in orch.stages)
    print(
        f"wrote {out}: {orch.name} v{orch.version}, {plural(stages, 'stage')}, "
        f"{plural(steps, 'step')}, {plural(len(registry), 'placeholder flow')}"
    )
    if warnings:
        print(f"kept aside or read with a caveat ({len(warnings)}):")
        for w in warnings:
            print(f"  {w}")
    if len(registry):
        print("placeholder flows (bind them to Python functions, or simulate with stand-ins):")
        for spec in registry:
            print(f"  {spec.kind.value} {spec.name}")
    return 0


def cmd_import_history(args: argparse.Namespace) -> int:
    """Import a folder (or files) of run-history exports into a history; print the report."""
    from orchlab.salesforce import import_history
    from orchlab.store import HistoryStore

    path = Path(args.history or default_history())
    sources = [Path(p) for p in args.paths]
    missing = [p for p in sources if not p.exists()]
    if missing:
        raise CommandError(f"{missing[0]}: no such file or folder; expected exports to import")
    with HistoryStore(path) as store:
        report = import_history(
            sources[0] if len(sources) == 1 else sources,
            store,
            timezone=args.timezone,
            day_first=args.day_first,
        )
    print(report)
    print(f"history: {path}")
    read_any = report.read > len(report.rejected)
    return 0 if read_any else 1


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "import-flow", help="write a Salesforce orchestration (.flow-meta.xml) as orchlab YAML"
    )
    p.add_argument("path", help="a .flow-meta.xml or .flow file")
    p.add_argument("-o", "--output", required=True, help="the YAML file to write")
    p.set_defaults(fn=cmd_import_flow)

    p = sub.add_parser(
        "import-history",
        help="import Salesforce run-history exports (CSV, JSON, reports) into a history",
    )
    p.add_argument("paths", nargs="+", metavar="DIR", help="a folder of exports, or files")
    p.add_argument(
        "--timezone",
        default="UTC",
        help="the zone of datetimes without an offset (a report's user zone; default UTC)",
    )
    p.add_argument("--day-first", action="store_true", help="report dates are day/month/year")
    add_history(p)
    p.set_defaults(fn=cmd_import_history)
