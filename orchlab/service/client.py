"""The apps' side of the engine service: `ServiceClient`, and `connect`, which starts it if needed.

>>> from orchlab.service import ServiceClient
>>> ServiceClient("http://127.0.0.1:8765").url
'http://127.0.0.1:8765'
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from orchlab.errors import ServiceError
from orchlab.service import wire

__all__ = ["ServiceClient", "connect", "start_service"]

# The services this process started. They outlive it on purpose (other apps use them); the
# references only keep Python from warning that a child is still running when it forgets one.
_STARTED: list[subprocess.Popen[bytes]] = []


class ServiceClient:
    """The apps' calls (`orchlab.service.api.Backend`), sent to the engine service over HTTP.

    One kept-alive connection; a call that finds it closed (the service restarted) is sent
    once more on a new one. Errors are raised as the service raised them.
    """

    def __init__(self, url: str, timeout: float = 60.0) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ServiceError(f"service URL {url!r}: expected http://host:port")
        self.url = url.rstrip("/")
        self.host, self.port = parts.hostname, parts.port or 80
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()

    def _request(self, method: str, path: str, body: bytes | None, timeout: float) -> Any:
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
            conn = self._conn
            conn.timeout = timeout
            if conn.sock is not None:
                conn.sock.settimeout(timeout)
            try:
                conn.request(method, path, body, {"Content-Type": "application/json"})
                response = conn.getresponse()
                data = response.read()
            except (ConnectionError, http.client.HTTPException, OSError) as exc:
                conn.close()
                self._conn = None
                # A kept-alive connection the server has closed fails at once: try a fresh one.
                if attempt == 1 and isinstance(
                    exc, ConnectionResetError | BrokenPipeError | http.client.RemoteDisconnected
                ):
                    continue
                raise ServiceError(
                    f"the engine service at {self.url} is not answering ({exc}); "
                    "start it with scripts/apps, or python -m orchlab.service --history FILE"
                ) from None
            reply = wire.decode(data) or {}
            if "error" in reply:
                raise wire.error_from_dict(reply["error"])
            return reply.get("result")
        raise AssertionError("unreachable")  # pragma: no cover

    def call(self, call: str, /, **args: Any) -> Any:
        """Send one call (a `Backend` method's name and its keyword arguments)."""
        with self._lock:
            return self._request("POST", f"/api/{call}", wire.encode(args), self.timeout)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __del__(self) -> None:  # an app dropped without close(): no dangling socket
        self.close()

    # --- the Backend calls (see orchlab.service.api.AppApi for what each returns) ---------------

    def health(self, timeout: float | None = None) -> dict[str, Any]:
        with self._lock:
            return self._request("GET", "/health", None, timeout or self.timeout)  # type: ignore[no-any-return]

    def directory(self) -> dict[str, Any]:
        return self.call("directory")  # type: ignore[no-any-return]

    def orchestrations(self) -> list[dict[str, Any]]:
        return self.call("orchestrations")  # type: ignore[no-any-return]

    def definition(self, name: str, version: int | None = None) -> dict[str, Any]:
        return self.call("definition", name=name, version=version)  # type: ignore[no-any-return]

    def inbox(
        self, user: str, sort: str = "age", descending: bool = True, limit: int = 100
    ) -> dict[str, Any]:
        return self.call("inbox", user=user, sort=sort, descending=descending, limit=limit)  # type: ignore[no-any-return]

    def work_item(self, item_id: str, user: str) -> dict[str, Any]:
        return self.call("work_item", item_id=item_id, user=user)  # type: ignore[no-any-return]

    def complete(
        self,
        item_id: str,
        user: str,
        values: Mapping[str, Any],
        comments: str | None = None,
        inbox: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        return self.call(  # type: ignore[no-any-return]
            "complete",
            item_id=item_id,
            user=user,
            values=dict(values),
            comments=comments,
            inbox=dict(inbox) if inbox is not None else None,
        )

    def start_form(self, name: str) -> dict[str, Any]:
        return self.call("start_form", name=name)  # type: ignore[no-any-return]

    def start_run(self, name: str, values: Mapping[str, Any], by: str) -> dict[str, Any]:
        return self.call("start_run", name=name, values=dict(values), by=by)  # type: ignore[no-any-return]

    def diagram(self, run_id: str) -> dict[str, Any]:
        return self.call("diagram", run_id=run_id)  # type: ignore[no-any-return]

    def runs(self, **query: Any) -> dict[str, Any]:
        return self.call("runs", **query)  # type: ignore[no-any-return]

    def open_items(self, **query: Any) -> dict[str, Any]:
        return self.call("open_items", **query)  # type: ignore[no-any-return]

    def run_detail(self, run_id: str) -> dict[str, Any]:
        return self.call("run_detail", run_id=run_id)  # type: ignore[no-any-return]

    def cancel_run(self, run_id: str, by: str) -> dict[str, Any]:
        return self.call("cancel_run", run_id=run_id, by=by)  # type: ignore[no-any-return]

    def suspend_run(self, run_id: str, by: str) -> dict[str, Any]:
        return self.call("suspend_run", run_id=run_id, by=by)  # type: ignore[no-any-return]

    def resume_run(self, run_id: str, by: str) -> dict[str, Any]:
        return self.call("resume_run", run_id=run_id, by=by)  # type: ignore[no-any-return]

    def publish_event(self, run_id: str, by: str) -> dict[str, Any]:
        return self.call("publish_event", run_id=run_id, by=by)  # type: ignore[no-any-return]

    def reassign(self, item_id: str, to: str, by: str) -> dict[str, Any]:
        return self.call("reassign", item_id=item_id, to=to, by=by)  # type: ignore[no-any-return]

    def deploy(self, definition: Mapping[str, Any], by: str) -> dict[str, Any]:
        return self.call("deploy", definition=dict(definition), by=by)  # type: ignore[no-any-return]

    def outbox(self, work_item_id: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        return self.call("outbox", work_item_id=work_item_id, limit=limit)  # type: ignore[no-any-return]


def start_service(
    history: str | os.PathLike[str],
    url: str,
    *,
    demo: bool = True,
    work_guide_url: str | None = None,
    flows: Sequence[str] = (),
    log: str | os.PathLike[str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start `python -m orchlab.service` for a history in its own session (it outlives the app
    that started it, so the other apps keep working); its output goes to `log`."""
    parts = urlsplit(url)
    path = Path(history).resolve()
    command = [sys.executable, "-m", "orchlab.service", "--history", str(path)]
    command += ["--host", parts.hostname or "127.0.0.1", "--port", str(parts.port or 8765)]
    if demo:
        command.append("--demo")
    if work_guide_url:
        command += ["--work-guide-url", work_guide_url]
    for module in flows:
        command += ["--flows", module]
    log_path = Path(log) if log else path.with_name(path.name + ".service.log")
    with log_path.open("ab") as out:
        proc = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
    _STARTED.append(proc)
    return proc


def connect(
    history: str | os.PathLike[str],
    url: str = "http://127.0.0.1:8765",
    *,
    start: bool = True,
    demo: bool = True,
    work_guide_url: str | None = None,
    flows: Sequence[str] = (),
    wait: float = 120.0,
) -> ServiceClient:
    """A client of the service that owns `history`, starting that service when none answers.

    Raises:
        ServiceError: the service at `url` owns another file, or it could not be started.
    """
    client = ServiceClient(url)
    path = str(Path(history).resolve())
    try:
        found = client.health(timeout=2.0)
    except ServiceError:
        if not start:
            raise
        found = _start_and_wait(client, path, demo, work_guide_url, flows, wait)
    if found.get("history") != path:
        raise ServiceError(
            f"the engine service at {url} owns {found.get('history')!r}, not {path!r}; "
            "stop it, or give this app another service URL"
        )
    return client


def _start_and_wait(
    client: ServiceClient,
    path: str,
    demo: bool,
    work_guide_url: str | None,
    flows: Sequence[str],
    wait: float,
) -> dict[str, Any]:
    log = Path(path + ".service.log")
    proc = start_service(path, client.url, demo=demo, work_guide_url=work_guide_url, flows=flows)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            return client.health(timeout=2.0)
        except ServiceError:
            pass
        # Exited: another app's service may have taken the port first; it answers soon.
        if proc.poll() is not None and proc.returncode != 2:
            break
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
    raise ServiceError(f"the engine service for {path} did not start at {client.url}:\n{tail}")
