"""Checking and typing exported records: what a row must hold to become history.

Each record's values are typed by its field's type; a record that fails is rejected whole,
with the field and what was expected, and the others go on. Picklist values are checked
against the Object Reference's lists, so a status orchlab does not know is never guessed.
Duplicate Ids keep the copy modified last (a later export of the same record).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from orchlab.salesforce.history_fields import INSTANCE, LOG, OBJECTS, STAGE, STEP, WORK_ITEM
from orchlab.salesforce.history_read import Record
from orchlab.salesforce.history_values import (
    BadValue,
    id18,
    parse_bool,
    parse_datetime,
    parse_int,
    picklist,
)

__all__ = ["Rejected", "Typed", "STATUSES", "KINDS", "type_records"]

STATUSES: dict[str, tuple[str, ...]] = {
    INSTANCE: ("Canceled", "Completed", "Error", "InProgress", "Suspended"),
    STAGE: ("Canceled", "Completed", "Discontinued", "Error", "InProgress", "Suspended"),
    STEP: (
        "Canceled",
        "Completed",
        "Discontinued",
        "Error",
        "InProgress",
        "NotStarted",
        "Suspended",
    ),
    WORK_ITEM: ("Assigned", "Completed"),
}
KINDS = (
    "StartInstance", "EndInstance", "CancelInstance", "FailInstance", "SuspendInstance",
    "ResumeInstance", "StartStage", "EndStage", "DiscontinueStage", "FailStage", "SuspendStage",
    "StartStep", "EndStep", "DiscontinueStep", "FailStep", "StartWorkItem", "EndWorkItem",
    "ReassignWorkItem", "RunRecallPath",
)  # fmt: skip
_ID = re.compile(r"[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?")


@dataclass(frozen=True, slots=True)
class Rejected:
    """A row left out: where it is, which field, what was expected."""

    file: str
    where: str
    field: str
    expected: str

    def __str__(self) -> str:
        return f"{self.file}, {self.where}: {self.field}: {self.expected}"


@dataclass(slots=True)
class Typed:
    """A record that passed: typed values by API name, and where it came from."""

    object: str
    values: dict[str, Any]
    file: str
    where: str

    def get(self, name: str) -> Any:
        return self.values.get(name)


def type_records(
    records: list[Record], local: dt.tzinfo, day_first: bool
) -> tuple[list[Typed], list[Rejected]]:
    """Type and check records of one object; duplicates of an Id keep the newest copy."""
    kept: dict[str, Typed] = {}
    loose: list[Typed] = []  # log rows without an Id (a report of run logs has none)
    rejected: list[Rejected] = []
    for record in records:
        typed, problem = _typed(record, local, day_first)
        if problem is not None:
            rejected.append(problem)
            continue
        assert typed is not None
        rid = typed.get("Id")
        if rid is None:
            loose.append(typed)
            continue
        other = kept.get(rid)
        if other is None:
            kept[rid] = typed
            continue
        newer, older = (typed, other) if _modified(typed) >= _modified(other) else (other, typed)
        kept[rid] = newer
        rejected.append(
            Rejected(
                older.file,
                older.where,
                "Id",
                f"a unique Id; {rid} is also at {newer.file}, {newer.where}, "
                "modified later (kept that one)",
            )
        )
    return [*kept.values(), *loose], rejected


def _modified(t: Typed) -> dt.datetime:
    return t.get("LastModifiedDate") or t.get("SystemModstamp") or t.get("CreatedDate")


def _typed(
    record: Record, local: dt.tzinfo, day_first: bool
) -> tuple[Typed | None, Rejected | None]:
    spec = OBJECTS[record.object]
    types = {f.name: f.type for f in (*spec.fields, *spec.relations)}
    values: dict[str, Any] = {}

    def reject(field: str, expected: str) -> tuple[None, Rejected]:
        return None, Rejected(record.file, record.where, field, expected)

    if "__error__" in record.fields:
        return reject("record", "a JSON object with the record's fields")
    for name, text in record.fields.items():
        if text is None or not text.strip():
            continue
        kind = types.get(name, "text")
        try:
            if kind == "datetime":
                values[name] = parse_datetime(text, local, day_first=day_first)
            elif kind == "int":
                values[name] = parse_int(text)
            elif kind == "bool":
                values[name] = parse_bool(text)
            elif kind == "id":
                if not _ID.fullmatch(text.strip()):
                    raise BadValue(f"{text!r}: expected a 15- or 18-character Salesforce Id")
                values[name] = id18(text.strip())
            else:
                values[name] = text
        except BadValue as exc:
            return reject(name, str(exc))
    if values.get("IsDeleted") is True:
        return reject("IsDeleted", "a record that is not deleted (deleted rows are not history)")
    if record.object == LOG:
        for name in ("OrchestrationInstanceId", "Kind", "Timestamp"):
            if name not in values and not (
                name == "OrchestrationInstanceId" and "OrchestrationInstance.Name" in values
            ):
                return reject(name, "a value (every run log row has one)")
        values["Kind"] = picklist(values["Kind"], KINDS)  # a report may show labels
        if values["Kind"] not in KINDS:
            return reject("Kind", f"{values['Kind']!r}: expected one of {', '.join(KINDS)}")
    else:
        for name in ("Id", "CreatedDate"):
            if name not in values:
                return reject(name, "a value (export the record's Id and CreatedDate)")
        status = values.get("Status")
        allowed = STATUSES[record.object]
        if status is not None:
            status = values["Status"] = picklist(status, allowed)  # a report: "In Progress"
        if status not in allowed:
            return reject("Status", f"{status!r}: expected one of {', '.join(allowed)}")
    return Typed(record.object, values, record.file, record.where), None
