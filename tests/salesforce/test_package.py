"""The package stays light and says what it is."""

from __future__ import annotations

import subprocess
import sys

import orchlab.salesforce as sf


def test_importing_it_loads_no_database_or_drawing_library() -> None:
    code = "import sys, orchlab.salesforce; print(' '.join(sorted(sys.modules)))"
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert not loaded & {"duckdb", "graphviz", "pandas", "orchlab.engine.engine", "orchlab.render"}


def test_the_public_names_are_there() -> None:
    assert set(sf.__all__) <= set(dir(sf))
    assert sf.__doc__.splitlines()[0].startswith("Salesforce orchestration metadata in and out")
