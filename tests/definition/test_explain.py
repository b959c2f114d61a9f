"""`explain`: a condition block's result with every step kept, for the designer's Debug."""

from __future__ import annotations

from typing import Any

from orchlab.definition.conditions import all_of, any_of, cond, custom, evaluate, explain
from orchlab.definition.ref import Ref


class Values:
    def __init__(self, **values: Any) -> None:
        self.values = values

    def value(self, ref: Ref) -> Any:
        return self.values.get(ref.path)

    def changed(self, ref: Ref) -> bool:
        return False


def test_each_condition_with_its_values_and_the_logic_filled_in() -> None:
    block = custom(
        "1 AND NOT (2 OR 3)",
        cond("amount", ">", 1000),
        cond("region", "equals", "EU"),
        cond("vip", "equals", True),
    )
    scope = Values(amount=1500, region="US", vip=True)
    found = explain(block, scope)
    assert found.result is False is evaluate(block, scope)
    assert [(i.number, i.left, i.right, i.result) for i in found.items] == [
        (1, 1500, 1000, True),
        (2, "US", "EU", False),
        (3, True, True, True),
    ]
    assert found.trace == "1 AND NOT (2 OR 3) = true AND NOT (false OR true) = false"


def test_plain_and_or_blocks() -> None:
    scope = Values(a=1, b=2)
    assert explain(all_of(("a", "=", 1), ("b", "=", 3)), scope).trace == (
        "1 AND 2 = true AND false = false"
    )
    assert explain(any_of(("a", "=", 1), ("b", "=", 3)), scope).result is True


def test_an_error_counts_only_where_the_engine_would_reach_it() -> None:
    scope = Values(a=1, text="x")
    short = all_of(("a", "=", 2), ("text", ">", 5))  # the AND stops at the first false
    found = explain(short, scope)
    assert found.result is False
    assert found.items[1].result is None and "cannot compare" in found.items[1].error
    reached = all_of(("a", "=", 1), ("text", ">", 5))
    assert explain(reached, scope).result is None  # the engine would raise here


def test_logic_that_does_not_parse_says_where() -> None:
    found = explain(custom("1 AND (2", cond("a", "=", 1), cond("b", "=", 2)), Values(a=1, b=2))
    assert found.result is None and found.column == 8 and "expected ')'" in found.error
