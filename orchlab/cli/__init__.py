"""The `orchlab` command line: the same engine rules as the API, from files and a history.

    orchlab demo --out examples/                 the examples and their people (people.yaml)
    orchlab directory examples/people.yaml       users, groups and queues into the history
    orchlab deploy examples/loan.yaml --as olivia
    orchlab start Loan --as sam --input applicant=Kim --input amount=1200
    orchlab work-items --user sam                a person's inbox
    orchlab complete R000001-W1 --user sam --value documents_complete=true
    orchlab show R000001                         where a run stands, its path and timeline
    orchlab render --run R000001 -o run.svg      a run's state drawn (open or closed)
    orchlab simulate examples/loan.yaml --per-day 20 --days 90 --history sim.duckdb
    orchlab report --history sim.duckdb --html report.html
    orchlab apps                                 the Work Guide, monitor and designer in Voilà
    orchlab import-flow Case.flow-meta.xml -o case.yaml    Salesforce metadata as orchlab YAML
    orchlab import-history exports/ --history org.duckdb   Salesforce run history in

Commands that change something take `--as USER`; `--history FILE` (default
$ORCHLAB_HISTORY or orchlab.duckdb) names the history; reading commands refuse a missing file.
Exit status: 0 done, 1 refused or the run ended in Error (the reason is printed), 2 usage.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from orchlab.cli import analyse, design, history, runs, salesforce
from orchlab.cli.common import CommandError, close_opened

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="orchlab",
        description="Design, run and analyse Salesforce-style flow orchestrations.",
        epilog="Run `orchlab COMMAND --help` for a command's options.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser(
        "apps",
        help="serve the Work Guide, runs monitor and designer as web pages (Voilà)",
        add_help=False,
    )
    p.set_defaults(fn=_apps)
    design.add_commands(sub)
    runs.add_commands(sub)
    history.add_commands(sub)
    analyse.add_commands(sub)
    salesforce.add_commands(sub)
    return parser


def _apps(args: argparse.Namespace) -> int:
    """`orchlab apps [--history FILE] [--port P] [--service-port S]`: the apps' own launcher."""
    from orchlab.ui.apps import main as apps_main

    return int(apps_main(args.rest))  # its options are its launcher's own


def main(argv: Sequence[str] | None = None) -> int:
    from orchlab.errors import OrchlabError

    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if args.command == "apps":
        args.rest = rest
    elif rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    try:
        return int(args.fn(args))
    except (OrchlabError, CommandError, ValueError, OSError) as exc:
        print(f"orchlab {args.command}: {exc}", file=sys.stderr)
        return 1
    except RecursionError:
        print(f"orchlab {args.command}: the input is nested too deeply", file=sys.stderr)
        return 1
    finally:
        close_opened()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
