"""The engine service: one process owns the history file; apps in other processes act through it,
at the same time, and everything they do is in the file afterwards."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

import orchlab as ol
from orchlab.engine import Engine
from orchlab.service import ServiceClient, connect, wire
from orchlab.service import client as client_module
from orchlab.service.api import AppApi
from orchlab.service.server import CALLS, Service
from orchlab.simulate.demo import deploy_examples, setup_directory
from orchlab.store import HistoryStore
from orchlab.store.row import dumps, loads
from orchlab.ui.monitor import MonitorPresenter
from orchlab.ui.work_guide import WorkGuidePresenter

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def small_history(path: Path, loans: int = 0) -> None:
    """A history with the demo people, the examples, and `loans` runs waiting at intake."""
    engine = Engine(HistoryStore(path))
    setup_directory(engine)
    deploy_examples(engine)
    for i in range(loans):
        engine.start_run(
            "Loan",
            {"application_id": f"APP-{i}", "applicant": "Kim", "amount": Decimal(1000)},
            by="sam",
        )
    engine.store.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[ServiceClient, Engine]]:
    """A service in a thread of this process, over a history file."""
    path = tmp_path / "h.duckdb"
    small_history(path, loans=2)
    engine = Engine(HistoryStore(path))
    service = Service(AppApi(engine, str(path)))
    thread = threading.Thread(target=service.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    client = ServiceClient(service.url)
    try:
        yield client, engine
    finally:
        client.close()
        service.shutdown()
        service.server_close()
        thread.join()
        engine.store.close()


def test_the_wire_keeps_types_as_the_history_does() -> None:
    for value in (
        {"d": dt.date(2026, 1, 31), "t": dt.datetime(2026, 1, 31, 9, 30, 1, 5)},
        [Decimal("12.50"), Decimal("1E+3"), 1.5, 3, True, None, "text"],
        {"nested": {"a": [dt.date(2026, 2, 1)]}},
    ):
        assert wire.decode(wire.encode(value)) == loads(dumps(value))


def test_calls_and_errors_travel_as_themselves(served: tuple[ServiceClient, Engine]) -> None:
    client, _ = served
    assert "inbox" in CALLS and "item_row" not in CALLS  # only the apps' calls are served
    inbox = client.inbox("sam")
    assert [r["id"] for r in inbox["items"]] == ["R000001-W1", "R000002-W1"]
    assert isinstance(inbox["items"][0]["created"], dt.datetime)
    with pytest.raises(ol.FormInvalid) as bad:
        client.complete("R000001-W1", "sam", {"income": "lots"})
    assert bad.value.errors == {
        "documents_complete": "All documents received must be checked",
        "income": "expected a number, got 'lots'",
    }
    with pytest.raises(ol.PermissionDenied, match="may not complete"):
        client.complete("R000001-W1", "bob", {"documents_complete": True})
    with pytest.raises(ol.NotFound, match="does not exist"):
        client.work_item("R999999-W1", "sam")
    done = client.complete("R000001-W1", "sam", {"documents_complete": True, "income": "10"})
    assert done["next"][0]["label"] == "Approve loan" and "<svg" in done["diagram"]
    with pytest.raises(ol.WorkItemClosed, match="already completed by sam"):
        client.complete("R000001-W1", "wes", {"documents_complete": True})
    with pytest.raises(ol.NotFound, match="no call"):
        client.call("item_row", item=None)
    definition = client.definition("Loan")
    with pytest.raises(ol.InvalidOrchestration) as invalid:
        client.deploy({**definition, "elements": [{"stage": "A", "next": "Nowhere"}]}, "olivia")
    assert any("Nowhere" in p.message for p in invalid.value.problems)


def test_a_service_that_is_not_there_is_a_clear_error() -> None:
    client = ServiceClient(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ol.ServiceError, match="is not answering"):
        client.directory()


def _stop(pid: int) -> None:
    """Stop a service this test's connect() started, and wait for it (it is our child)."""
    os.kill(pid, signal.SIGTERM)
    (proc,) = [p for p in client_module._STARTED if p.pid == pid]
    assert proc.wait(timeout=20) == 0  # it closed the history cleanly


def test_connect_starts_the_service_once_and_checks_which_file(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    path = tmp_path / "demo.duckdb"  # missing: the service writes the demo history
    client = connect(path, url, work_guide_url="http://wg.test/?item={item}")
    pid = client.health()["pid"]
    try:
        assert client.health()["history"] == str(path.resolve())
        assert len(client.runs(limit=5)["rows"]) == 5  # the demo's three weeks of runs
        again = connect(path, url)
        assert again.health()["pid"] == pid  # the running service, not a second one
        with pytest.raises(ol.ServiceError, match="owns"):
            connect(tmp_path / "other.duckdb", url)
        with pytest.raises(ol.StoreLocked):  # and nobody else may write the file meanwhile
            HistoryStore(path)
    finally:
        _stop(pid)
    with HistoryStore(path) as store:  # closed cleanly: it opens at once
        runs = store.execute("SELECT count(*) FROM runs")[0][0]
        assert runs > 50 and store.run_count() == runs  # the demo history it wrote, whole


_MONITOR_APP = textwrap.dedent(
    """
    import sys
    from orchlab.service import ServiceClient
    from orchlab.ui.monitor import MonitorPresenter

    monitor = MonitorPresenter(ServiceClient(sys.argv[1]), "olivia")
    for run_id in sys.argv[2:]:
        monitor.select_run(run_id)
        monitor.ask("cancel")
        assert monitor.confirm(), monitor.message
    monitor.filter_items(text="APP-1")
    monitor.select_item(monitor.items["rows"][0]["id"])
    monitor.reassign_to = "dana"
    monitor.ask("reassign")
    assert monitor.confirm(), monitor.message
    print("monitor done", monitor.runs["total"])
    """
)


def test_a_work_guide_and_a_monitor_in_two_processes_act_on_one_history(tmp_path: Path) -> None:
    path = tmp_path / "shared.duckdb"
    small_history(path, loans=40)
    url = f"http://127.0.0.1:{free_port()}"
    client = connect(path, url, demo=False)
    pid = client.health()["pid"]
    try:
        # The monitor, in its own process, cancels runs 21-40 and reassigns APP-1's item ...
        cancel = [f"R{n:06d}" for n in range(21, 41)]
        monitor = subprocess.Popen(
            [sys.executable, "-c", _MONITOR_APP, url, *cancel],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        # ... while a Work Guide here completes the items of runs 3-20, as sam.
        guide = WorkGuidePresenter(client, "sam")
        done = []
        for n in range(3, 21):
            item = f"R{n:06d}-W1"
            assert guide.open(item), guide.message
            guide.set_value("documents_complete", True)
            assert guide.submit(), guide.message
            done.append(item)
        out, err = monitor.communicate(timeout=120)
        assert monitor.returncode == 0, err
        assert "monitor done 40" in out
        # Both see each other's work through the service.
        seen = MonitorPresenter(client, "olivia")
        seen.filter_runs(status="Canceled")
        assert seen.runs["total"] == 20
        assert [r["id"] for r in client.inbox("dana")["items"]] == ["R000002-W1"]
    finally:
        _stop(pid)
    with HistoryStore(path) as store:  # the file holds what both did
        statuses = dict(store.execute("SELECT status, count(*) FROM runs GROUP BY 1"))
        assert statuses == {"Canceled": 20, "InProgress": 20}
        completed = store.execute(
            "SELECT count(*) FROM work_items WHERE status = 'Completed' AND completed_by = 'sam'"
        )
        assert completed == [(len(done),)]
        actors = dict(
            store.execute(
                "SELECT kind, any_value(actor) FROM log "
                "WHERE kind IN ('CancelInstance', 'ReassignWorkItem') GROUP BY 1"
            )
        )
        assert actors == {"CancelInstance": "olivia", "ReassignWorkItem": "olivia"}
