"""Serve the apps as web pages: the engine service for one history, and Voilà for `widgets/`.

    python -m orchlab.ui.apps                  # what scripts/apps runs
    python -m orchlab.ui.apps --history h.duckdb --port 8866 --service-port 8765

Prints the three apps' addresses and serves until Ctrl-C, which stops both processes (the
service closes the history file cleanly). The history is the demo one, written on first start.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from orchlab.errors import ServiceError
from orchlab.service.client import ServiceClient, start_service

__all__ = ["APPS", "Apps", "WIDGETS", "app_urls", "main", "page_query", "start_apps"]

WIDGETS = Path(__file__).resolve().parents[2] / "widgets"
APPS = ("work_guide", "runs_monitor", "designer")


def page_query() -> str:
    """The page's query string, e.g. ``item=R000001-W1&user=sam`` ("" outside Voilà).

    Voilà keeps a kernel per app ready in advance (it runs the notebook before anyone asks):
    there, this waits for the page's request, so the app is built when the page is opened,
    with what it asks for, while the kernel's start and the imports are already done.
    """
    if os.environ.get("VOILA_PREHEAT") == "True":
        from voila.utils import get_query_string  # only in Voilà: it imports the whole server

        return get_query_string() or ""
    return os.environ.get("QUERY_STRING", "")


def app_urls(port: int, host: str = "127.0.0.1") -> dict[str, str]:
    """Where Voilà serves each app notebook."""
    return {name: f"http://{host}:{port}/voila/render/{name}.ipynb" for name in APPS}


@dataclass
class Apps:
    """The two running processes and where they answer."""

    service: subprocess.Popen[bytes]
    voila: subprocess.Popen[bytes]
    service_url: str
    urls: dict[str, str]
    history: Path

    def stop(self) -> None:
        """Stop Voilà (and its kernels), then the service (which closes the history file)."""
        for proc in (self.voila, self.service):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in (self.voila, self.service):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _voila() -> list[str]:
    found = Path(sys.executable).with_name("voila")
    return [str(found)] if found.exists() else [shutil.which("voila") or "voila"]


def start_apps(
    history: str | os.PathLike[str] = WIDGETS / "demo_history.duckdb",
    *,
    port: int = 8866,
    service_port: int = 8765,
    host: str = "127.0.0.1",
    notebooks: str | os.PathLike[str] = WIDGETS,
    log_dir: str | os.PathLike[str] | None = None,
    wait: float = 180.0,
) -> Apps:
    """Start the engine service (writing the demo history if missing) and Voilà; return once
    both answer. The apps' kernels find the service through ORCHLAB_APP_* variables."""
    path = Path(history).resolve()
    service_url = f"http://{host}:{service_port}"
    urls = app_urls(port, host)
    logs = Path(log_dir) if log_dir else path.parent
    logs.mkdir(parents=True, exist_ok=True)
    service = start_service(
        path,
        service_url,
        demo=True,
        work_guide_url=urls["work_guide"] + "?item={item}",
        log=logs / f"{path.name}.service.log",
    )
    client = ServiceClient(service_url)
    deadline = time.monotonic() + wait
    while True:
        try:
            found = client.health(timeout=2.0)
            break
        except ServiceError:
            if service.poll() is not None or time.monotonic() > deadline:
                log = (logs / f"{path.name}.service.log").read_text(errors="replace")[-2000:]
                raise ServiceError(f"the engine service did not start:\n{log}") from None
            time.sleep(0.3)
    client.close()
    if found.get("history") != str(path):
        service.terminate()
        raise ServiceError(
            f"port {service_port} is taken by a service for {found.get('history')}; "
            "stop it or pass --service-port"
        )
    env = {
        **os.environ,
        "ORCHLAB_APP_HISTORY": str(path),
        "ORCHLAB_APP_SERVICE": service_url,
        "ORCHLAB_APP_WORK_GUIDE": urls["work_guide"],
    }
    voila_log = (logs / "voila.log").open("ab")
    voila = subprocess.Popen(
        [*_voila(), str(Path(notebooks).resolve()), f"--port={port}", "--no-browser",
         f"--Voila.ip={host}", "--Voila.port_retries=0",
         "--VoilaConfiguration.show_tracebacks=True",
         # A kernel per app, started and with the notebook run up to page_query(), before
         # anyone opens a page: opening one then costs no kernel start.
         "--VoilaConfiguration.preheat_kernel=True"],
        stdout=voila_log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    voila_log.close()
    apps = Apps(service, voila, service_url, urls, path)
    import urllib.request

    while True:
        try:
            with urllib.request.urlopen(f"http://{host}:{port}/voila/tree", timeout=2):
                return apps
        except OSError:
            if voila.poll() is not None or time.monotonic() > deadline:
                apps.stop()
                log = (logs / "voila.log").read_text(errors="replace")[-2000:]
                raise ServiceError(f"Voilà did not start on port {port}:\n{log}") from None
            time.sleep(0.3)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="orchlab apps", description=__doc__.split("\n")[0])
    parser.add_argument("--history", default=str(WIDGETS / "demo_history.duckdb"))
    parser.add_argument("--port", type=int, default=8866, help="Voilà's port")
    parser.add_argument("--service-port", type=int, default=8765)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    print(f"Starting the engine service for {args.history} (the demo history if missing)...")
    try:
        apps = start_apps(
            args.history, port=args.port, service_port=args.service_port, host=args.host
        )
    except ServiceError as exc:
        print(f"scripts/apps: {exc}", file=sys.stderr)
        return 1
    print(f"Engine service: {apps.service_url} (owns {apps.history})")
    for name, url in apps.urls.items():
        print(f"  {name.replace('_', ' '):13s} {url}")
    print("Ctrl-C stops both.", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
    try:
        apps.voila.wait()
    except KeyboardInterrupt:
        pass
    finally:
        apps.stop()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
