"""The apps: the Work Guide (a person's inbox and forms), the runs monitor, the designer.

Only this package imports ipywidgets, and nothing in orchlab imports it. Each app is a
presenter (plain Python: `WorkGuidePresenter`, `MonitorPresenter`, `DesignerPresenter`)
mirrored by widgets (`WorkGuide`, `RunsMonitor`, `Designer`), over a backend: the engine
in this process (`AppApi(engine)`) or the engine service that owns a history file
(`connect(history, url)`). `widgets/*.ipynb` are the ready-to-open apps; `scripts/apps`
serves them with Voilà.
"""

from __future__ import annotations

import importlib

__all__ = [
    "AppApi",
    "Designer",
    "DesignerPresenter",
    "MonitorPresenter",
    "RunsMonitor",
    "WorkGuide",
    "WorkGuidePresenter",
    "connect",
]

_LAZY = {
    "AppApi": "orchlab.service.api",
    "connect": "orchlab.service.client",
    "WorkGuide": "orchlab.ui.views.work_guide",
    "WorkGuidePresenter": "orchlab.ui.work_guide",
    "RunsMonitor": "orchlab.ui.views.monitor",
    "MonitorPresenter": "orchlab.ui.monitor",
    "Designer": "orchlab.ui.views.designer",
    "DesignerPresenter": "orchlab.ui.designer",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'orchlab.ui' has no attribute {name!r}")
