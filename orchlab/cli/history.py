"""Commands about history files: snapshot (a copy to analyse while the engine writes)."""

from __future__ import annotations

import argparse
from pathlib import Path

from orchlab.cli.common import CommandError, add_history, default_history

__all__ = ["add_commands"]


def cmd_snapshot(args: argparse.Namespace) -> int:
    from orchlab.store import open_snapshot

    source = args.history or default_history()
    dest = Path(args.dest)
    if dest.exists():
        raise CommandError(f"{dest} already exists; expected a new file")
    if not Path(source).exists():
        raise CommandError(f"history file {source} does not exist")
    copy = open_snapshot(source, dest)
    runs = copy.execute("SELECT count(*) FROM runs")[0][0]
    copy.close()
    print(f"wrote {dest}: a copy of {source} with {runs} runs")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("snapshot", help="copy a history file to analyse while it is written")
    p.add_argument("dest", help="the new DuckDB file")
    add_history(p)
    p.set_defaults(fn=cmd_snapshot)
