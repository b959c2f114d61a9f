"""Damaged real files: each either loads and round-trips, or is refused with a MetadataError."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchlab.errors import MetadataError
from orchlab.salesforce import dumps, loads
from orchlab.salesforce.xml_read import XNode, parse_bytes
from orchlab.salesforce.xml_write import document
from tests.salesforce.conftest import CORPUS_FILES, FIXTURES

SOURCES = [p.read_bytes() for p in [*CORPUS_FILES, FIXTURES / "Claims_Synthetic.flow-meta.xml"]]
TEXTS = ["", " ", "x", "true", "0", "-1.5", "Completed", "EqualTo", "IsEmpty", "$Record.Id"]
TEXTS += ["a..b", "{!x}", "2024-13-45", "Queue", "Resource", "Review", "stepApproval"]
TAGS = ["name", "label", "connector", "value", "stringValue", "elementReference", "x"]


def _damage(root: XNode, rnd: random.Random) -> None:
    """Remove, repeat, rewrite or rename a few elements."""
    for _ in range(rnd.randint(1, 3)):
        pairs = [(p, c) for p in root.walk() for c in p.children]
        parent, child = rnd.choice(pairs)
        roll = rnd.random()
        if roll < 0.3:
            parent.children.remove(child)
        elif roll < 0.5:
            parent.children.insert(parent.children.index(child), child)
        elif roll < 0.8 and not child.children:
            child.text = rnd.choice(TEXTS)
        else:
            child.tag = rnd.choice([*TAGS, child.tag + "s"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SOURCES), st.randoms(use_true_random=False))
def test_a_damaged_file_loads_losslessly_or_is_refused(source: bytes, rnd: random.Random) -> None:
    root = parse_bytes(source)
    _damage(root, rnd)
    text = document(root)
    try:
        orch = loads(text, "Damaged").orchestration
    except MetadataError as error:
        assert error.path and str(error).startswith(error.path)
        return
    again = loads(dumps(orch), "Damaged").orchestration
    assert again == orch
