"""Custom condition logic (`1 AND NOT(2 OR 3)`): tokenizer, recursive-descent parser, AST.

A small grammar of its own, case-insensitive, with errors that point at a column:

    expr   := term (OR term)*
    term   := factor (AND factor)*
    factor := NOT factor | '(' expr ')' | INTEGER

Nothing here uses eval or exec.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from orchlab.errors import ConditionError, LogicError

__all__ = [
    "And",
    "ConditionError",
    "Logic",
    "LogicError",
    "Not",
    "Num",
    "Or",
    "parse_logic",
    "render_logic",
]

MAX_LOGIC_CHARS = 1000  # Salesforce's limit for custom condition logic
_MAX_DEPTH = 100  # nesting of parentheses/NOT; keeps the recursive parser far from Python's limit


# --- custom logic: AST, tokenizer, recursive-descent parser -------------------------------------


@dataclass(frozen=True, slots=True)
class Num:
    """Condition number `index` (1-based)."""

    index: int

    def numbers(self) -> frozenset[int]:
        return frozenset((self.index,))


@dataclass(frozen=True, slots=True)
class Not:
    operand: Logic

    def numbers(self) -> frozenset[int]:
        return self.operand.numbers()


@dataclass(frozen=True, slots=True)
class And:
    """All parts hold; the empty `And()` (from logic text "and") means all conditions."""

    parts: tuple[Logic, ...]

    def numbers(self) -> frozenset[int]:
        return frozenset().union(*(p.numbers() for p in self.parts))


@dataclass(frozen=True, slots=True)
class Or:
    """Some part holds; the empty `Or()` (from logic text "or") means any condition."""

    parts: tuple[Logic, ...]

    def numbers(self) -> frozenset[int]:
        return frozenset().union(*(p.numbers() for p in self.parts))


Logic = Num | Not | And | Or
_KEYWORDS = {"and": "and", "or": "or", "not": "not"}
_DIGITS = "0123456789"


def _tokenize(text: str) -> list[tuple[str, str, int]]:
    """(kind, text, 1-based column) tokens; unknown characters become kind "?" for the parser
    to report in order, so the first problem from the left is the one reported."""
    tokens: list[tuple[str, str, int]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        start = i
        i += 1
        if ch.isspace():
            continue
        if ch in _DIGITS:
            while i < n and text[i] in _DIGITS:
                i += 1
            kind = "num"
        elif ch.isalpha() or ch == "_":
            while i < n and (text[i].isalpha() or text[i] == "_"):
                i += 1
            kind = _KEYWORDS.get(text[start:i].lower(), "?")
        else:
            kind = ch if ch in "()" else "?"
        tokens.append((kind, text[start:i], start + 1))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0
        self.depth = 0
        self.end = len(text.rstrip())  # column of the last non-space character

    def fail(self, message: str, column: int | None) -> None:
        raise LogicError(message, text=self.text, column=column)

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def unexpected(self, token: tuple[str, str, int]) -> None:
        self.fail(f"unexpected {token[1]!r} at column {token[2]}", token[2])

    def parse(self) -> Logic:
        node = self.expr()
        token = self.peek()
        if token is not None:
            if token[0] in ("?", ")"):
                self.unexpected(token)
            self.fail(f"expected AND or OR at column {token[2]}", token[2])
        return node

    def expr(self) -> Logic:
        parts = [self.term()]
        while (token := self.peek()) is not None and token[0] == "or":
            self.pos += 1
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def term(self) -> Logic:
        parts = [self.factor()]
        while (token := self.peek()) is not None and token[0] == "and":
            self.pos += 1
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def factor(self) -> Logic:
        token = self.peek()
        if token is None:
            self.fail(f"expected a condition number at column {self.end}", self.end)
        kind, word, column = token  # type: ignore[misc]  # fail() above never returns
        self.pos += 1
        if kind == "num":
            if int(word) == 0:
                self.fail(f"condition numbers start at 1 (column {column})", column)
            return Num(int(word))
        if kind not in ("not", "("):
            if kind == "?":
                self.unexpected(token)  # type: ignore[arg-type]
            self.fail(f"expected a condition number at column {column}", column)
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            self.fail(f"custom logic is nested too deeply at column {column}", column)
        if kind == "not":
            node: Logic = Not(self.factor())
        else:
            node = self.expr()
            close = self.peek()
            if close is None:
                self.fail(f"expected ')' at column {self.end}", self.end)
            elif close[0] == "?":
                self.unexpected(close)
            elif close[0] != ")":
                self.fail(f"expected ')' at column {close[2]}", close[2])
            self.pos += 1
        self.depth -= 1
        return node


def parse_logic(text: str) -> Logic:
    """Parse custom logic: ``expr := term (OR term)*``, ``term := factor (AND factor)*``,
    ``factor := NOT factor | '(' expr ')' | INTEGER``; keywords are case-insensitive.

    The whole text "and"/"or" gives the empty `And()`/`Or()`, meaning all/any conditions.

    Raises:
        LogicError: with a 1-based `column`. Errors about a token point at the token's first
            character; errors at the end of the text point at its last non-space character
            (so ``1 AND (2`` gives "expected ')' at column 8", i.e. right after the "2").
    """
    stripped = text.strip()
    if not stripped:
        raise LogicError("custom logic is empty", text=text)
    if len(stripped) > MAX_LOGIC_CHARS:
        raise LogicError(
            f"custom logic is {len(stripped)} characters long; "
            f"at most {MAX_LOGIC_CHARS} are allowed",
            text=text,
        )
    if stripped.lower() in ("and", "or"):
        return And(()) if stripped.lower() == "and" else Or(())
    return _Parser(text).parse()


def render_logic(node: Logic, name: Callable[[int], str]) -> str:
    """Logic as text with the fewest parentheses that keep its meaning."""
    if isinstance(node, Num):
        return name(node.index)
    if isinstance(node, Not):
        inner = render_logic(node.operand, name)
        return f"NOT {inner}" if inner.isdigit() else f"NOT ({inner})"
    if isinstance(node, And):
        # OR binds looser than AND: an OR inside an AND needs its parentheses.
        return " AND ".join(
            f"({render_logic(p, name)})" if isinstance(p, Or) else render_logic(p, name)
            for p in node.parts
        )
    return " OR ".join(render_logic(p, name) for p in node.parts)


# --- meaning checks ------------------------------------------------------------------------------
