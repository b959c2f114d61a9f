"""The engine service: one process owns a history file and serves the apps' calls over HTTP.

DuckDB lets one process write a file. The Work Guide, the runs monitor and the designer run
in kernels of their own (JupyterLab or Voilà start one per notebook), so none of them opens
the file: they send `AppApi` calls here, as JSON over HTTP on the loopback interface.
Calls are served one at a time (the engine is not thread-safe, and each call is a few
milliseconds), so two apps acting at once simply take turns.

    python -m orchlab.service --history widgets/demo_history.duckdb --port 8765 --demo

The service trusts its callers as the apps' "act as" picker does: it names the actor of
every change, and the engine checks that actor's rights. Bind it to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import importlib
import inspect
import os
import signal
import sys
import threading
import traceback
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from orchlab.errors import OrchlabError, ServiceError
from orchlab.service import wire
from orchlab.service.api import AppApi, Backend

__all__ = ["CALLS", "Service", "build_demo", "main"]

# The methods a client may call: exactly the apps' Backend protocol, nothing else of AppApi.
CALLS = frozenset(
    name for name, _ in inspect.getmembers(Backend, inspect.isfunction) if not name.startswith("_")
)
MAX_BODY = 4 * 1024 * 1024  # a definition or a form is far smaller


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: an app reuses one connection
    server: Service

    def do_GET(self) -> None:
        if self.path == "/health":
            self._reply(200, {"result": self.server.call("health", {})})
        else:
            self._reply(404, {"error": {"type": "NotFound", "message": f"no page {self.path}"}})

    def do_POST(self) -> None:
        name = self.path.removeprefix("/api/")
        length = int(self.headers.get("Content-Length") or 0)
        if name not in CALLS or not self.path.startswith("/api/") or length > MAX_BODY:
            self.rfile.read(min(length, MAX_BODY))
            error = {"type": "NotFound", "message": f"the service has no call {self.path!r}"}
            self._reply(404, {"error": error})
            return
        try:
            args = wire.decode(self.rfile.read(length)) or {}
            result = self.server.call(name, args)
        except OrchlabError as exc:
            data = wire.error_to_dict(exc)
            self._reply(wire.STATUS_OF_ERROR.get(data["type"], 400), {"error": data})
        except Exception as exc:  # a bug: say so to the app, keep the details in the log
            traceback.print_exc()
            self._reply(500, {"error": wire.error_to_dict(exc)})
        else:
            self._reply(200, {"result": result})

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        data = wire.encode(body)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)


class Service(ThreadingHTTPServer):
    """An HTTP server around one `AppApi`; `call` runs one call at a time."""

    daemon_threads = True

    def __init__(
        self, api: AppApi | None, host: str = "127.0.0.1", port: int = 0, verbose: bool = False
    ) -> None:
        super().__init__((host, port), _Handler)
        self.api = api  # None while the history is still being opened
        self.verbose = verbose
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def call(self, name: str, args: dict[str, Any]) -> Any:
        with self._lock:
            if self.api is None:  # pragma: no cover - requests wait until serve_forever runs
                raise ServiceError("the engine service is still opening its history")
            return getattr(self.api, name)(**args)


def build_demo(path: Path, work_guide_url: str | None = None) -> dict[str, int]:
    """Write the demo history (people, the four examples, three weeks of runs): the same as
    `orchlab demo` writes, moved to start on the Monday 08:00 three to four weeks ago, so it
    ends in the past week whatever today is."""
    from orchlab.engine.clock import VirtualClock
    from orchlab.engine.engine import Engine
    from orchlab.simulate.demo import deploy_examples, populate, setup_directory
    from orchlab.store.history import HistoryStore

    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    # Aligned as the scenario's own start is (a Monday, 08:00): started at any other time,
    # the same seed gives another history (office hours fall elsewhere), different each day.
    first = (now - dt.timedelta(days=21)).date()
    monday = first - dt.timedelta(days=first.weekday())
    clock = VirtualClock(dt.datetime.combine(monday, dt.time(8, 0)))
    partial = path.with_name(path.name + ".partial")  # never leave half a history behind
    partial.unlink(missing_ok=True)
    engine = Engine(HistoryStore(partial), clock=clock, work_guide_url=work_guide_url)
    try:
        setup_directory(engine)
        deploy_examples(engine)
        stats = populate(engine, clock)
        engine.store.checkpoint()
    finally:
        engine.store.close()
    partial.rename(path)
    return stats


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchlab.service", description=__doc__)
    parser.add_argument("--history", required=True, help="the DuckDB history file to own")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--demo", action="store_true", help="write the demo history if missing")
    parser.add_argument("--work-guide-url", help="link in emails; {item} is the work item id")
    parser.add_argument("--flows", action="append", default=[], metavar="MODULE")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)

    import orchlab.definition.examples  # noqa: F401 - registers the example flows
    from orchlab.engine.engine import Engine
    from orchlab.store.history import HistoryStore

    for module in args.flows:
        importlib.import_module(module)
    path = Path(args.history).resolve()
    try:
        # The port first: a second service started at the same time stops here, before it
        # could touch the file.
        server = Service(None, args.host, args.port, args.verbose)
    except OSError as exc:
        print(f"orchlab service: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    try:
        if args.demo and not path.exists():
            stats = build_demo(path, args.work_guide_url)
            print(f"orchlab service: wrote the demo history {path} ({stats['runs']} runs)")
        engine = Engine(HistoryStore(path), work_guide_url=args.work_guide_url)
        server.api = AppApi(engine, str(path))
        # What was loaded lives as long as the service: the cyclic collector need not walk the
        # open runs' objects (hundreds of thousands on a big history) on every full pass.
        gc.collect()
        gc.freeze()
    except OrchlabError as exc:
        print(f"orchlab service: {exc}", file=sys.stderr)
        server.server_close()
        return 1
    # SIGTERM (from `kill`, or the apps' launcher) stops as Ctrl-C does: the file is closed.
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"orchlab service: {path} on {server.url} (pid {os.getpid()})", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        engine.store.checkpoint()
        engine.store.close()
    return 0
