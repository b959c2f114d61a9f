"""The apps in a real browser: served by Voilà (as `scripts/apps` serves them) and opened in
JupyterLab, all on one engine service that owns one demo history.

A person acts in the Work Guide, a second person takes the next item, an email's link opens
its item, an admin cancels a run and reassigns an item in the monitor; the history file is
checked at the end. Screenshots go to build/screenshots/.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from orchlab.service import ServiceClient
from orchlab.store import HistoryStore
from orchlab.ui.apps import WIDGETS, Apps, start_apps

from .conftest import CHROMIUM, free_port, lab_server, run_all_cells, screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None and not os.environ.get("CI"), reason="Debian's chromium is not installed"
    ),
]
KERNEL = 90_000  # ms: a Voilà page starts a kernel; allow for a loaded 2-core machine
DONE: dict[str, list[str]] = {"completed_by": [], "canceled": [], "reassigned": []}


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Apps]:
    folder = tmp_path_factory.mktemp("apps")
    running = start_apps(
        folder / "demo.duckdb", port=free_port(), service_port=free_port(), log_dir=folder
    )
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def service(apps: Apps) -> Iterator[ServiceClient]:
    client = ServiceClient(apps.service_url)
    yield client
    client.close()


def open_app(browser: Browser, url: str, ready: str) -> Page:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url, timeout=KERNEL)  # Voilà answers once the page's kernel has run the notebook
    page.wait_for_selector(ready, timeout=KERNEL)
    return page


def start_loan(page: Page, applicant: str) -> str:
    """Start a Loan from the Work Guide's start panel; the new run's id."""
    page.select_option(".orchlab-start select", label="Loan")
    page.wait_for_selector(".orchlab-start .orchlab-field-application_id input")
    page.fill(".orchlab-start .orchlab-field-application_id input", "APP-77")
    page.fill(".orchlab-start .orchlab-field-applicant input", applicant)
    page.fill(".orchlab-start .orchlab-field-amount input", "20000")
    page.click(".orchlab-start button:has-text('Start run')")
    message = page.wait_for_selector(".orchlab-message-success:has-text('Started run')")
    found = re.search(r"Started run (R\d+)", message.inner_text() if message else "")
    assert found, "no run was started"
    return found.group(1)


def open_item(page: Page, item_id: str) -> None:
    row = page.locator(f".orchlab-inbox .orchlab-row:has(button[title='Open {item_id}'])")
    row.locator("button").click()
    page.wait_for_selector(f".orchlab-item:has-text('{item_id}')")


def choose(page: Page, select: str, ending: str) -> None:
    """Pick the option whose label ends with `ending` (widgets' options carry their labels)."""
    labels = page.eval_on_selector(select, "s => [...s.options].map(o => o.label)")
    found = [text for text in labels if text.replace("\xa0", " ").endswith(ending)]
    assert len(found) == 1, f"{select}: no single option ending {ending!r} in {labels}"
    (label,) = found
    page.select_option(select, label=label)


def act_as(page: Page, user: str) -> None:
    choose(page, ".orchlab-header select", f"({user})")
    page.wait_for_selector(f".orchlab-inbox:has-text('({user})')")


def two_people_push_a_loan(page: Page, first: str, applicant: str, name: str) -> str:
    """As `first`, start a loan and submit its intake form (once with a field missing); then as
    the person the approval was routed to, approve it. The run's id."""
    act_as(page, first)
    if "▲" not in page.inner_text(".orchlab-inbox button.orchlab-sort:has-text('Age')"):
        page.click(".orchlab-inbox button.orchlab-sort:has-text('Age')")
        page.wait_for_selector(".orchlab-inbox button.orchlab-sort:has-text('Age ▲')")
    run_id = start_loan(page, applicant)
    open_item(page, f"{run_id}-W1")
    page.fill(".orchlab-item .orchlab-field-income input", "52000")
    page.click(".orchlab-submit")
    # The required checkbox is empty: the engine's message, next to the field, nothing stored.
    error = page.wait_for_selector(".orchlab-field-documents_complete .orchlab-error")
    assert "All documents received must be checked" in error.inner_text()
    screenshot(page, f"{name}-missing-field")
    diagram_before = page.inner_html(".orchlab-diagram")
    page.check(".orchlab-item .orchlab-field-documents_complete input[type=checkbox]")
    page.click(".orchlab-submit")
    done = page.wait_for_selector(".orchlab-message-success:has-text('Submitted')")
    routed = re.search(r"Underwriting → (\w+)", done.inner_text())
    assert routed, done.inner_text()
    page.wait_for_function(
        "before => document.querySelector('.orchlab-diagram').innerHTML !== before",
        arg=diagram_before,
    )
    second = routed.group(1)
    act_as(page, second)
    open_item(page, f"{run_id}-W2")
    page.check(".orchlab-item .orchlab-field-approved input[type=checkbox]")
    page.fill(".orchlab-item .orchlab-field-comments textarea", "checked the income")
    page.click(".orchlab-submit")
    page.wait_for_selector(f".orchlab-message-success:has-text('Run {run_id} is Completed')")
    DONE["completed_by"] += [first, second]
    return run_id


def test_work_guide_in_voila(apps: Apps, service: ServiceClient, browser: Browser) -> None:
    page = open_app(browser, apps.urls["work_guide"] + "?user=sam", ".orchlab-inbox .orchlab-link")
    screenshot(page, "work-guide-voila-inbox")
    run_id = two_people_push_a_loan(page, "sam", "Kim", "work-guide-voila")
    screenshot(page, "work-guide-voila-done")
    timeline = service.run_detail(run_id)["timeline"]
    ended = [(r["work_item_id"], r["actor"]) for r in timeline if r["kind"] == "EndWorkItem"]
    assert ended == [(f"{run_id}-W1", "sam"), (f"{run_id}-W2", DONE["completed_by"][1])]
    assert service.run_detail(run_id)["status"] == "Completed"
    page.close()


def test_an_email_link_opens_its_item(apps: Apps, service: ServiceClient, browser: Browser) -> None:
    item = service.open_items(orchestration="Loan", limit=1)["rows"][0]
    (mail,) = service.outbox(item["id"], limit=1)
    link = mail["body"].rsplit("Open it in the Work Guide: ", 1)[1]
    assert link == f"{apps.urls['work_guide']}?item={item['id']}"
    page = open_app(browser, link, f".orchlab-item:has-text('{item['id']}')")
    assert item["label"] in page.inner_text(".orchlab-item")
    assert page.locator(".orchlab-diagram svg").count() == 1
    screenshot(page, "work-guide-voila-link")
    page.close()


def test_monitor_cancels_a_run_and_reassigns_an_item(
    apps: Apps, service: ServiceClient, browser: Browser
) -> None:
    page = open_app(browser, apps.urls["runs_monitor"], ".orchlab-runs .orchlab-row")
    pager = page.inner_text(".orchlab-runs .orchlab-muted >> nth=-1")
    choose(page, ".orchlab-filter-status select", "InProgress")
    page.wait_for_function(
        "before => [...document.querySelectorAll('.orchlab-runs .orchlab-muted')].pop()"
        ".innerText !== before",
        arg=pager,
    )
    first = page.locator(".orchlab-runs .orchlab-row .orchlab-link").first
    run_id = first.inner_text().strip()
    first.click()
    page.wait_for_selector(f".orchlab-run-detail:has-text('Run {run_id}')")
    page.wait_for_selector(".orchlab-run-detail .orchlab-timeline:has-text('Run started')")
    page.click(".orchlab-action-cancel")
    page.wait_for_selector(f".orchlab-confirm:has-text('Cancel run {run_id}?')")
    screenshot(page, "monitor-confirm-cancel")
    page.click(".orchlab-confirm-yes")
    page.wait_for_selector(f".orchlab-message-success:has-text('Run {run_id} is Canceled.')")
    assert service.run_detail(run_id)["status"] == "Canceled"
    DONE["canceled"].append(run_id)

    row = page.locator(".orchlab-items .orchlab-row .orchlab-link").first
    item_id = row.get_attribute("title")
    row.click()
    page.wait_for_selector(f".orchlab-items b:has-text('{item_id}')")
    choose(page, ".orchlab-reassign-to select", "user: dana")
    page.click(".orchlab-action-reassign")
    page.click(".orchlab-confirm-yes")
    page.wait_for_selector(f".orchlab-message-success:has-text('Reassigned {item_id} to user')")
    assert item_id in [r["id"] for r in service.inbox("dana", limit=100)["items"]]
    DONE["reassigned"].append(item_id)
    first = page.locator(".orchlab-runs .orchlab-row .orchlab-link").first
    shown = first.inner_text().strip()
    first.click()
    page.wait_for_selector(f".orchlab-run-detail:has-text('Run {shown}')")
    page.wait_for_selector(".orchlab-monitor .orchlab-diagram svg")
    screenshot(page, "monitor-voila")
    page.close()


def test_designer_in_voila(apps: Apps, browser: Browser) -> None:
    page = open_app(browser, apps.urls["designer"], ".orchlab-designer .orchlab-diagram svg")
    choose(page, ".orchlab-open select", "example: loan")
    page.wait_for_selector(".orchlab-designer select option:has-text('Funding_recovery')")
    page.wait_for_selector(".orchlab-problems:has-text('no problems')")
    choose(page, ".orchlab-designer .widget-select select", "Amount_decision")
    page.wait_for_selector(".orchlab-decision-editor .orchlab-conditions")
    screenshot(page, "designer-voila")
    page.close()


def test_work_guide_in_jupyterlab(
    apps: Apps, service: ServiceClient, browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = tmp_path_factory.mktemp("lab-apps")
    shutil.copy(WIDGETS / "work_guide.ipynb", root / "work_guide.ipynb")
    env = {  # the Lab's kernels find the same service and history as the Voilà pages
        "ORCHLAB_APP_HISTORY": str(apps.history),
        "ORCHLAB_APP_SERVICE": apps.service_url,
        "ORCHLAB_APP_WORK_GUIDE": apps.urls["work_guide"],
    }
    with lab_server(root, tmp_path_factory.mktemp("lab-settings"), env) as lab:
        page = run_all_cells(browser, lab.format("work_guide.ipynb"))
        page.wait_for_selector(".orchlab-work-guide .orchlab-inbox", timeout=KERNEL)
        run_id = two_people_push_a_loan(page, "wes", "Ngo", "work-guide-lab")
        screenshot(page, "work-guide-lab")
        assert service.run_detail(run_id)["status"] == "Completed"
        page.close()


def test_the_history_file_holds_what_the_apps_did(apps: Apps) -> None:
    apps.stop()  # the service closes the file; now anyone may open it
    with HistoryStore(apps.history, read_only=True) as store:
        completed = store.execute(
            "SELECT completed_by FROM work_items WHERE orchestration_name = 'Loan' "
            "AND status = 'Completed' AND completed_by IS NOT NULL "
            "AND completed_date > (SELECT max(timestamp) FROM log "
            "WHERE source = 'simulated') ORDER BY completed_date"
        )
        assert [c for (c,) in completed] == DONE["completed_by"]
        for run_id in DONE["canceled"]:
            found = store.execute("SELECT status FROM runs WHERE id = ?", [run_id])
            assert found == [("Canceled",)]
        for item_id in DONE["reassigned"]:
            found = store.execute("SELECT assignee_id FROM work_items WHERE id = ?", [item_id])
            assert found == [("dana",)]
