"""Tests for orchlab.definition.conditions: operators, custom logic, checks and evaluation."""

from __future__ import annotations

import datetime as dt
import itertools
import operator as pyop
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchlab.definition import conditions as conditions_module
from orchlab.definition.conditions import (
    DEFAULT_MAX_CONDITIONS,
    And,
    Condition,
    ConditionError,
    Conditions,
    LogicError,
    Not,
    Num,
    Operator,
    Or,
    all_of,
    any_of,
    check,
    check_types,
    compile_conditions,
    cond,
    custom,
    describe,
    evaluate,
    parse_logic,
    parse_operator,
)
from orchlab.definition.ref import Ref
from orchlab.definition.values import ValueType


class DictScope:
    """A Scope over a dict of path -> value, with a set of changed paths."""

    def __init__(self, values: dict[str, Any], changed: set[str] | frozenset[str] = frozenset()):
        self.values = values
        self.changed_paths = changed
        self.reads: list[str] = []

    def value(self, ref: Ref) -> Any:
        self.reads.append(ref.path)
        return self.values[ref.path]  # KeyError on a typo in a test, never a silent None

    def changed(self, ref: Ref) -> bool:
        return ref.path in self.changed_paths


def holds(c: Condition | Conditions, **values: Any) -> bool:
    block = c if isinstance(c, Conditions) else all_of(c)
    return evaluate(block, DictScope(values))


# --- operators -----------------------------------------------------------------------------------

SPELLINGS = {
    Operator.EQUALS: ["equals", "EQUALS", "=", "==", " = ", "EqualTo", "equalto", "Equals"],
    Operator.NOT_EQUALS: ["not_equals", "not equals", "Not Equals", "!=", "<>", "NotEqualTo"],
    Operator.LESS_THAN: ["less_than", "less than", "<", "LessThan", "LESS_THAN"],
    Operator.LESS_OR_EQUAL: ["less_or_equal", "less or equal", "<=", "LessThanOrEqualTo"],
    Operator.GREATER_THAN: ["greater_than", "greater than", ">", "GreaterThan"],
    Operator.GREATER_OR_EQUAL: [
        "greater_or_equal",
        "greater or equal",
        ">=",
        "GreaterThanOrEqualTo",
        "Greater Or Equal",
    ],
    Operator.CONTAINS: ["contains", "Contains", "CONTAINS"],
    Operator.STARTS_WITH: ["starts_with", "starts with", "StartsWith"],
    Operator.ENDS_WITH: ["ends_with", "ends with", "EndsWith"],
    Operator.IS_NULL: ["is_null", "is null", "IsNull", "IS NULL"],
    Operator.IS_BLANK: ["is_blank", "is blank", "IsBlank"],
    Operator.IS_CHANGED: ["is_changed", "is changed", "IsChanged"],
    Operator.WAS_SET: ["was_set", "was set", "WasSet"],
}


@pytest.mark.parametrize(
    ("text", "expected"), [(t, op) for op, texts in SPELLINGS.items() for t in texts]
)
def test_parse_operator_spellings(text: str, expected: Operator) -> None:
    assert parse_operator(text) is expected


def test_parse_operator_passes_enum_through() -> None:
    for op in Operator:
        assert parse_operator(op) is op


@pytest.mark.parametrize("text", ["like", "", "=>", "equals to", "=<", "not"])
def test_parse_operator_unknown(text: str) -> None:
    with pytest.raises(ConditionError) as info:
        parse_operator(text)
    message = str(info.value)
    assert f"unknown operator {text!r}" in message
    for op in Operator:  # lists what is accepted
        assert op.value in message
    assert info.value.text == text and info.value.column is None


# --- Condition / Conditions ----------------------------------------------------------------------


def test_condition_coerces_left_and_operator() -> None:
    c = Condition("$Record.Severity", "equals", "High")  # type: ignore[arg-type]
    assert c.left == Ref("$Record.Severity")
    assert c.operator is Operator.EQUALS
    assert c.right == "High"  # a text right side stays a literal
    assert cond("{!$Record.Severity}", "=", "High") == c
    assert cond("A.b", ">", Ref("B.c")).right == Ref("B.c")


def test_condition_rejects_bad_parts() -> None:
    with pytest.raises(ConditionError, match="unknown operator"):
        cond("A.b", "like", 1)
    with pytest.raises(ConditionError, match="left side"):
        Condition(5, Operator.EQUALS, 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        cond("", "equals", 1)


def test_conditions_normalise() -> None:
    items = [cond("A.x", "equals", 1)]
    block = Conditions(items, " AND ")  # type: ignore[arg-type]
    assert block.items == (items[0],) and isinstance(block.items, tuple)
    assert block.logic == "and" and not block.is_custom
    assert Conditions((), "Or").logic == "or"
    custom_block = Conditions((), "  1 and NOT 2 ")
    assert custom_block.logic == "1 and NOT 2" and custom_block.is_custom
    # counts are not validated on construction (check() reports them)
    assert len(Conditions(tuple(cond(f"A.f{i}", "is_null") for i in range(30))).items) == 30


def test_block_helpers_accept_tuples() -> None:
    a = all_of(("A.x", "equals", 1), ("A.y", "is_null"), cond("A.z", "<", 3))
    assert a.logic == "and"
    assert a.items[0] == cond("A.x", "equals", 1)
    assert a.items[1] == Condition(Ref("A.y"), Operator.IS_NULL, None)
    assert any_of(("A.x", "=", 1)).logic == "or"
    c = custom("1 OR 2", ("A.x", "=", 1), ("A.y", "=", 2))
    assert c.logic == "1 OR 2" and c.is_custom and len(c.items) == 2


# --- custom logic parsing ------------------------------------------------------------------------

N1, N2, N3, N4 = Num(1), Num(2), Num(3), Num(4)


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("1", N1),
        ("(1)", N1),
        ("  7 ", Num(7)),
        ("1 AND 2", And((N1, N2))),
        ("1 and not 2", And((N1, Not(N2)))),
        ("NOT(2 OR 3)", Not(Or((N2, N3)))),
        ("1 AND NOT(2 OR 3)", And((N1, Not(Or((N2, N3)))))),
        ("(1 AND 2) OR 3", Or((And((N1, N2)), N3))),
        ("1 AND (2 OR (3 AND NOT 4))", And((N1, Or((N2, And((N3, Not(N4)))))))),
        ("1 OR 2 AND 3", Or((N1, And((N2, N3))))),
        ("1 AND 2 OR 3", Or((And((N1, N2)), N3))),
        ("1 or 2 or 3", Or((N1, N2, N3))),
        ("not not 1", Not(Not(N1))),
        ("1\tAnD\n2", And((N1, N2))),
        ("(1)AND(2)", And((N1, N2))),
        ("01 OR 10", Or((N1, Num(10)))),
    ],
)
def test_parse_logic_valid(text: str, tree: Any) -> None:
    assert parse_logic(text) == tree


def test_precedence_and_binds_tighter_than_or() -> None:
    assert parse_logic("1 OR 2 AND 3") == parse_logic("1 OR (2 AND 3)")
    assert parse_logic("1 OR 2 AND 3") != parse_logic("(1 OR 2) AND 3")


def test_whole_text_and_or() -> None:
    assert parse_logic("AND") == And(())
    assert parse_logic(" or ") == Or(())


def test_numbers() -> None:
    assert parse_logic("1 AND (2 OR (3 AND NOT 4)) OR 2").numbers() == {1, 2, 3, 4}
    assert parse_logic("5").numbers() == {5}


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("1 AND (2", "expected ')' at column 8", 8),
        ("1 AND (2 OR 3   ", "expected ')' at column 13", 13),
        ("(1 2)", "expected ')' at column 4", 4),
        ("1 AND X", "unexpected 'X' at column 7", 7),
        ("1 AND 2 X", "unexpected 'X' at column 9", 9),
        ("1 & 2", "unexpected '&' at column 3", 3),
        ("1 AND 2.5", "unexpected '.' at column 8", 8),
        ("(1 AND 2) )", "unexpected ')' at column 11", 11),
        ("", "custom logic is empty", None),
        ("   ", "custom logic is empty", None),
        ("1 2", "expected AND or OR at column 3", 3),
        ("1 (2)", "expected AND or OR at column 3", 3),
        ("1 AND", "expected a condition number at column 5", 5),
        ("NOT", "expected a condition number at column 3", 3),
        ("1 OR )", "expected a condition number at column 6", 6),
        ("1 AND AND 2", "expected a condition number at column 7", 7),
        ("()", "expected a condition number at column 2", 2),
        ("0", "condition numbers start at 1 (column 1)", 1),
        ("1 AND 00", "condition numbers start at 1 (column 7)", 7),
    ],
)
def test_parse_logic_errors(text: str, message: str, column: int | None) -> None:
    with pytest.raises(LogicError) as info:
        parse_logic(text)
    assert str(info.value) == message
    assert info.value.column == column
    assert info.value.text == text
    assert isinstance(info.value, ConditionError) and isinstance(info.value, ValueError)


def test_logic_length_limit() -> None:
    ok = "1 OR " * 199 + "1    "  # exactly 1000 characters
    assert len(ok) == 1000
    parse_logic(ok)
    too_long = "1 OR " * 200 + "1"
    with pytest.raises(LogicError, match="1001 characters long; at most 1000 are allowed"):
        parse_logic(too_long)


def test_deep_nesting_is_a_logic_error_not_recursion_error() -> None:
    with pytest.raises(LogicError, match="nested too deeply"):
        parse_logic("(" * 400 + "1" + ")" * 400)
    with pytest.raises(LogicError, match="nested too deeply"):
        parse_logic("NOT " * 200 + "1")
    assert parse_logic("(" * 50 + "1" + ")" * 50) == N1


# --- evaluation ----------------------------------------------------------------------------------

D = dt.date(2024, 3, 1)
DT_SAME_DAY = dt.datetime(2024, 3, 1, 23, 30)


@pytest.mark.parametrize(
    ("left", "op", "right", "expected"),
    [
        ("High", "equals", "high", True),
        ("High", "equals", "Low", False),
        ("Straße", "equals", "STRASSE", True),
        (None, "equals", None, True),
        (None, "equals", "x", False),
        ("x", "equals", None, False),
        (0, "equals", None, False),
        (1, "equals", Decimal("1.0"), True),
        (0.1, "equals", Decimal("0.1"), True),
        (Decimal("0.1"), "equals", 0.1, True),
        (2, "equals", 2.0, True),
        (True, "equals", 1, False),
        (1, "equals", True, False),
        (0, "equals", False, False),
        (True, "equals", True, True),
        ("1", "equals", 1, False),
        (D, "equals", DT_SAME_DAY, True),
        (DT_SAME_DAY, "equals", D, True),
        (D, "equals", dt.date(2024, 3, 2), False),
        ("High", "not_equals", "HIGH", False),
        ("High", "not_equals", "Low", True),
        (None, "not_equals", None, False),
        (None, "not_equals", 3, True),
        (True, "not_equals", 1, True),
        (5, "greater_than", 3, True),
        (3, "greater_than", 3, False),
        (3, "greater_or_equal", 3, True),
        (Decimal("2.5"), "less_than", 3, True),
        (2.5, "less_or_equal", Decimal("2.5"), True),
        (0.1, "less_than", Decimal("0.1"), False),
        (None, "less_than", 5, False),
        (5, "greater_than", None, False),
        (None, "less_or_equal", None, False),
        ("apple", "less_than", "Banana", True),
        ("APPLE", "less_or_equal", "apple", True),
        (D, "less_than", dt.date(2024, 3, 2), True),
        (DT_SAME_DAY, "less_than", dt.date(2024, 3, 2), True),
        (DT_SAME_DAY, "greater_than", D, False),
        (DT_SAME_DAY, "greater_or_equal", D, True),
        (Decimal("NaN"), "less_than", 1, False),
        ("Hello World", "contains", "WORLD", True),
        ("Hello World", "contains", "planet", False),
        ("Hello", "starts_with", "he", True),
        ("Hello", "starts_with", "lo", False),
        ("Hello", "ends_with", "LO", True),
        ("Hello", "ends_with", "he", False),
        (None, "contains", "a", False),
        ("a", "contains", None, False),
        (None, "starts_with", None, False),
    ],
)
def test_binary_truth_table(left: Any, op: str, right: Any, expected: bool) -> None:
    assert holds(cond("A.x", op, right), **{"A.x": left}) is expected
    # the same with the right side read through a reference
    assert holds(cond("A.x", op, Ref("B.y")), **{"A.x": left, "B.y": right}) is expected


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("is_null", None, True),
        ("is_null", "", False),
        ("is_null", 0, False),
        ("is_blank", None, True),
        ("is_blank", "", True),
        ("is_blank", "  \t", True),
        ("is_blank", [], True),
        ("is_blank", ["a"], False),
        ("is_blank", "x", False),
        ("is_blank", 0, False),
        ("is_blank", False, False),
        ("was_set", None, False),
        ("was_set", "", False),
        ("was_set", "x", True),
        ("was_set", 0, True),
        ("was_set", False, True),
    ],
)
def test_unary_truth_table(op: str, value: Any, expected: bool) -> None:
    assert holds(cond("A.x", op), **{"A.x": value}) is expected
    assert holds(cond("A.x", op, True), **{"A.x": value}) is expected
    assert holds(cond("A.x", op, False), **{"A.x": value}) is (not expected)
    scope = {"A.x": value, "B.flag": False}
    assert holds(cond("A.x", op, Ref("B.flag")), **scope) is (not expected)


def test_is_changed_asks_the_scope() -> None:
    block = all_of(("A.x", "is_changed"))
    assert evaluate(block, DictScope({}, changed={"A.x"})) is True
    assert evaluate(block, DictScope({}, changed={"A.y"})) is False
    negated = all_of(("A.x", "is_changed", False))
    assert evaluate(negated, DictScope({}, changed={"A.x"})) is False


def test_unary_with_reference_needing_boolean() -> None:
    with pytest.raises(ConditionError, match=r"condition 1 .*B\.flag is text, not true or false"):
        holds(cond("A.x", "is_null", Ref("B.flag")), **{"A.x": None, "B.flag": "yes"})


def test_unary_with_bad_literal_fails_to_compile() -> None:
    with pytest.raises(ConditionError, match="is_null takes true or false, not 'yes'"):
        compile_conditions(all_of(cond("A.x", "is_null", "yes")))


@pytest.mark.parametrize(
    ("left", "op", "right", "kinds"),
    [
        (5, "less_than", "High", "number with text"),
        ("High", "greater_than", 5, "text with number"),
        (True, "less_than", False, "boolean with boolean"),
        (True, "greater_than", 1, "boolean with number"),
        (D, "less_than", 5, "date with number"),
        (5, "contains", "5", "number with text"),
        ("abc", "starts_with", 1, "text with number"),
        ({"a": 1}, "less_than", {"a": 2}, "record with record"),
        ([1], "less_than", [2], "list with list"),
        (dt.datetime(2024, 1, 1, tzinfo=dt.UTC), "less_than", dt.datetime(2024, 1, 2), "datetime"),
    ],
)
def test_run_time_type_error(left: Any, op: str, right: Any, kinds: str) -> None:
    block = all_of(("A.ok", "is_null"), cond("A.x", op, right))
    with pytest.raises(ConditionError) as info:
        evaluate(block, DictScope({"A.ok": None, "A.x": left}))
    message = str(info.value)
    assert message.startswith(f"cannot compare {kinds}")
    assert " in condition 2 (A.x " in message


def test_and_or_short_circuit() -> None:
    # Condition 2 would raise a type error if it were evaluated.
    bad = cond("A.n", "<", "text")
    scope = DictScope({"A.x": 1, "A.n": 5})
    assert evaluate(all_of(("A.x", "=", 2), bad), scope) is False
    assert evaluate(any_of(("A.x", "=", 1), bad), scope) is True
    assert evaluate(custom("1 AND 2", ("A.x", "=", 2), bad), scope) is False
    assert evaluate(all_of(("A.x", "=", 2), ("A.y", "=", 1), ("A.z", "=", 1)), scope) is False
    assert scope.reads.count("A.n") == 0
    with pytest.raises(ConditionError):
        evaluate(all_of(("A.x", "=", 1), bad), scope)


def test_empty_blocks() -> None:
    assert evaluate(all_of(), DictScope({})) is True
    assert evaluate(any_of(), DictScope({})) is False


def _flags(n: int) -> tuple[Condition, ...]:
    return tuple(cond(f"F.c{i}", "equals", True) for i in range(1, n + 1))


def _truth(node: Any, values: dict[int, bool]) -> bool:
    """Reference semantics of a logic tree, independent of the compiler."""
    if isinstance(node, Num):
        return values[node.index]
    if isinstance(node, Not):
        return not _truth(node.operand, values)
    results = [_truth(p, values) for p in node.parts]
    return all(results) if isinstance(node, And) else any(results)


def _flag_scope(values: dict[int, bool]) -> DictScope:
    return DictScope({f"F.c{i}": v for i, v in values.items()})


@pytest.mark.parametrize(
    "logic", ["1 AND NOT(2 OR 3)", "1 OR 2 AND 3", "(1 OR 2) AND NOT 3", "AND", "or", "not 1 or 3"]
)
def test_custom_logic_truth_table(logic: str) -> None:
    block = custom(logic, *_flags(3))
    tree = parse_logic(logic)
    if isinstance(tree, And | Or) and not tree.parts:
        tree = type(tree)((N1, N2, N3))
    for bits in itertools.product([False, True], repeat=3):
        values = dict(enumerate(bits, 1))
        assert evaluate(block, _flag_scope(values)) is _truth(tree, values)


def test_custom_logic_errors_at_compile_time() -> None:
    with pytest.raises(LogicError, match="names condition 4, but there are only 3 conditions"):
        compile_conditions(custom("1 AND 4", *_flags(3)))
    with pytest.raises(LogicError, match=r"expected '\)' at column 8"):
        compile_conditions(custom("1 AND (2", *_flags(2)))


def test_compiled_once_and_never_reparsed(monkeypatch: pytest.MonkeyPatch) -> None:
    block = custom("1 AND NOT 2", *_flags(2))
    fn = compile_conditions(block)
    assert compile_conditions(block) is fn

    def boom(text: str) -> Any:
        raise AssertionError("parsed again")

    monkeypatch.setattr(conditions_module, "parse_logic", boom)
    assert evaluate(block, _flag_scope({1: True, 2: False})) is True
    assert evaluate(block, _flag_scope({1: True, 2: True})) is False


def test_cache_is_keyed_by_identity_not_equality() -> None:
    # True == 1 in Python, so these two blocks compare equal, yet they mean different things.
    with_true = all_of(("A.x", "equals", True))
    with_one = all_of(("A.x", "equals", 1))
    assert with_true == with_one
    assert holds(with_true, **{"A.x": True}) is True
    assert holds(with_one, **{"A.x": True}) is False


# --- check() -------------------------------------------------------------------------------------


def test_check_clean_block() -> None:
    assert check(all_of(("A.x", "=", 1), ("A.y", "is_null"), ("A.z", "=", None))) == []
    assert check(custom("1 AND NOT 2", *_flags(2))) == []


def test_check_empty() -> None:
    assert check(all_of()) == ["has no conditions"]


def test_check_too_many() -> None:
    block = all_of(*_flags(11))
    assert DEFAULT_MAX_CONDITIONS == 10
    assert check(block) == ["has 11 conditions; at most 10 are allowed (setting max_conditions)"]
    assert check(block, max_conditions=11) == []


def test_check_custom_logic_parse_error() -> None:
    assert check(custom("1 AND (2", *_flags(2))) == ["expected ')' at column 8"]
    assert check(custom("", *_flags(1))) == ["custom logic is empty"]


def test_check_custom_logic_numbers() -> None:
    assert check(custom("1 AND 4 OR 2 OR 3", *_flags(3))) == [
        "custom logic names condition 4, but there are only 3 conditions"
    ]
    assert check(custom("1 OR 3", *_flags(3))) == ["custom logic leaves out condition 2"]
    assert check(custom("2", *_flags(1))) == [
        "custom logic names condition 2, but there is only 1 condition",
        "custom logic leaves out condition 1",
    ]


def test_check_right_sides() -> None:
    block = all_of(
        ("A.a", "is_null", "yes"),
        ("A.b", "less_than", None),
        ("A.c", "contains"),
        ("A.d", "was_set", False),
        ("A.e", "not_equals", None),
    )
    assert check(block) == [
        "condition 1 (A.a is_null 'yes'): is_null takes true or false, not 'yes'",
        "condition 2 (A.b < null): less_than needs a value on the right; "
        "only equals and not_equals compare with null",
        "condition 3 (A.c contains null): contains needs a value on the right; "
        "only equals and not_equals compare with null",
    ]


# --- check_types() -------------------------------------------------------------------------------

T = ValueType


@pytest.mark.parametrize(
    ("condition", "left", "right", "message"),
    [
        (
            cond("A.n", ">", "High"),
            T.NUMBER,
            None,
            "compares number with text ('High'); expected a number",
        ),
        (
            cond("A.n", "equals", "High"),
            T.NUMBER,
            None,
            "compares number with text ('High'); expected a number",
        ),
        (
            cond("A.n", "equals", Ref("B.t")),
            T.TEXT,
            T.NUMBER,
            "compares text with number; expected text",
        ),
        (
            cond("A.n", "equals", True),
            T.NUMBER,
            None,
            "compares number with boolean (true); expected a number",
        ),
        (
            cond("A.d", "<", Ref("B.t")),
            T.DATE,
            T.DATETIME,
            "compares date with datetime; expected a date",
        ),
        (
            cond("A.n", "contains", "x"),
            T.NUMBER,
            None,
            "contains needs text on both sides, but the left side is a number",
        ),
        (
            cond("A.t", "starts_with", 5),
            T.TEXT,
            None,
            "starts_with needs text on both sides, but the right side is a number (5)",
        ),
        (
            cond("A.b", "<", True),
            T.BOOLEAN,
            None,
            "less_than needs values that can be ordered, but the left side is a boolean",
        ),
        (
            cond("A.r", ">=", Ref("B.r")),
            T.NUMBER,
            T.RECORD,
            "greater_or_equal needs values that can be ordered, but the right side is a record",
        ),
        (
            cond("A.x", "is_null", "x"),
            None,
            None,
            "is_null needs true or false on the right, not text ('x')",
        ),
        (
            cond("A.x", "was_set", Ref("B.n")),
            T.TEXT,
            T.NUMBER,
            "was_set needs true or false on the right, not a number",
        ),
    ],
)
def test_check_types_mismatch(condition: Condition, left: Any, right: Any, message: str) -> None:
    assert check_types(condition, left, right) == message


@pytest.mark.parametrize(
    ("condition", "left", "right"),
    [
        (cond("A.n", ">", 5), T.NUMBER, None),
        (cond("A.n", ">", Decimal("5.5")), T.CURRENCY, None),
        (cond("A.n", "equals", Ref("B.c")), T.NUMBER, T.CURRENCY),
        (cond("A.n", "equals", None), T.NUMBER, None),  # comparing with null is fine
        (cond("A.n", "equals", Ref("B.x")), T.NUMBER, None),  # unknown: no problem
        (cond("A.n", "equals", Ref("B.x")), None, T.TEXT),
        (cond("A.n", "<", "x"), T.ANY, None),
        (cond("A.t", "contains", Ref("B.x")), T.TEXT, T.ANY),
        (cond("A.t", "starts_with", "a"), T.TEXT, None),
        (cond("A.d", "<=", dt.date(2024, 1, 1)), T.DATE, None),
        (cond("A.d", "<=", Ref("B.d")), T.DATETIME, T.DATETIME),
        (cond("A.x", "is_null"), T.NUMBER, None),
        (cond("A.x", "is_blank", False), T.TEXT, None),
        (cond("A.x", "was_set", Ref("B.b")), T.TEXT, T.BOOLEAN),
        (cond("A.b", "equals", False), T.BOOLEAN, None),
    ],
)
def test_check_types_ok(condition: Condition, left: Any, right: Any) -> None:
    assert check_types(condition, left, right) is None


def test_check_types_literal_wins_over_given_right_type() -> None:
    assert check_types(cond("A.n", "equals", 5), T.NUMBER, T.TEXT) is None


# --- describe() ----------------------------------------------------------------------------------


def test_describe() -> None:
    assert (
        describe(all_of(("$Record.Severity", "equals", "High"), ("Amount", ">", 1000)))
        == "$Record.Severity equals 'High' AND Amount > 1000"
    )
    assert describe(any_of(("A.x", "is_null"), ("A.y", "is_blank", False))) == (
        "A.x is null OR A.y is not blank"
    )
    assert (
        describe(
            custom("1 AND NOT(2 OR 3)", ("A.a", "=", 1), ("A.b", "!=", None), ("A.c", "=", True))
        )
        == "A.a equals 1 AND NOT (A.b does not equal null OR A.c equals true)"
    )
    assert describe(custom("1 OR 2 AND 3", *_flags(3))) == (
        "F.c1 equals true OR F.c2 equals true AND F.c3 equals true"
    )
    assert describe(custom("(1 OR 2) AND 3", *_flags(3))) == (
        "(F.c1 equals true OR F.c2 equals true) AND F.c3 equals true"
    )
    assert describe(
        all_of(("A.d", "<", dt.date(2024, 1, 2)), ("A.t", "starts_with", Ref("B.p")))
    ) == ("A.d < 2024-01-02 AND A.t starts with B.p")
    assert describe(all_of()) == "(no conditions)"
    assert describe(custom("1 AND (", *_flags(1))) == "1 AND ( (where 1: F.c1 equals true)"


# --- property-based ------------------------------------------------------------------------------

trees = st.recursive(
    st.integers(1, 5).map(Num),
    lambda children: st.one_of(
        children.map(Not),
        st.lists(children, min_size=2, max_size=3).map(lambda xs: And(tuple(xs))),
        st.lists(children, min_size=2, max_size=3).map(lambda xs: Or(tuple(xs))),
    ),
    max_leaves=10,
)


def _keyword(data: st.DataObject, word: str) -> str:
    return "".join(data.draw(st.sampled_from([ch.lower(), ch.upper()])) for ch in word)


def _gap(data: st.DataObject, required: bool) -> str:
    return data.draw(st.sampled_from([" ", "  ", "\t", "\n "] + ([] if required else [""])))


def _to_text(node: Any, data: st.DataObject) -> str:
    """Render a tree as logic text with random case, spacing and redundant parentheses."""
    if isinstance(node, Num):
        text = str(node.index)
    elif isinstance(node, Not):
        inner = _to_text(node.operand, data)
        if isinstance(node.operand, And | Or):
            inner = f"({inner})"  # NOT binds tighter than AND/OR
        text = _keyword(data, "NOT") + _gap(data, required=not inner.startswith("(")) + inner
    else:
        word = "AND" if isinstance(node, And) else "OR"
        parts = []
        for part in node.parts:
            part_text = _to_text(part, data)
            if isinstance(node, And) and isinstance(part, Or):
                part_text = f"({part_text})"  # needed: AND binds tighter than OR
            parts.append(part_text)
        text = (_gap(data, True) + _keyword(data, word) + _gap(data, True)).join(parts)
    if data.draw(st.booleans()) and data.draw(st.booleans()):
        text = f"({_gap(data, False)}{text}{_gap(data, False)})"
    return text


@settings(max_examples=150, deadline=None, database=None)
@given(tree=trees, data=st.data())
def test_property_render_parse_round_trip(tree: Any, data: st.DataObject) -> None:
    text = _gap(data, False) + _to_text(tree, data) + _gap(data, False)
    parsed = parse_logic(text)
    assert parsed.numbers() == tree.numbers()
    block = custom(text, *_flags(5))
    for bits in itertools.product([False, True], repeat=5):
        values = dict(enumerate(bits, 1))
        expected = _truth(tree, values)
        assert _truth(parsed, values) is expected
        assert evaluate(block, _flag_scope(values)) is expected


logic_soup = st.lists(
    st.sampled_from(["1", "2", "0", "12", "AND", "or", "Not", "(", ")", " ", "\t", "x", "&", "é"]),
    max_size=25,
).map("".join)


@settings(max_examples=300, deadline=None, database=None)
@given(text=st.one_of(st.text(max_size=60), logic_soup))
def test_property_parse_logic_only_raises_logic_error(text: str) -> None:
    try:
        tree = parse_logic(text)
    except LogicError as error:
        assert error.column is None or 1 <= error.column <= max(len(text), 1)
        return
    assert isinstance(tree, Num | Not | And | Or)


FIELDS = ["R.a", "R.b", "R.t"]
NUMBER_OPS = ["equals", "not_equals", "less_than", "less_or_equal", "greater_than"]
NUMBER_OPS += ["greater_or_equal", "is_null", "was_set", "is_blank"]
TEXT_OPS = ["equals", "not_equals", "contains", "starts_with", "ends_with", "is_blank"]
WORDS = ["abc", "ABC", "Abd", "b", "", " "]


@st.composite
def number_conditions(draw: st.DrawFn) -> Condition:
    op = draw(st.sampled_from(NUMBER_OPS))
    if op in ("is_null", "was_set", "is_blank"):
        return cond(
            draw(st.sampled_from(["R.a", "R.b"])), op, draw(st.sampled_from([None, True, False]))
        )
    right = draw(st.one_of(st.integers(-2, 2), st.just(Ref("R.b")), st.just(None)))
    if right is None and op not in ("equals", "not_equals"):
        right = 0
    return cond("R.a", op, right)


@st.composite
def text_conditions(draw: st.DrawFn) -> Condition:
    op = draw(st.sampled_from(TEXT_OPS))
    return cond("R.t", op, None if op == "is_blank" else draw(st.sampled_from(WORDS)))


def _reference(c: Condition, values: dict[str, Any]) -> bool:
    """Straightforward semantics for ints/None and ASCII text (where lower() == casefold())."""
    left = values[c.left.path]
    right = values[c.right.path] if isinstance(c.right, Ref) else c.right
    op = c.operator.value
    if op in ("is_null", "was_set", "is_blank"):
        result = {
            "is_null": left is None,
            "was_set": left not in (None, ""),
            "is_blank": left is None or (isinstance(left, str) and left.strip() == ""),
        }[op]
        return result if right is not False else not result
    if isinstance(left, str) and isinstance(right, str):
        left, right = left.lower(), right.lower()
    if op in ("equals", "not_equals"):
        return (left == right) is (op == "equals")
    if left is None or right is None:
        return False
    return {
        "less_than": pyop.lt,
        "less_or_equal": pyop.le,
        "greater_than": pyop.gt,
        "greater_or_equal": pyop.ge,
        "contains": lambda a, b: b in a,
        "starts_with": lambda a, b: a.startswith(b),
        "ends_with": lambda a, b: a.endswith(b),
    }[op](left, right)


def _parenthesised(node: Any, count: int) -> str:
    if isinstance(node, Num):
        return str(min(node.index, count))
    if isinstance(node, Not):
        return f"NOT ({_parenthesised(node.operand, count)})"
    word = " AND " if isinstance(node, And) else " OR "
    return "(" + word.join(_parenthesised(p, count) for p in node.parts) + ")"


@settings(max_examples=200, deadline=None, database=None)
@given(
    items=st.lists(st.one_of(number_conditions(), text_conditions()), min_size=1, max_size=5),
    logic_tree=trees,
    logic_kind=st.sampled_from(["and", "or", "custom"]),
    a=st.one_of(st.none(), st.integers(-2, 2)),
    b=st.one_of(st.none(), st.integers(-2, 2)),
    t=st.one_of(st.none(), st.sampled_from(WORDS)),
)
def test_property_compiled_block_matches_reference(
    items: list[Condition], logic_tree: Any, logic_kind: str, a: Any, b: Any, t: Any
) -> None:
    values = {"R.a": a, "R.b": b, "R.t": t}
    truths = {i: _reference(c, values) for i, c in enumerate(items, 1)}
    if logic_kind == "custom":
        # only numbers that exist: fold larger ones onto the last item, render fully parenthesised
        folded = {i: truths[min(i, len(items))] for i in range(1, 6)}
        block = custom(_parenthesised(logic_tree, len(items)), *items)
        expected = _truth(logic_tree, folded)
    else:
        block = Conditions(tuple(items), logic_kind)
        expected = all(truths.values()) if logic_kind == "and" else any(truths.values())
    assert evaluate(block, DictScope(values)) is expected
