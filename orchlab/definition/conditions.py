"""The condition language: entry/exit criteria and decision outcomes.

A `Conditions` block is a list of `Condition`s joined by "and", "or" or custom
logic text such as ``1 AND NOT(2 OR 3)``. Blocks are compiled once into nested
closures (`compile_conditions`), so the engine's hot loop never re-parses text.
Nothing here uses eval or exec.
"""

from __future__ import annotations

import datetime as dt
import operator as _pyop
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Protocol

from orchlab.definition.logic import (
    And,
    ConditionError,
    Logic,
    LogicError,
    Not,
    Num,
    Or,
    parse_logic,
    render_logic,
)
from orchlab.definition.ref import Ref, ref
from orchlab.definition.values import ORDERED_TYPES, ValueType, comparable, type_of_value

__all__ = ["DEFAULT_MAX_CONDITIONS", "And", "Condition", "ConditionError", "Conditions", "Logic"]
__all__ += ["LogicError", "Not", "Num", "Operator", "Or", "Scope", "all_of", "any_of", "check"]
__all__ += ["check_types", "compile_conditions", "cond", "custom", "describe", "evaluate"]
__all__ += ["ConditionResult", "Explanation", "explain"]
__all__ += ["parse_logic", "parse_operator"]

DEFAULT_MAX_CONDITIONS = 10


class Operator(StrEnum):
    """Comparison operators of flow conditions."""

    EQUALS = "equals"
    NOT_EQUALS = "not_equals"
    LESS_THAN = "less_than"
    LESS_OR_EQUAL = "less_or_equal"
    GREATER_THAN = "greater_than"
    GREATER_OR_EQUAL = "greater_or_equal"
    CONTAINS = "contains"
    STARTS_WITH = "starts_with"
    ENDS_WITH = "ends_with"
    IS_NULL = "is_null"
    IS_BLANK = "is_blank"
    IS_CHANGED = "is_changed"
    WAS_SET = "was_set"


_UNARY = frozenset({Operator.IS_NULL, Operator.IS_BLANK, Operator.IS_CHANGED, Operator.WAS_SET})
_TEXT_OPS = frozenset({Operator.CONTAINS, Operator.STARTS_WITH, Operator.ENDS_WITH})
_NULL_OK = frozenset({Operator.EQUALS, Operator.NOT_EQUALS})
_ORDERING = frozenset(
    {Operator.LESS_THAN, Operator.LESS_OR_EQUAL, Operator.GREATER_THAN, Operator.GREATER_OR_EQUAL}
)
_SYMBOLS = {"=": "equals", "==": "equals", "!=": "not_equals", "<>": "not_equals", "<": "less_than"}
_SYMBOLS |= {"<=": "less_or_equal", ">": "greater_than", ">=": "greater_or_equal"}
# Salesforce metadata names that do not fold onto an enum value by dropping "_" and case.
_METADATA = {"equalto": "equals", "notequalto": "not_equals"}
_METADATA |= {"lessthanorequalto": "less_or_equal", "greaterthanorequalto": "greater_or_equal"}
_SPELLINGS: dict[str, Operator] = {op.value.replace("_", ""): op for op in Operator}
_SPELLINGS |= {k: Operator(v) for k, v in (_SYMBOLS | _METADATA).items()}


def parse_operator(text: str | Operator) -> Operator:
    """Read an operator written as an enum value, in words, as a symbol or as a metadata name.

    >>> parse_operator("Greater or equal"), parse_operator("<>"), parse_operator("IsNull")
    (<Operator.GREATER_OR_EQUAL: 'greater_or_equal'>, <Operator.NOT_EQUALS: 'not_equals'>, \
<Operator.IS_NULL: 'is_null'>)
    """
    if isinstance(text, Operator):
        return text
    # Case, spaces and underscores do not matter: "Not Equals" == "not_equals" == "NotEquals".
    key = "".join(str(text).lower().split()).replace("_", "")
    try:
        return _SPELLINGS[key]
    except KeyError:
        accepted = ", ".join(op.value for op in Operator)
        raise ConditionError(
            f"unknown operator {text!r}; use one of {accepted} (or =, ==, !=, <>, <, <=, >, >=)",
            text=str(text),
        ) from None


@dataclass(frozen=True, slots=True)
class Condition:
    """`left operator right`; `right` is a literal or a `Ref` (unary operators: True/False/None)."""

    left: Ref
    operator: Operator
    right: Any = None

    def __post_init__(self) -> None:
        if isinstance(self.left, str):
            try:
                object.__setattr__(self, "left", ref(self.left))
            except ValueError as error:  # an empty or malformed reference
                raise ConditionError(f"a condition's left side: {error}") from None
        elif not isinstance(self.left, Ref):
            raise ConditionError(f"a condition's left side must be a reference, not {self.left!r}")
        if not isinstance(self.operator, Operator):
            object.__setattr__(self, "operator", parse_operator(self.operator))

    def __str__(self) -> str:
        return _describe_condition(self)


def cond(left: str | Ref, operator: str | Operator, right: Any = None) -> Condition:
    """Shorthand for `Condition(left, operator, right)`."""
    return Condition(left, operator, right)  # type: ignore[arg-type]  # coerced in __post_init__


def _as_condition(item: Any) -> Condition:
    if isinstance(item, Condition):
        return item
    if not isinstance(item, tuple | list) or len(item) not in (2, 3):
        raise ConditionError(
            f"a condition is (reference, operator) or (reference, operator, value); got "
            f"{item!r:.80}"
        )
    return Condition(*item)


@dataclass(frozen=True, slots=True)
class Conditions:
    """Conditions joined by `logic`: "and", "or" or custom text like "1 AND NOT(2 OR 3)"."""

    items: tuple[Condition, ...]
    logic: str = "and"

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", tuple(_as_condition(i) for i in self.items))
        if not isinstance(self.logic, str):
            raise ConditionError(f"condition logic must be text, not {self.logic!r}")
        logic = self.logic.strip()
        lower = logic.lower()
        object.__setattr__(self, "logic", lower if lower in ("and", "or") else logic)

    @property
    def is_custom(self) -> bool:
        """Whether `logic` is custom text rather than plain "and"/"or"."""
        return self.logic not in ("and", "or")


def all_of(*items: Condition | tuple[Any, ...]) -> Conditions:
    """All conditions must hold."""
    return Conditions(tuple(_as_condition(i) for i in items), "and")


def any_of(*items: Condition | tuple[Any, ...]) -> Conditions:
    """At least one condition must hold."""
    return Conditions(tuple(_as_condition(i) for i in items), "or")


def custom(logic: str, *items: Condition | tuple[Any, ...]) -> Conditions:
    """Conditions joined by custom logic text, numbered from 1 in the order given."""
    return Conditions(tuple(_as_condition(i) for i in items), logic)


def _show(value: Any) -> str:
    if isinstance(value, Ref):
        return value.path
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


_SHOWN = {Operator.EQUALS: "equals", Operator.NOT_EQUALS: "does not equal"}
_SHOWN |= {Operator.LESS_THAN: "<", Operator.LESS_OR_EQUAL: "<=", Operator.GREATER_THAN: ">"}
_SHOWN |= {Operator.GREATER_OR_EQUAL: ">="}
_SHOWN |= {Operator.STARTS_WITH: "starts with", Operator.ENDS_WITH: "ends with"}
_NEGATED = {Operator.IS_NULL: "is not null", Operator.IS_BLANK: "is not blank"}
_NEGATED |= {Operator.IS_CHANGED: "is not changed", Operator.WAS_SET: "was not set"}


def _describe_condition(c: Condition) -> str:
    op = c.operator
    if op in _UNARY and (c.right is None or isinstance(c.right, bool)):
        return f"{c.left} {_NEGATED[op] if c.right is False else op.value.replace('_', ' ')}"
    return f"{c.left} {_SHOWN.get(op, op.value)} {_show(c.right)}"


def describe(conditions: Conditions) -> str:
    """One line for diagrams and errors: ``$Record.Severity equals 'High' AND Amount > 1000``."""
    shown = [_describe_condition(c) for c in conditions.items]
    if not shown:
        return "(no conditions)"
    if not conditions.is_custom:
        return (" AND " if conditions.logic == "and" else " OR ").join(shown)
    try:
        tree = parse_logic(conditions.logic)
    except LogicError:
        where = "; ".join(f"{i}: {s}" for i, s in enumerate(shown, 1))
        return f"{conditions.logic} (where {where})"
    if isinstance(tree, And | Or) and not tree.parts:
        tree = type(tree)(tuple(Num(i) for i in range(1, len(shown) + 1)))
    return render_logic(tree, lambda n: shown[n - 1] if n <= len(shown) else f"<condition {n}?>")


def _names_missing(number: int, count: int) -> str:
    there = {0: "there are no conditions", 1: "there is only 1 condition"}
    return f"custom logic names condition {number}, but " + there.get(
        count, f"there are only {count} conditions"
    )


def check(conditions: Conditions, max_conditions: int = DEFAULT_MAX_CONDITIONS) -> list[str]:
    """Every problem of a block as a plain sentence (the caller adds element and field)."""
    problems: list[str] = []
    count = len(conditions.items)
    if count == 0:
        problems.append("has no conditions")
    elif count > max_conditions:
        problems.append(
            f"has {count} conditions; at most {max_conditions} are allowed (setting max_conditions)"
        )
    if conditions.is_custom:
        try:
            used = parse_logic(conditions.logic).numbers()
        except LogicError as error:
            problems.append(str(error))
        else:
            problems += [_names_missing(n, count) for n in sorted(used) if n > count]
            problems += [
                f"custom logic leaves out condition {n}"
                for n in range(1, count + 1)
                if n not in used
            ]
    for i, c in enumerate(conditions.items, 1):
        op, right = c.operator, c.right
        if op in _UNARY and not (right is None or isinstance(right, bool | Ref)):
            problems.append(f"condition {i} ({c}): {op} takes true or false, not {_show(right)}")
        elif right is None and op not in _UNARY and op not in _NULL_OK:
            problems.append(
                f"condition {i} ({c}): {op} needs a value on the right; "
                "only equals and not_equals compare with null"
            )
    return problems


_ARTICLE = {ValueType.NUMBER: "a number", ValueType.CURRENCY: "a currency value"}
_ARTICLE |= {ValueType.BOOLEAN: "a boolean", ValueType.DATE: "a date", ValueType.RECORD: "a record"}
_ARTICLE |= {ValueType.DATETIME: "a datetime", ValueType.TEXT: "text", ValueType.ANY: "any value"}


def check_types(
    condition: Condition, left_type: ValueType | None, right_type: ValueType | None
) -> str | None:
    """A sentence describing a type mismatch, or None; a None type means "unknown": no problem.

    A literal right side is typed with `type_of_value`, whatever `right_type` says.
    """
    op, right = condition.operator, condition.right
    lit = ""
    if not isinstance(right, Ref):
        right_type = type_of_value(right)
        lit = "" if right is None else f" ({_show(right)})"
    any_ = ValueType.ANY
    if op in _UNARY:
        if right_type in (None, ValueType.BOOLEAN, any_):
            return None
        return f"{op} needs true or false on the right, not {_ARTICLE[right_type]}{lit}"
    sides = (("left", left_type, ""), ("right", right_type, lit))
    if op in _TEXT_OPS:
        for side, t, shown in sides:
            if t is not None and t not in (ValueType.TEXT, any_):
                return f"{op} needs text on both sides, but the {side} side is {_ARTICLE[t]}{shown}"
        return None
    if op in _ORDERING:
        for side, t, shown in sides:
            if t is not None and t is not any_ and t not in ORDERED_TYPES:
                what = f"{_ARTICLE[t]}{shown}"
                return f"{op} needs values that can be ordered, but the {side} side is {what}"
    if left_type is None or right_type is None or comparable(left_type, right_type):
        return None
    return f"compares {left_type} with {right_type}{lit}; expected {_ARTICLE[left_type]}"


# --- evaluation ----------------------------------------------------------------------------------


class Scope(Protocol):
    """What conditions read while a run is going."""

    def value(self, ref: Ref) -> Any:
        """The current value of a reference."""
        ...

    def changed(self, ref: Ref) -> bool:
        """For is_changed: whether the value changed in this update."""
        ...


class _Clash(TypeError):
    """Two run-time values whose types cannot be compared with the operator."""


_NUMBERS = (int, float, Decimal)
_ORDERABLE = (str, int, float, Decimal, dt.date)


def _pair(a: Any, b: Any) -> tuple[Any, Any]:
    """Two non-null values brought to one comparable form; raises _Clash for unrelated types."""
    if isinstance(a, str) and isinstance(b, str):
        return a.casefold(), b.casefold()  # flow conditions compare text case-insensitively
    a_bool, b_bool = isinstance(a, bool), isinstance(b, bool)
    if a_bool or b_bool:  # bool is an int subclass, but True is no number here
        if a_bool and b_bool:
            return a, b
        raise _Clash
    if isinstance(a, _NUMBERS) and isinstance(b, _NUMBERS):
        # float vs Decimal compares exact binary values (0.1 != Decimal("0.1")); use the float's
        # shortest decimal spelling instead, which is what the user wrote.
        if isinstance(a, float) and isinstance(b, Decimal):
            return Decimal(repr(a)), b
        if isinstance(b, float) and isinstance(a, Decimal):
            return a, Decimal(repr(b))
        return a, b
    if isinstance(a, dt.date) and isinstance(b, dt.date):
        a_dt, b_dt = isinstance(a, dt.datetime), isinstance(b, dt.datetime)
        if a_dt != b_dt:  # date vs datetime: compare the date part
            return (a.date(), b) if a_dt else (a, b.date())
        return a, b
    if type(a) is type(b):
        return a, b
    raise _Clash


def _equals(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    if type(a) is str and type(b) is str:  # the common case, without building a tuple
        return a == b or a.casefold() == b.casefold()
    try:
        x, y = _pair(a, b)
    except _Clash:
        return False  # like Python's ==: values of unrelated types are simply different
    return bool(x == y)


def _ordering(compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def test(a: Any, b: Any) -> bool:
        if a is None or b is None:
            return False
        x, y = _pair(a, b)
        if isinstance(x, bool) or not isinstance(x, _ORDERABLE):
            raise _Clash
        try:
            return compare(x, y)
        except InvalidOperation:  # Decimal NaN has no order
            return False

    return test


def _text(compare: Callable[[str, str], bool]) -> Callable[[Any, Any], bool]:
    def test(a: Any, b: Any) -> bool:
        if a is None or b is None:
            return False
        if not (isinstance(a, str) and isinstance(b, str)):
            raise _Clash
        return compare(a.casefold(), b.casefold())

    return test


_BINARY: dict[Operator, Callable[[Any, Any], bool]] = {
    Operator.EQUALS: _equals,
    Operator.NOT_EQUALS: lambda a, b: not _equals(a, b),
    Operator.LESS_THAN: _ordering(_pyop.lt),
    Operator.LESS_OR_EQUAL: _ordering(_pyop.le),
    Operator.GREATER_THAN: _ordering(_pyop.gt),
    Operator.GREATER_OR_EQUAL: _ordering(_pyop.ge),
    Operator.CONTAINS: _text(lambda a, b: b in a),
    Operator.STARTS_WITH: _text(str.startswith),
    Operator.ENDS_WITH: _text(str.endswith),
}


def _is_blank(v: Any) -> bool:
    if isinstance(v, str):
        return not v.strip()
    return v is None or (isinstance(v, list | tuple) and not v)


_UNARY_TESTS: dict[Operator, Callable[[Any], bool]] = {
    Operator.IS_NULL: lambda v: v is None,
    Operator.IS_BLANK: _is_blank,
    Operator.WAS_SET: lambda v: v is not None and not (isinstance(v, str) and v == ""),
}


def _kind(value: Any) -> str:
    vtype = type_of_value(value)
    return "null" if vtype is None else type(value).__name__ if vtype is ValueType.ANY else vtype


def _compile_unary(c: Condition, label: str) -> Callable[[Scope], bool]:
    left, right = c.left, c.right
    if c.operator is Operator.IS_CHANGED:
        probe: Callable[[Scope], bool] = lambda s: bool(s.changed(left))  # noqa: E731
    else:
        test = _UNARY_TESTS[c.operator]
        probe = lambda s: test(s.value(left))  # noqa: E731
    if right is None or right is True:
        return probe
    if right is False:  # "is_null false" means "is not null"
        return lambda s: not probe(s)
    if not isinstance(right, Ref):
        raise ConditionError(f"{label}: {c.operator} takes true or false, not {_show(right)}")

    def run(scope: Scope) -> bool:
        wanted = scope.value(right)
        if wanted is not None and not isinstance(wanted, bool):
            raise ConditionError(f"{label}: {right} is {_kind(wanted)}, not true or false")
        return probe(scope) is not (wanted is False)

    return run


def _compile_one(c: Condition, number: int) -> Callable[[Scope], bool]:
    label = f"condition {number} ({c})"
    if c.operator in _UNARY:
        return _compile_unary(c, label)
    test, left, right = _BINARY[c.operator], c.left, c.right
    right_is_ref = isinstance(right, Ref)

    def run(scope: Scope) -> bool:
        a = scope.value(left)
        b = scope.value(right) if right_is_ref else right
        try:
            return test(a, b)
        except TypeError:  # _Clash, or e.g. naive vs aware datetimes
            raise ConditionError(f"cannot compare {_kind(a)} with {_kind(b)} in {label}") from None

    return run


def _join(fns: list[Callable[[Scope], bool]], every: bool) -> Callable[[Scope], bool]:
    """AND (every=True) or OR of compiled conditions; both short-circuit, as in Salesforce."""
    if len(fns) == 1:
        return fns[0]
    if len(fns) == 2:  # the most common block: skip the loop
        f, g = fns
        return (lambda s: f(s) and g(s)) if every else (lambda s: f(s) or g(s))
    items = tuple(fns)

    def run(scope: Scope) -> bool:
        for fn in items:  # compiled conditions return real bools, so `is` is safe
            if fn(scope) is not every:
                return not every
        return every

    return run


def _compile_logic(node: Logic, fns: list[Callable[[Scope], bool]]) -> Callable[[Scope], bool]:
    if isinstance(node, Num):
        return fns[node.index - 1]
    if isinstance(node, Not):
        inner = _compile_logic(node.operand, fns)
        return lambda s: not inner(s)
    parts = [_compile_logic(p, fns) for p in node.parts]
    return _join(parts, isinstance(node, And))


# Compiled closures by id(conditions); the entry keeps its object alive so an id is never reused
# while cached. Keyed by identity, not equality: Condition(x, "equals", 1) == (x, "equals", True).
_CACHE: dict[int, tuple[Conditions, Callable[[Scope], bool]]] = {}
_CACHE_LIMIT = 4096


def compile_conditions(conditions: Conditions) -> Callable[[Scope], bool]:
    """A function `scope -> bool` for the block; the logic text is parsed here, once.

    An empty block holds for "and" and not for "or" (`check` reports it anyway).

    Raises:
        ConditionError: bad right side of a unary operator.
        LogicError: custom logic that does not parse or names a condition that does not exist.
    """
    hit = _CACHE.get(id(conditions))
    if hit is not None and hit[0] is conditions:
        return hit[1]
    fns = [_compile_one(c, i) for i, c in enumerate(conditions.items, 1)]
    if not conditions.is_custom:
        compiled = _join(fns, conditions.logic == "and")
    else:
        tree = parse_logic(conditions.logic)
        if isinstance(tree, And | Or) and not tree.parts:  # logic text "AND"/"OR"
            tree = type(tree)(tuple(Num(i) for i in range(1, len(fns) + 1)))
        beyond = [n for n in sorted(tree.numbers()) if n > len(fns)]
        if beyond:
            raise LogicError(_names_missing(beyond[0], len(fns)), text=conditions.logic)
        compiled = _compile_logic(tree, fns)
    if len(_CACHE) >= _CACHE_LIMIT:
        _CACHE.clear()
    _CACHE[id(conditions)] = (conditions, compiled)
    return compiled


def evaluate(conditions: Conditions, scope: Scope) -> bool:
    """Whether the block holds in `scope` (compiled once per `Conditions` object).

    Raises:
        ConditionError: values whose types cannot be compared, e.g. a number < text.
    """
    hit = _CACHE.get(id(conditions))
    if hit is not None and hit[0] is conditions:
        return hit[1](scope)
    return compile_conditions(conditions)(scope)


# --- explaining a result (the designer's Debug) ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConditionResult:
    """One numbered condition at one moment: the values it compared and whether it held.

    `result` is None when the values could not be compared (then `error` says why).
    """

    number: int
    text: str
    left: Any
    right: Any
    result: bool | None
    error: str = ""


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a block came out as it did: each condition's result, and the logic with them filled in.

    `trace` reads like ``1 AND NOT (2 OR 3) = true AND NOT (false OR true) = false``.
    `result` is None when the engine would have raised (a comparison that cannot be made,
    or custom logic that does not parse: then `error` holds the message and `column` its place).
    """

    result: bool | None
    items: tuple[ConditionResult, ...]
    logic: str
    trace: str
    error: str = ""
    column: int | None = None


def _word(value: bool | None) -> str:
    return "error" if value is None else "true" if value else "false"


def _tree_of(conditions: Conditions) -> Logic:
    count = len(conditions.items)
    if not conditions.is_custom:
        nums = tuple(Num(i) for i in range(1, count + 1))
        return And(nums) if conditions.logic == "and" else Or(nums)
    tree = parse_logic(conditions.logic)
    if isinstance(tree, And | Or) and not tree.parts:
        tree = type(tree)(tuple(Num(i) for i in range(1, count + 1)))
    beyond = [n for n in sorted(tree.numbers()) if n > count]
    if beyond:
        raise LogicError(_names_missing(beyond[0], count), text=conditions.logic)
    return tree


def _in_order(node: Logic, results: dict[int, bool | None]) -> bool | None:
    """The block's value, short-circuiting left to right exactly as the compiled closures do,
    so an error counts only where the engine would have reached it."""
    if isinstance(node, Num):
        return results[node.index]
    if isinstance(node, Not):
        inner = _in_order(node.operand, results)
        return None if inner is None else not inner
    every = isinstance(node, And)
    for part in node.parts:
        value = _in_order(part, results)
        if value is None:
            return None
        if value is not every:
            return not every
    return every


def explain(conditions: Conditions, scope: Scope) -> Explanation:
    """Evaluate a block the way the engine does, keeping every step for people to read.

    >>> from orchlab.definition.ref import Ref
    >>> class Values:
    ...     def value(self, ref): return {"amount": 1200, "region": "EU"}[ref.path]
    ...     def changed(self, ref): return False
    >>> block = custom("1 AND NOT 2", cond("amount", ">", 1000), cond("region", "equals", "EU"))
    >>> explain(block, Values()).trace
    '1 AND NOT 2 = true AND NOT true = false'
    """
    items: list[ConditionResult] = []
    results: dict[int, bool | None] = {}
    for number, c in enumerate(conditions.items, 1):
        left = _safe_value(scope, c.left)
        right = _safe_value(scope, c.right) if isinstance(c.right, Ref) else c.right
        try:
            result: bool | None = _compile_one(c, number)(scope)
            error = ""
        except (ConditionError, KeyError, TypeError, ValueError) as exc:
            result, error = None, str(exc.args[0]) if exc.args else type(exc).__name__
        results[number] = result
        items.append(ConditionResult(number, str(c), left, right, result, error))
    shown_logic = conditions.logic.upper() if not conditions.is_custom else conditions.logic
    try:
        tree = _tree_of(conditions)
    except LogicError as exc:
        return Explanation(None, tuple(items), shown_logic, "", str(exc), exc.column)
    value = _in_order(tree, results)
    numbers = _render(tree, str)
    filled = _render(tree, lambda n: _word(results.get(n)))
    trace = (
        f"{numbers} = {filled}"
        if isinstance(tree, Num)
        else f"{numbers} = {filled} = {_word(value)}"
    )
    return Explanation(value, tuple(items), numbers, trace)


def _render(node: Logic, name: Callable[[int], str]) -> str:
    """`render_logic`, but a condition's stand-in (a number or a word) never needs parentheses."""
    if isinstance(node, Not) and isinstance(node.operand, Num):
        return f"NOT {name(node.operand.index)}"
    if isinstance(node, Not):
        return f"NOT ({_render(node.operand, name)})"
    if isinstance(node, And):
        return " AND ".join(
            f"({_render(p, name)})" if isinstance(p, Or) else _render(p, name) for p in node.parts
        )
    if isinstance(node, Or):
        return " OR ".join(_render(p, name) for p in node.parts)
    return name(node.index)


def _safe_value(scope: Scope, reference: Ref) -> Any:
    try:
        return scope.value(reference)
    except (KeyError, TypeError, ValueError) as exc:
        return f"<{exc.args[0] if exc.args else type(exc).__name__}>"
