"""What the apps and the engine service agree on: the calls (`Backend`) and how screens travel.

Light on purpose: an app's kernel imports this, never the engine or DuckDB.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any, Protocol

from orchlab.definition.model import Field, Screen

__all__ = ["INBOX_SORTS", "Backend", "screen_from_dict", "screen_to_dict"]


# How an inbox can be sorted (the Work Guide's column headings).
INBOX_SORTS = ("age", "label", "orchestration", "run", "context", "assigned")


class Backend(Protocol):
    """The calls the apps make: `AppApi` in process, `ServiceClient` over HTTP."""

    def health(self) -> dict[str, Any]: ...
    def directory(self) -> dict[str, Any]: ...
    def orchestrations(self) -> list[dict[str, Any]]: ...
    def definition(self, name: str, version: int | None = None) -> dict[str, Any]: ...
    def inbox(
        self, user: str, sort: str = "age", descending: bool = True, limit: int = 100
    ) -> dict[str, Any]: ...
    def work_item(self, item_id: str, user: str) -> dict[str, Any]: ...
    def complete(
        self,
        item_id: str,
        user: str,
        values: Mapping[str, Any],
        comments: str | None = None,
        inbox: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]: ...
    def start_form(self, name: str) -> dict[str, Any]: ...
    def start_run(self, name: str, values: Mapping[str, Any], by: str) -> dict[str, Any]: ...
    def diagram(self, run_id: str) -> dict[str, Any]: ...
    def runs(self, **query: Any) -> dict[str, Any]: ...
    def open_items(self, **query: Any) -> dict[str, Any]: ...
    def run_detail(self, run_id: str) -> dict[str, Any]: ...
    def cancel_run(self, run_id: str, by: str) -> dict[str, Any]: ...
    def suspend_run(self, run_id: str, by: str) -> dict[str, Any]: ...
    def resume_run(self, run_id: str, by: str) -> dict[str, Any]: ...
    def publish_event(self, run_id: str, by: str) -> dict[str, Any]: ...
    def reassign(self, item_id: str, to: str, by: str) -> dict[str, Any]: ...
    def deploy(self, definition: Mapping[str, Any], by: str) -> dict[str, Any]: ...
    def outbox(self, work_item_id: str | None = None, limit: int = 20) -> list[dict[str, Any]]: ...


def screen_to_dict(screen: Screen) -> dict[str, Any]:
    """A screen as data (field kinds as text); `screen_from_dict` gives it back."""
    fields = []
    for f in screen.fields:
        data = asdict(f)
        data["kind"] = f.kind.value
        data["choices"] = list(f.choices)
        fields.append(data)
    return {"name": screen.name, "label": screen.label, "fields": fields}


def screen_from_dict(data: Mapping[str, Any]) -> Screen:
    fields = tuple(Field(**{**f, "choices": tuple(f.get("choices", ()))}) for f in data["fields"])
    return Screen(data["name"], fields, data.get("label", ""))
