"""The notebooks in a real JupyterLab, driven by a real browser (Debian's chromium + Playwright).

One JupyterLab server for the module, on a free loopback port, serving copies of the notebooks.
Each test opens a notebook, runs every cell in the browser, and checks what a person would see.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import CHROMIUM, lab_server, run_all_cells

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"

pytestmark = [
    pytest.mark.browser,
    # Skipped on a machine without chromium, but never in CI, where scripts/setup installs it.
    pytest.mark.skipif(
        CHROMIUM is None and not os.environ.get("CI"), reason="Debian's chromium is not installed"
    ),
]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("lab")
    for nb in NOTEBOOKS.glob("*.ipynb"):
        shutil.copy(nb, root / nb.name)
    with lab_server(root, tmp_path_factory.mktemp("settings")) as url:
        yield url


def _run_all(browser: object, url: str, screenshot: Path) -> object:
    page = run_all_cells(browser, url)
    page.screenshot(path=str(screenshot), full_page=False)  # type: ignore[attr-defined]
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
