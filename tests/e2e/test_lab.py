"""The notebooks in a real JupyterLab, driven by a real browser (Debian's chromium + Playwright).

One JupyterLab server for the module, on a free loopback port, serving copies of the notebooks.
Each test opens a notebook, runs every cell in the browser, and checks what a person would see.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium")
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"

pytestmark = [
    pytest.mark.browser,
    # Skipped on a machine without chromium, but never in CI, where scripts/setup installs it.
    pytest.mark.skipif(
        CHROMIUM is None and not os.environ.get("CI"), reason="Debian's chromium is not installed"
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("lab")
    for nb in NOTEBOOKS.glob("*.ipynb"):
        shutil.copy(nb, root / nb.name)
    settings = tmp_path_factory.mktemp("settings")
    tracker = settings / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    # Keep every cell in the DOM, so the test sees all outputs without scrolling.
    (tracker / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    news = settings / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    port, token = _free_port(), secrets.token_hex(16)
    log = (root / "lab.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1",
         f"--port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={root}", "--LabApp.news_url=None",
         f"--LabApp.workspaces_dir={settings}",
         "--LabApp.expose_app_in_browser=True", "--allow-root"],
        stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(settings)},
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail("JupyterLab did not start:\n" + (root / "lab.log").read_text())
                time.sleep(0.5)
        yield f"{base}/lab/tree/{{}}?reset&token={token}"  # reset: no restored workspace
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        yield b
        b.close()


def _run_all(browser: object, url: str, screenshot: Path) -> object:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    page.goto(url)
    page.wait_for_selector(".jp-NotebookPanel", timeout=60_000)
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget?.sessionContext?.session?.kernel"
        "?.status === 'idle'",
        timeout=60_000,
    )
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    # Done when every code cell shows an execution count and the kernel is idle again.
    page.wait_for_function(
        """() => {
            const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];
            const widget = window.jupyterapp.shell.currentWidget;
            const kernel = widget?.sessionContext?.session?.kernel;
            return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent))
                && kernel?.status === 'idle';
        }""",
        timeout=120_000,
    )
    page.screenshot(path=str(screenshot), full_page=False)
    return page


def test_design_notebook_draws_every_diagram(lab: str, browser: object, tmp_path: Path) -> None:
    page = _run_all(browser, lab.format("01_design.ipynb"), tmp_path / "design.png")
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']")  # type: ignore[attr-defined]
    assert errors.count() == 0
    svgs = page.locator(".jp-RenderedSVG img[src^='data:image/svg+xml']")  # type: ignore[attr-defined]
    assert svgs.count() >= 5  # the refund process built in the notebook and the four examples
    text = page.locator(".jp-Notebook").inner_text()  # type: ignore[attr-defined]
    assert "all valid: True" in text and "expected ')' at column 8" in text
    page.close()  # type: ignore[attr-defined]


def test_run_notebook_paints_the_run(lab: str, browser: object, tmp_path: Path) -> None:
    page = _run_all(browser, lab.format("02_run.ipynb"), tmp_path / "run.png")
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']")  # type: ignore[attr-defined]
    assert errors.count() == 0
    svgs = page.locator(".jp-RenderedSVG img[src^='data:image/svg+xml']")  # type: ignore[attr-defined]
    assert svgs.count() >= 5  # the run diagram, shown at each stage
    last = svgs.last
    last.scroll_into_view_if_needed()
    assert last.evaluate("img => img.naturalWidth") > 300  # the browser decoded and drew it
    page.screenshot(path=str(tmp_path / "diagram.png"))  # type: ignore[attr-defined]
    text = page.locator(".jp-Notebook").inner_text()  # type: ignore[attr-defined]
    assert "run R000001 took 2.04 days" in text
    assert "PermissionDenied: user 'dana' may not complete" in text
    page.close()  # type: ignore[attr-defined]
