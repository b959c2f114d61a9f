"""What every command shares: opening a history, typed NAME=VALUE pairs, printing tables."""

from __future__ import annotations

import argparse
import importlib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "CommandError",
    "default_history",
    "open_engine",
    "open_store",
    "load_definition",
    "is_metadata",
    "register_flows",
    "text_pairs",
    "typed_inputs",
    "table",
    "plural",
]


class CommandError(Exception):
    """A refusal of the command line itself (a missing file, a name=value without '=')."""


def default_history() -> str:
    return os.environ.get("ORCHLAB_HISTORY", "orchlab.duckdb")


def _existing(path: str) -> Path:
    found = Path(path)
    if not found.exists():
        raise CommandError(
            f"history file {path} does not exist; expected an orchlab history (make one with "
            "`orchlab directory people.yaml --history FILE` or `orchlab demo --history FILE`)"
        )
    return found


_OPENED: list[Any] = []  # stores a command opened: `main` closes them however it ends


def open_store(path: str) -> Any:
    """An existing history, read-write (reading commands refuse to create an empty one)."""
    from orchlab.store import HistoryStore

    store = HistoryStore(_existing(path))
    _OPENED.append(store)
    return store


def open_engine(path: str, *, create: bool = False) -> Any:
    """An engine on a history; only commands that set a history up may create the file."""
    from orchlab.engine import Engine
    from orchlab.store import HistoryStore

    store = HistoryStore(path if create else _existing(path))
    _OPENED.append(store)
    return Engine(store)


def close_opened() -> None:
    while _OPENED:
        _OPENED.pop().close()


def register_flows(modules: Sequence[str]) -> None:
    """Import the example flows and the modules the user names (they register flows)."""
    import orchlab.definition.examples  # noqa: F401 - registers the example flows

    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as error:
            raise CommandError(f"--flows {name}: cannot import it ({error})") from None


def text_pairs(items: Iterable[str], option: str) -> dict[str, str]:
    """NAME=VALUE options as text, for the engine's own checks to type (forms, records)."""
    values: dict[str, str] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name:
            raise CommandError(f"{option} {item!r}: expected NAME=VALUE")
        if name in values:
            raise CommandError(f"{option} {name}: given twice")
        values[name] = text
    return values


def typed_inputs(orch: Any, items: Iterable[str]) -> dict[str, Any]:
    """--input NAME=VALUE typed by the orchestration's input variables (text stays text)."""
    from orchlab.definition.values import parse_text

    given = text_pairs(items, "--input")
    variables = {v.name: v for v in orch.variables if v.is_input}
    typed: dict[str, Any] = {}
    for name, text in given.items():
        var = variables.get(name)
        if var is None:
            expected = ", ".join(sorted(variables)) or "none"
            raise CommandError(
                f"--input {name}: {orch.name} has no such input variable; expected one of "
                f"{expected}"
            )
        try:
            typed[name] = parse_text(text, var.type, var.is_collection)
        except ValueError as error:
            raise CommandError(f"--input {name}: {error}") from None
    return typed


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word if count == 1 else many or word + 's'}"


def table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    """A plain text table with a header row; columns as wide as their widest cell."""
    cells = [[str(h) for h in header]] + [["-" if v is None else str(v) for v in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(line.rstrip() for line in lines)


def add_history(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--history",
        default=None,
        metavar="FILE",
        help="DuckDB history file (default: $ORCHLAB_HISTORY or orchlab.duckdb)",
    )


def add_actor(p: argparse.ArgumentParser, *, also: str | None = None) -> None:
    names = ["--as", *([also] if also else [])]
    p.add_argument(
        *names,
        dest="actor",
        required=True,
        metavar="USER",
        help="who does this (a username; `system` for trusted scripts)",
    )


def add_flows(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--flows",
        action="append",
        default=[],
        metavar="MODULE",
        help="import a module that registers flows (repeatable)",
    )


_METADATA = (".flow-meta.xml", ".flow", ".xml")  # Salesforce Flow metadata, current and older


def is_metadata(path: str | os.PathLike[str]) -> bool:
    return str(path).lower().endswith(_METADATA)


def load_definition(path: str | os.PathLike[str], *, quiet: bool = False) -> Any:
    """A definition from orchlab YAML/JSON or Salesforce metadata (`.flow-meta.xml`, `.flow`).

    A metadata file's named flows get placeholders in the shared registry (the flows the user
    registers keep theirs), so it validates and simulates as loaded; what it keeps aside is
    printed unless `quiet`.
    """
    if not is_metadata(path):
        from orchlab.definition.serialize import load

        return load(path)
    import sys

    from orchlab.definition import registry as shared
    from orchlab.salesforce import load, placeholder_registry

    orch, warnings, _ = load(path)
    for spec in placeholder_registry(orch, base=shared.registry):
        if spec.name not in shared.registry:
            shared.registry.add(
                spec.name, spec.fn, spec.kind, inputs=spec.inputs, outputs=spec.outputs
            )
    if warnings and not quiet:
        print(f"{path}: {plural(len(warnings), 'note')} on what orchlab keeps aside "
              "(orchlab import-flow lists them)", file=sys.stderr)  # fmt: skip
    return orch
