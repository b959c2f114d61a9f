"""Salesforce orchestration metadata in and out: `.flow-meta.xml` files <-> `Orchestration`;
run-history exports in (`import_history`), and sample exports made from a simulation.

May import errors, definition, people, store, engine, analysis, simulate and render; only ui
and cli import it. Start with `load`, `save` and `load_project`:

    >>> import orchlab.salesforce as sf
    >>> from orchlab.definition.examples import loan
    >>> text = sf.dumps(loan())
    >>> sf.loads(text, "Loan").orchestration == loan()
    True
"""

from typing import Any

from orchlab.errors import HistoryImportError, MetadataError
from orchlab.salesforce.kept import api_version, kept_aside, status
from orchlab.salesforce.metadata_load import Imported, load, loads
from orchlab.salesforce.metadata_save import dumps, save
from orchlab.salesforce.people import add_assignees
from orchlab.salesforce.placeholders import (
    Placeholder,
    bind,
    placeholder_registry,
    placeholder_screens,
)
from orchlab.salesforce.project import Project, load_project
from orchlab.salesforce.reader import MetadataWarning

__all__ = [
    "HistoryImportError",
    "ImportReport",
    "Imported",
    "MetadataError",
    "MetadataWarning",
    "Placeholder",
    "Project",
    "add_assignees",
    "api_version",
    "bind",
    "dumps",
    "import_history",
    "kept_aside",
    "load",
    "load_project",
    "loads",
    "placeholder_registry",
    "placeholder_screens",
    "sample_exports",
    "save",
    "status",
]


# The history side needs the store (DuckDB, pandas): loaded on first use, so reading metadata
# stays light (tests/salesforce/test_package.py).
_LAZY = {
    "ImportReport": "orchlab.salesforce.history_import",
    "import_history": "orchlab.salesforce.history_import",
    "sample_exports": "orchlab.salesforce.history_samples",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'orchlab.salesforce' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
