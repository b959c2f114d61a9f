"""The core imports no UI package, and data flows one way."""

from __future__ import annotations

import subprocess
import sys


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(out.stdout.split())


def test_core_imports_no_ui_package() -> None:
    loaded = _modules_after(
        "import orchlab, orchlab.engine, orchlab.store, orchlab.validate, orchlab.serialize, "
        "orchlab.examples, orchlab.render, orchlab.cli"
    )
    for ui in ("ipywidgets", "IPython", "graphviz", "matplotlib"):
        assert ui not in loaded, f"{ui} was imported by the core"


def test_definitions_do_not_import_the_engine_or_store() -> None:
    loaded = _modules_after("import orchlab, orchlab.validate, orchlab.serialize")
    assert "orchlab.engine" not in loaded and "duckdb" not in loaded
