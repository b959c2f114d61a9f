"""The core imports no UI package, and data flows one way: no package imports a higher one."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import orchlab

# Lowest first; a module may import its own package and any package before it.
LAYERS = [
    "errors",
    "limits",
    "definition",
    "people",
    "store",
    "engine",
    "analysis",
    "simulate",
    "render",
    "salesforce",
    # The engine service owns a history file for the apps; it draws runs (render) and serves
    # calls that ui sends, and imports no widget library, so it sits between the two.
    "service",
    "ui",
    "cli",
]
# Display hooks may reach up to draw themselves (graphviz's pattern: one small mixin).
DISPLAY_HOOKS = {"_repr_mimebundle_", "picture"}
ROOT = Path(orchlab.__file__).parent


def _package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "orchlab" and len(parts) > 1 else None


def _imports(path: Path) -> list[tuple[str, int, str | None]]:
    """(imported orchlab module, line, enclosing function) for every import in a file."""
    found: list[tuple[str, int, str | None]] = []

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, child.name)
                continue
            if isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                names = [child.module]
                if child.module == "orchlab":
                    names = [f"orchlab.{a.name}" for a in child.names]
                found.extend((n, child.lineno, function) for n in names)
            elif isinstance(child, ast.Import):
                found.extend((a.name, child.lineno, function) for a in child.names)
            visit(child, function)

    visit(ast.parse(path.read_text()), None)
    return found


def layer_violations() -> list[str]:
    problems = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        own = rel.parts[0].removesuffix(".py")
        if own == "__init__":
            continue  # orchlab/__init__.py re-exports the public names (lazily for heavy ones)
        assert own in LAYERS, f"orchlab/{rel}: package {own!r} has no place in LAYERS"
        for module, line, function in _imports(path):
            target = _package(module)
            if target is None or target == own or target not in LAYERS:
                continue
            if LAYERS.index(target) > LAYERS.index(own) and function not in DISPLAY_HOOKS:
                problems.append(f"orchlab/{rel}:{line} ({own}) imports {module} ({target})")
    return problems


def test_no_package_imports_a_higher_one() -> None:
    assert layer_violations() == []


def test_the_layering_check_can_fail(tmp_path: Path, monkeypatch) -> None:
    bad = tmp_path / "orchlab" / "definition"
    bad.mkdir(parents=True)
    (bad / "oops.py").write_text("def f():\n    from orchlab.engine import Engine\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path / "orchlab")
    assert layer_violations() == [
        "orchlab/definition/oops.py:2 (definition) imports orchlab.engine (engine)"
    ]


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
        "import orchlab, orchlab.engine, orchlab.store, orchlab.definition.validate, "
        "orchlab.definition.serialize, orchlab.definition.examples, orchlab.render, orchlab.cli"
    )
    for ui in ("ipywidgets", "IPython", "graphviz", "matplotlib"):
        assert ui not in loaded, f"{ui} was imported by the core"


def test_definitions_do_not_import_the_engine_or_store() -> None:
    loaded = _modules_after(
        "import orchlab, orchlab.definition.validate, orchlab.definition.serialize"
    )
    assert "orchlab.engine.engine" not in loaded and "duckdb" not in loaded
