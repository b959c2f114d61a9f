"""What every app's presenter uses: messages for the page, ages in words, a link's parameters.

>>> age_text(90), age_text(5400), age_text(200_000)
('1 min', '1.5 h', '2.3 d')
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs

__all__ = ["Message", "age_text", "query_params"]


@dataclass(frozen=True)
class Message:
    """What the page says after an action: kind is "info", "success", "warning" or "error"."""

    kind: str = "info"
    text: str = ""
    lines: tuple[str, ...] = ()


def age_text(seconds: float | None) -> str:
    """A short age: 45 s, 12 min, 3.5 h, 2.1 d."""
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{int(seconds)} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h".replace(".0 h", " h")
    return f"{seconds / 86400:.1f} d".replace(".0 d", " d")


def query_params(query: str | None) -> dict[str, str]:
    """`item=R000001-W1&user=sam` -> {"item": ..., "user": ...}: what a link asks the app for."""
    return {k: v[-1] for k, v in parse_qs(query or "").items() if v}
