"""Helpers for the app tests."""

from __future__ import annotations

from orchlab.engine import Engine


def history(engine: Engine, sql: str, params: list[object] | None = None) -> list[tuple]:
    """Rows of the history, read as an analyst would."""
    return engine.store.execute(sql, params or [])
