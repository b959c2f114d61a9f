"""Notification emails end with a link to the Work Guide with their item open (when configured)."""

from __future__ import annotations

from decimal import Decimal

from orchlab.engine import Engine


def _mail(engine: Engine, item_id: str) -> str:
    found = engine.store.execute("SELECT body FROM outbox WHERE work_item_id = ?", [item_id])
    return str(found[0][0])


def test_the_link_names_the_item(engine: Engine) -> None:
    inputs = {"application_id": "A-1", "applicant": "Kim", "amount": Decimal(10)}
    run = engine.start_run("Loan", inputs, by="sam")
    assert "Open it in the Work Guide" not in _mail(engine, f"{run.id}-W1")  # not configured
    engine.work_guide_url = "http://host:8866/voila/render/work_guide.ipynb?item={item}"
    engine.reassign_work_item(f"{run.id}-W1", "dana", by="olivia")  # a new email goes out
    bodies = engine.store.execute(
        "SELECT body FROM outbox WHERE work_item_id = ? ORDER BY seq", [f"{run.id}-W1"]
    )
    assert bodies[-1][0].endswith(
        f"Open it in the Work Guide: http://host:8866/voila/render/work_guide.ipynb?item={run.id}-W1"
    )
