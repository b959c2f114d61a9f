"""A definition being typed in the designer may have empty names and labels: it still draws."""

from __future__ import annotations

import pytest

import orchlab as ol
from orchlab.render.graph import pipe, to_graph


@pytest.mark.needs_dot
def test_empty_titles_draw() -> None:
    orch = ol.orchestration(
        "X", ol.stage("A", ol.background("B", "flow", label="")), start=ol.on_record("")
    )
    assert b"<svg" in pipe(to_graph(orch), "svg")
