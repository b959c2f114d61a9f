"""Shared fixtures: a virtual clock, an engine on an in-memory or file history, the demo world."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

import orchlab.definition.examples  # noqa: F401 - registers the example flows
from orchlab.engine import Engine
from orchlab.engine.clock import VirtualClock
from orchlab.simulate.demo import deploy_examples, setup_directory
from orchlab.store import HistoryStore


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(dt.datetime(2026, 3, 2, 9, 0))


@pytest.fixture
def engine(clock: VirtualClock) -> Engine:
    """An engine with the demo directory and the four examples deployed, history in memory."""
    eng = Engine(HistoryStore(), clock=clock)
    setup_directory(eng)
    deploy_examples(eng)
    return eng


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if shutil.which("dot"):
        return
    skip = pytest.mark.skip(reason="the Graphviz 'dot' program is not installed")
    for item in items:
        if "needs_dot" in item.keywords:
            item.add_marker(skip)
