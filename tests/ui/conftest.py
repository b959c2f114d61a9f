"""Fixtures for the apps: the engine of tests/conftest.py behind an AppApi, widgets closed after."""

from __future__ import annotations

from collections.abc import Iterator

import ipywidgets as w
import pytest

from orchlab.engine import Engine
from orchlab.service.api import AppApi


@pytest.fixture(autouse=True)
def _close_widgets() -> Iterator[None]:
    yield
    w.Widget.close_all()


@pytest.fixture
def api(engine: Engine) -> AppApi:
    """The apps' calls over an in-memory engine with the demo people and the four examples."""
    engine.work_guide_url = "http://apps.test/voila/render/work_guide.ipynb?item={item}"
    return AppApi(engine)
