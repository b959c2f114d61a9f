"""docs/schema.md lists exactly the columns the store has."""

from __future__ import annotations

import re
from pathlib import Path

from orchlab.store import HistoryStore
from orchlab.store.schema import PUBLIC, TABLES

DOC = (Path(__file__).resolve().parents[2] / "docs" / "schema.md").read_text()


def _documented_view_columns() -> dict[str, list[str]]:
    found = {}
    for name, cols in re.findall(r"^\| `(\w+)` \| [^|]+ \| ([^|]+) \|$", DOC, re.M):
        found[name] = [re.sub(r"\s*\(.*?\)", "", c).strip() for c in cols.split(",")]
    return found


def test_every_view_is_documented_with_its_columns() -> None:
    store = HistoryStore()
    documented = _documented_view_columns()
    for view in PUBLIC:
        actual = [row[0] for row in store.execute(f"DESCRIBE {view}")]
        assert documented[view] == actual, view


def test_every_table_and_log_column_is_named_in_the_page() -> None:
    store = HistoryStore()
    for table in TABLES:
        assert f"`{table}`" in DOC or f"### `{table}`" in DOC or table in DOC, table
    for (column,) in [(r[0],) for r in store.execute("DESCRIBE log")]:
        assert column in DOC, column
