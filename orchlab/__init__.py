"""orchlab: design, run and analyse Salesforce-style flow orchestrations in JupyterLab.

    >>> import orchlab as ol
    >>> o = ol.orchestration("Hello", ol.stage("Greet", ol.background("Say_hi", "say_hi")))
    >>> [s.name for s in o.stages]
    ['Greet']

The core imports no UI package: diagrams load Graphviz lazily, widgets live in `orchlab.ui`.
Packages, lowest first (each imports only those before it): `errors`, `limits`, `definition`,
`people`,
`store`, `engine`, `analysis`, `simulate`, `render`, `salesforce`, `ui`, `cli`.
"""

from orchlab.definition.builder import (
    assignee_from,
    autolaunched,
    background,
    decision,
    end,
    evaluate,
    external,
    from_template,
    goto,
    group,
    interactive,
    on_record,
    orchestration,
    outcome,
    queue,
    ref,
    screen,
    stage,
    user,
    var,
)
from orchlab.definition.conditions import all_of, any_of, cond, custom
from orchlab.definition.model import Field, Notification, Orchestration
from orchlab.definition.registry import Registry, action, evaluation, flow, registry
from orchlab.definition.values import ValueType
from orchlab.engine.clock import SystemClock, VirtualClock
from orchlab.errors import (
    ConditionError,
    DefinitionError,
    DirectoryError,
    EngineError,
    FormInvalid,
    HistoryImportError,
    LogicError,
    MetadataError,
    NotFound,
    OrchlabError,
    PermissionDenied,
    RenderError,
    SchemaVersionError,
    ServiceError,
    StoreError,
    StoreLocked,
    WorkItemClosed,
)
from orchlab.people.rights import SYSTEM

__version__ = "0.1.0"

# Heavier parts load on first use, so `import orchlab` stays light (no DuckDB, no Graphviz).
_LAZY = {
    "Engine": "orchlab.engine",
    "HistoryStore": "orchlab.store",
    "open_snapshot": "orchlab.store",
    "validate": "orchlab.definition.validate",
    "InvalidOrchestration": "orchlab.definition.validate",
    "load": "orchlab.definition.serialize",
    "save": "orchlab.definition.serialize",
    "render": "orchlab.render",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'orchlab' has no attribute {name!r}")


__all__ = [  # the lazy names too, for `from orchlab import *`
    "SYSTEM",
    "Engine",
    "HistoryStore",
    "open_snapshot",
    "validate",
    "load",
    "save",
    "render",
    "InvalidOrchestration",
    "ConditionError",
    "DefinitionError",
    "DirectoryError",
    "EngineError",
    "FormInvalid",
    "LogicError",
    "MetadataError",
    "HistoryImportError",
    "NotFound",
    "OrchlabError",
    "PermissionDenied",
    "RenderError",
    "SchemaVersionError",
    "ServiceError",
    "StoreError",
    "StoreLocked",
    "WorkItemClosed",
    "Field",
    "Notification",
    "Orchestration",
    "Registry",
    "SystemClock",
    "ValueType",
    "VirtualClock",
    "__version__",
    "action",
    "all_of",
    "any_of",
    "assignee_from",
    "autolaunched",
    "background",
    "cond",
    "custom",
    "decision",
    "end",
    "evaluate",
    "evaluation",
    "external",
    "flow",
    "from_template",
    "goto",
    "group",
    "interactive",
    "on_record",
    "orchestration",
    "outcome",
    "queue",
    "ref",
    "registry",
    "screen",
    "stage",
    "user",
    "var",
]
