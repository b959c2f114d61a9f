"""requirements.lock is what scripts/setup installs: it must match pyproject.toml exactly."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)(?:\s*;\s*([^\\]+?))?\s*\\?$")


def _pins() -> dict[str, list[tuple[str, str | None]]]:
    pins: dict[str, list[tuple[str, str | None]]] = {}
    for line in LOCK.read_text().splitlines():
        m = PIN.match(line)
        if m:
            pins.setdefault(canonicalize_name(m.group(1)), []).append((m.group(2), m.group(3)))
    return pins


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        deps += extra
    return [Requirement(d) for d in deps]


def test_the_lock_was_made_from_this_pyproject() -> None:
    stamp = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "deps_stamp.py")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    header = LOCK.read_text().splitlines()[1]
    assert header == f"# pyproject-dependencies-sha256: {stamp}", (
        "pyproject.toml's dependencies changed since the lock was made: run scripts/lock"
    )


def test_every_declared_dependency_is_pinned_within_its_range() -> None:
    pins = _pins()
    for req in _declared():
        found = pins.get(canonicalize_name(req.name))
        assert found, f"{req.name} is declared in pyproject.toml but not locked"
        for version, _marker in found:
            assert req.specifier.contains(version, prereleases=True), (
                f"{req.name}=={version} in the lock is outside {req.specifier}"
            )


def test_every_pin_has_hashes_and_the_lock_names_no_index_or_path() -> None:
    text = LOCK.read_text()
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    for block in blocks:
        assert PIN.match(block.splitlines()[0]), block.splitlines()[0]
        assert "--hash=sha256:" in block, f"no hash for {block.splitlines()[0]}"
    for bad in ("http://", "https://", "file:", "--index-url", "--extra-index-url", "-e "):
        assert bad not in text, f"the lock names {bad!r}"
    assert len(blocks) == sum(len(v) for v in _pins().values())
