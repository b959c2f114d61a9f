"""How fast the apps feel, measured in a real browser (Debian's chromium, Playwright).

    .venv/bin/python bench/ui.py                 # the demo history and a 100k-run history
    .venv/bin/python bench/ui.py --only demo     # or --only 100k; --repeat N (default 7)

The apps are served as `scripts/apps` serves them (the engine service on a copy of the
history, Voilà on widgets/). For each history it measures, and prints the medians of:

- open: from asking for the Work Guide's page until its inbox shows, timed from Python. Voilà
  keeps a kernel per app started in advance (the notebook run up to the page's request), so
  this is the app being built and drawn, with a pause before each open for the next kernel;
- submit: from the click on Submit until the success message naming the next item and the
  refreshed diagram are on the page, timed in the page (performance.now and a DOM observer);
- filter: from choosing a status in the monitor's runs filter until the table's pager shows
  the new total, timed in the page the same way.

The 100k-run history (100,000 loans on a virtual clock: 60% completed, the rest waiting in
intake or approval) is built once with engine.batch() and kept in bench/.cache/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import orchlab.definition.examples  # noqa: E402, F401 - the flows the loans call
from orchlab import SYSTEM  # noqa: E402
from orchlab.engine import Engine  # noqa: E402
from orchlab.engine.clock import VirtualClock  # noqa: E402
from orchlab.service import ServiceClient  # noqa: E402
from orchlab.service.server import build_demo  # noqa: E402
from orchlab.simulate.demo import deploy_examples, setup_directory  # noqa: E402
from orchlab.store import HistoryStore  # noqa: E402
from orchlab.ui.apps import start_apps  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, free_port  # noqa: E402

CACHE = ROOT / "bench" / ".cache"
BIG = CACHE / "runs_100k.duckdb"

# Resolves once the success message names the next item and the diagram has changed.
SUBMIT = """
(before) => new Promise(resolve => {
  const done = () => {
    const msg = document.querySelector('.orchlab-message-success');
    const svg = document.querySelector('.orchlab-diagram');
    return msg && msg.innerText.includes('Next:') && svg && svg.innerHTML !== before;
  };
  const t0 = performance.now();
  const watch = new MutationObserver(() => {
    if (done()) { watch.disconnect(); resolve(performance.now() - t0); }
  });
  watch.observe(document.body, {subtree: true, childList: true, characterData: true});
  document.querySelector('.orchlab-submit').click();
})
"""
# Resolves once the runs table's pager no longer says what it said before the change.
FILTER = """
(status) => new Promise(resolve => {
  const pager = () =>
    [...document.querySelectorAll('.orchlab-runs .orchlab-muted')].pop().innerText;
  const before = pager();
  const select = document.querySelector('.orchlab-filter-status select');
  const option = [...select.options].find(o => o.label.replace(/\\u00a0/g, ' ') === status);
  const t0 = performance.now();
  const watch = new MutationObserver(() => {
    if (pager() !== before) { watch.disconnect(); resolve(performance.now() - t0); }
  });
  watch.observe(document.body, {subtree: true, childList: true, characterData: true});
  select.value = option.value;
  select.dispatchEvent(new Event('change', {bubbles: true}));
})
"""


def build_big(path: Path, runs: int = 100_000, seed: int = 3) -> None:
    """100,000 loans: 60% approved and funded, the rest waiting for a person."""
    rng = random.Random(seed)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    clock = VirtualClock(dt.datetime(2026, 1, 5, 9))
    engine = Engine(HistoryStore(partial), clock=clock)
    setup_directory(engine)
    deploy_examples(engine)
    started = time.perf_counter()
    for first in range(0, runs, 5000):
        with engine.batch():
            for n in range(first, min(first + 5000, runs)):
                clock.advance(seconds=30)
                run = engine.start_run(
                    "Loan",
                    {
                        "application_id": f"APP-{n}",
                        "applicant": rng.choice(["Lee", "Kim", "Ngo", "Ortiz"]),
                        "amount": Decimal(rng.choice([5_000, 20_000, 45_000])),
                    },
                    by="sam",
                )
                fate = rng.random()
                if fate < 0.25:
                    continue  # waits in intake
                engine.complete_work_item(f"{run.id}-W1", "sam", {"documents_complete": True})
                if fate < 0.4:
                    continue  # waits for an underwriter
                (item,) = [w for w in run.items.values() if w.status == "Assigned"]
                engine.complete_work_item(item.id, SYSTEM, {"approved": True})
        print(f"  {min(first + 5000, runs):,} runs ({time.perf_counter() - started:.0f} s)")
    engine.store.checkpoint()
    engine.store.close()
    partial.rename(path)


def median_ms(values: list[float]) -> str:
    low, high = min(values), max(values)
    return f"{statistics.median(values):.0f} ms (of {len(values)}: {low:.0f} to {high:.0f})"


def measure(history: Path, repeat: int, settle: float) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="orchlab-bench-"))
    copy = work / history.name
    shutil.copyfile(history, copy)  # the bench submits forms: never into the cached file
    apps = start_apps(copy, port=free_port(), service_port=free_port(), log_dir=work)
    service = ServiceClient(apps.service_url)
    results: dict[str, list[float]] = {"open": [], "submit": [], "filter": []}
    try:
        # Fresh intake items for the submits, so each one moves a run to its next item.
        runs = [
            service.start_run(
                "Loan", {"application_id": f"B-{i}", "applicant": "Kim", "amount": "20000"}, "wes"
            )["run_id"]
            for i in range(repeat)
        ]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            for _ in range(repeat):
                # Voilà keeps one kernel per app ready (started, notebook run up to the page's
                # request); give it time to have the next one ready, as between two people.
                time.sleep(settle)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                t0 = time.perf_counter()
                page.goto(apps.urls["work_guide"] + "?user=wes", timeout=180_000)
                page.wait_for_selector(".orchlab-inbox .orchlab-link", timeout=180_000)
                results["open"].append((time.perf_counter() - t0) * 1000)
                page.close()

            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(apps.urls["work_guide"] + "?user=wes", timeout=180_000)
            page.wait_for_selector(".orchlab-inbox .orchlab-link", timeout=180_000)
            page.click(".orchlab-inbox button.orchlab-sort:has-text('Age')")  # newest first
            page.wait_for_selector(".orchlab-inbox button.orchlab-sort:has-text('Age ▲')")
            for run_id in runs:
                item = f"{run_id}-W1"
                page.click(f".orchlab-inbox button[title='Open {item}']")
                page.wait_for_selector(f".orchlab-item:has-text('{item}')")
                page.check(".orchlab-item .orchlab-field-documents_complete input[type=checkbox]")
                before = page.inner_html(".orchlab-diagram")
                # The checkbox's change reaches the kernel before the click: one socket, in order.
                results["submit"].append(page.evaluate(SUBMIT, before))
            page.close()

            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(apps.urls["runs_monitor"], timeout=180_000)
            page.wait_for_selector(".orchlab-runs .orchlab-row", timeout=180_000)
            statuses = ["InProgress", "Completed", "Canceled", "Any status"]
            for i in range(repeat * 2):
                results["filter"].append(page.evaluate(FILTER, statuses[i % len(statuses)]))
            page.close()
            browser.close()
    finally:
        service.close()
        apps.stop()
        shutil.rmtree(work, ignore_errors=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=("demo", "100k"))
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument(
        "--settle", type=float, default=25.0, help="seconds between two page opens (default 25)"
    )
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    histories = {}
    if args.only in (None, "demo"):
        demo = CACHE / "demo.duckdb"
        if not demo.exists():
            build_demo(demo)
        histories["demo history (120 runs)"] = demo
    if args.only in (None, "100k"):
        if not BIG.exists():
            print(f"building {BIG} (once) ...")
            build_big(BIG)
        histories["100k runs"] = BIG
    for name, path in histories.items():
        print(f"{name}: measuring ({args.repeat} times each) ...", flush=True)
        found = measure(path, args.repeat, args.settle)
        print(f"  open Work Guide until the inbox shows   {median_ms(found['open'])}")
        print(f"  submit until next item + diagram show   {median_ms(found['submit'])}")
        print(f"  filter the monitor's runs table         {median_ms(found['filter'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
