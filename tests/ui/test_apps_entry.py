"""The apps' launcher: where each app is served, and what a page asks for."""

from __future__ import annotations

import pytest

from orchlab.ui.apps import APPS, WIDGETS, app_urls, page_query


def test_every_app_is_a_notebook_served_by_voila() -> None:
    assert {p.stem for p in WIDGETS.glob("*.ipynb")} == set(APPS)
    assert app_urls(8866)["work_guide"] == "http://127.0.0.1:8866/voila/render/work_guide.ipynb"


def test_page_query_is_the_pages_query_string(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOILA_PREHEAT", raising=False)
    monkeypatch.setenv("QUERY_STRING", "item=R000001-W1&user=sam")
    assert page_query() == "item=R000001-W1&user=sam"
    monkeypatch.delenv("QUERY_STRING")
    assert page_query() == ""  # JupyterLab: no page, no query
