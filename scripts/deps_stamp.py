"""Print the sha256 of pyproject.toml's dependency tables: what requirements.lock was made from.

scripts/lock writes it into the lock's header; a test recomputes it, so a change to the
dependencies without a re-lock fails the test suite.
"""

import hashlib
import json
import sys
import tomllib
from pathlib import Path


def stamp(pyproject: Path) -> str:
    project = tomllib.loads(pyproject.read_text())["project"]
    tables = {
        "requires-python": project.get("requires-python"),
        "dependencies": project.get("dependencies", []),
        "optional-dependencies": project.get("optional-dependencies", {}),
    }
    return hashlib.sha256(json.dumps(tables, sort_keys=True).encode()).hexdigest()


if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1]
    print(stamp(root / "pyproject.toml"))
