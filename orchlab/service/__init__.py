"""The engine service: one process owns a history file; the apps talk to it over HTTP.

`AppApi` is what the apps ask of an engine (in process: tests, tours, the designer's Debug);
`python -m orchlab.service` serves it for a history file; `ServiceClient` sends the same
calls from an app, and `connect` starts the service when none is running.

Sits between `render` (it draws the runs it reports) and `ui` (which calls it): it imports
no widget library, so it runs headless beside JupyterLab or Voilà.
"""

from orchlab.service.client import ServiceClient, connect, start_service

__all__ = ["AppApi", "Backend", "ServiceClient", "connect", "start_service"]


def __getattr__(name: str) -> object:
    # The engine (and DuckDB) load only where an engine runs, not in every app's kernel.
    if name in ("AppApi", "Backend"):
        from orchlab.service import api

        return getattr(api, name)
    raise AttributeError(f"module 'orchlab.service' has no attribute {name!r}")
