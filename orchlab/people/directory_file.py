"""The directory as a YAML (or JSON) file: who works the processes, for the CLI and the API.

    users:
      - {username: olivia, name: Olivia Pope, admin: true}
      - {username: sam, name: Sam Carter, email: sam@example.com}
    groups:
      - {name: Senior_Underwriters, members: [olivia]}
    queues:
      - {name: Loan_Officers, members: [sam], routing: pool}   # pool | round_robin | least_open

Reading reports every mistake at once, each naming the entry and the field; the entries are
then checked together (members must be users, names unique across users, groups and queues)
by `Directory.check`. `Engine.load_directory(path, by=...)` applies a file in one transaction.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from orchlab.definition.codec import (
    KINDS,
    DefinitionError,
    Node,
    Noted,
    collecting,
    enum_kind,
    listing,
    read_fields,
    spec,
    write_fields,
)
from orchlab.definition.yaml_dialect import parse, yaml_dump
from orchlab.errors import DirectoryError
from orchlab.people.directory import Group, Queue, Routing, User

__all__ = ["DirectoryFile", "load_directory", "save_directory", "directory_from_text"]

_K = {**KINDS, "routing": enum_kind(Routing)}
_USER = spec("username name email admin=is_admin:flag", _K)
_GROUP = spec("name label members:names", _K)
_QUEUE = spec("name label routing:routing members:names email", _K)
_K["users"] = listing({"user": (User, _USER)}, keyed=False)
_K["groups"] = listing({"group": (Group, _GROUP)}, keyed=False)
_K["queues"] = listing({"queue": (Queue, _QUEUE)}, keyed=False)
_TOP = spec("users:users groups:groups queues:queues", _K)


@dataclass(frozen=True, slots=True)
class DirectoryFile:
    """The entries of a directory file, in file order."""

    users: tuple[User, ...] = ()
    groups: tuple[Group, ...] = ()
    queues: tuple[Queue, ...] = ()


def directory_from_text(text: str, source: str = "") -> DirectoryFile:
    """Read directory YAML or JSON text; DirectoryError lists every problem."""
    prefix = f"{source}: " if source else ""
    try:
        fmt = "json" if text.lstrip().startswith("{") else "yaml"
        data = parse(text, fmt, source)
    except DefinitionError as error:
        raise DirectoryError(str(error)) from None
    if data is None:
        data = {}
    with collecting() as problems:
        try:
            kwargs = read_fields(Node(data, "", (r[0] for r in _TOP)), DirectoryFile, _TOP)
        except DefinitionError as error:
            problems.append(str(error))
        except Noted:
            pass
        if problems:
            lines = [f"{prefix}{p}" for p in problems]
            head = f"{prefix}{len(problems)} problems:" if len(problems) > 1 else None
            raise DirectoryError("\n  ".join([head, *lines]) if head else lines[0])
    return DirectoryFile(**kwargs)


def load_directory(path: str | os.PathLike[str]) -> DirectoryFile:
    """Read a directory file (YAML or JSON)."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as error:
        raise DirectoryError(
            f"{source}: cannot read the directory file ({error.strerror})"
        ) from None
    except UnicodeDecodeError:
        raise DirectoryError(f"{source}: expected UTF-8 text") from None
    return directory_from_text(text, str(source))


def save_directory(entries: DirectoryFile, path: str | os.PathLike[str]) -> Path:
    """Write a directory file that `load_directory` reads back equal."""
    target = Path(path)
    data = write_fields(entries, _TOP, "", native=True)
    target.write_text(yaml_dump(data) if data else "{}\n", encoding="utf-8")
    return target
