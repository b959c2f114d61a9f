"""Reading run-history exports: CSV (Data Loader, Bulk API, reports) and JSON (REST, sf CLI).

Each file becomes a list of `Record`s of one object, with fields under their API names (a
relationship as `Rel.Field`) and values as text or None, whatever the format. Where in the
file each record came from (line or record index) travels with it, so every rejection can
point at it. Typing the values (timestamps to UTC, numbers) is `history_values`' job.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchlab.errors import HistoryImportError
from orchlab.salesforce.history_fields import (
    INSTANCE,
    LOG,
    OBJECTS,
    STAGE,
    STEP,
    WORK_ITEM,
    ObjectSpec,
    normal,
)

__all__ = ["Record", "Export", "read_export", "detect_object"]

_MAX_BYTES = 512 * 1024 * 1024  # an export larger than this is refused, not read into memory


@dataclass(slots=True)
class Record:
    """One row: its object, API-named fields, and where it came from (`where`: 'line 7')."""

    object: str
    fields: dict[str, str | None]
    file: str
    where: str


@dataclass(slots=True)
class Export:
    """One file read: its object, format, records, and the columns it had that were unused."""

    path: str
    object: str
    format: str  # "csv", "report" or "json"
    records: list[Record] = field(default_factory=list)
    unused_columns: list[str] = field(default_factory=list)


def detect_object(path: Path, headers: list[str], type_hint: str | None = None) -> str:
    """Which object a file holds: the JSON `attributes.type`, else the file name, else the
    columns (each object has one that only it has)."""
    if type_hint in OBJECTS:
        return type_hint
    stem = normal(path.name.split(".")[0])
    # Longest names first: "Orchestration Run Logs" also contains "Orchestration Run".
    names = sorted(
        ((normal(n), spec.name) for spec in OBJECTS.values() for n in (spec.name, spec.label)),
        key=lambda pair: -len(pair[0]),
    )
    for candidate, name in names:
        if candidate in stem:
            return name
    seen = {normal(h) for h in headers}
    for name, marker in (
        ("FlowOrchestrationLog", ("kind", "milestone")),
        ("FlowOrchestrationWorkItem", ("assigneeid", "stepinstanceid", "screenflow", "assignedto")),
        ("FlowOrchestrationStepInstance", ("stageinstanceid", "steptype")),
        ("FlowOrchestrationStageInstance", ("position",)),
        ("FlowOrchestrationInstance", ("triggeringrecord", "currentstage", "interviewid")),
    ):
        if seen & set(marker):
            return name
    raise HistoryImportError(
        f"{path}: cannot tell which object it exports; expected a file named after one of "
        f"{', '.join(OBJECTS)} (or its label), or JSON records with attributes.type"
    )


def read_export(path: Path, *, object: str | None = None) -> list[Export]:
    """Read one export file (CSV or JSON, by its content) into records: of one object, and
    for JSON also those of its subqueries (a run's FlowOrchestrationStageInstances, ...)."""
    try:
        if path.stat().st_size > _MAX_BYTES:
            raise HistoryImportError(f"{path}: larger than {_MAX_BYTES >> 20} MB; split it")
        raw = path.read_bytes()
    except OSError as exc:
        raise HistoryImportError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8-sig")  # Excel and reports write a BOM; Data Loader does not
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")  # old Data Loader on Windows
    if text.lstrip()[:1] in ("{", "["):
        return _read_json(path, text, object)
    return [_read_csv(path, text, object)]


# --- CSV -----------------------------------------------------------------------------------------


def _read_csv(path: Path, text: str, object: str | None) -> Export:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        headers = next(reader)
    except StopIteration:
        raise HistoryImportError(f"{path}: empty file; expected a header row") from None
    except csv.Error as exc:
        raise HistoryImportError(f"{path}: line 1: not CSV ({exc})") from None
    if not any(h.strip() for h in headers):
        raise HistoryImportError(f"{path}: line 1: empty header row; expected column names")
    name = object or detect_object(path, headers)
    spec = OBJECTS[name]
    columns, unused, api_named = _columns(spec, headers)
    if not any(c for c in columns):
        raise HistoryImportError(
            f"{path}: none of its columns ({', '.join(headers[:6])}) is a field of {name}; "
            "expected API names (Id, Status, ...) or report labels"
        )
    export = Export(str(path), name, "csv" if api_named else "report", unused_columns=unused)
    line = 1
    try:
        for row in reader:
            start = line + 1
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                if export.format == "report":
                    break  # a report's footer (totals, "Confidential ...") follows a blank row
                continue
            fields = {
                col: (cell if cell != "" else None)  # CSV has no null: empty is null
                for col, cell in zip(columns, row, strict=False)
                if col
            }
            where = f"line {start}" if start == line else f"lines {start}-{line}"
            export.records.append(Record(name, fields, str(path), where))
    except csv.Error as exc:
        raise HistoryImportError(f"{path}: line {reader.line_num}: broken CSV ({exc})") from None
    return export


def _columns(spec: ObjectSpec, headers: list[str]) -> tuple[list[str | None], list[str], bool]:
    """Headers -> API names (None: unused), the unused headers, and whether they were API
    names (a Data Loader / Bulk export) rather than labels (a report)."""
    out: list[str | None] = []
    unused = []
    api = 0
    for h in headers:
        f = spec.field(h)
        if f is None or f.name in out:
            out.append(None)
            if h.strip():
                unused.append(h.strip())
            continue
        out.append(f.name)
        # An API name has no spaces ("CreatedDate"); a label has ("Created Date").
        api += " " not in h.strip() and normal(h) in (
            normal(f.name),
            normal(f.name.replace(".", "")),
        )
    return out, unused, api * 2 >= len([c for c in out if c])


# --- JSON ----------------------------------------------------------------------------------------


def _read_json(path: Path, text: str, object: str | None) -> list[Export]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HistoryImportError(
            f"{path}: line {exc.lineno}: not JSON ({exc.msg}); expected a REST query result"
        ) from None
    records = list(_json_records(path, data))
    hint = next(
        (r.get("attributes", {}).get("type") for _, r in records if isinstance(r, dict)), None
    )
    keys = sorted({k for _, r in records if isinstance(r, dict) for k in r})
    name = object or detect_object(path, keys, hint if isinstance(hint, str) else None)
    exports = {name: Export(str(path), name, "json")}
    for index, item in records:
        _json_record(path, name, item, f"record {index}", {}, exports)
    return list(exports.values())


# A parent's child relationship (a SOQL subquery) -> the child object and its parent field.
_CHILDREN = {
    (INSTANCE, "FlowOrchestrationStageInstances"): (STAGE, "OrchestrationInstanceId"),
    (INSTANCE, "FlowOrchestrationStepInstances"): (STEP, "OrchestrationInstanceId"),
    (INSTANCE, "FlowOrchestrationWorkItems"): (WORK_ITEM, "OrchestrationInstanceId"),
    (INSTANCE, "FlowOrchestrationLogs"): (LOG, "OrchestrationInstanceId"),
    (STAGE, "FlowOrchestrationStepInstances"): (STEP, "StageInstanceId"),
    (STEP, "FlowOrchestrationWorkItems"): (WORK_ITEM, "StepInstanceId"),
}


def _json_record(
    path: Path,
    name: str,
    item: Any,
    where: str,
    inherited: dict[str, str | None],
    exports: dict[str, Export],
) -> None:
    """One JSON record into its object's export; its subqueries' records into theirs."""
    export = exports.setdefault(name, Export(f"{path}", name, "json"))
    if not isinstance(item, dict):
        export.records.append(Record(name, {"__error__": "not an object"}, str(path), where))
        return
    spec = OBJECTS[name]
    fields: dict[str, str | None] = dict(inherited)
    children = []
    for key, value in _flatten(item):
        if isinstance(value, dict) and "records" in value:
            children.append((key, value))
            continue
        f = spec.field(key)
        if f is None and value is None and (name, key) in _CHILDREN:
            continue  # a subquery that found no children
        if f is None:
            if key not in export.unused_columns:
                export.unused_columns.append(key)
            continue
        fields.setdefault(f.name, _text(value))
    export.records.append(Record(name, fields, str(path), where))
    for key, value in children:
        child = _CHILDREN.get((name, key))
        if child is None or not isinstance(value.get("records"), list):
            if key not in export.unused_columns:
                export.unused_columns.append(key)
            continue
        obj, parent_field = child
        link = {parent_field: fields.get("Id")}
        for i, sub in enumerate(value["records"], start=1):
            _json_record(path, obj, sub, f"{where}, {key} {i}", link, exports)


def _json_records(path: Path, data: Any) -> Iterator[tuple[int, Any]]:
    """The records of a query result: bare, in the sf CLI's {"status", "result"} wrapper,
    as a list of pages (nextRecordsUrl pages saved together), or a bare list of records."""
    if isinstance(data, dict) and "status" in data and ("result" in data or data["status"]):
        if data.get("status") not in (0, None):
            message = data.get("message") or data.get("name") or "a failed command"
            raise HistoryImportError(f"{path}: the sf CLI reported an error: {message}")
        data = data["result"]
    pages = data if isinstance(data, list) and data and _is_page(data[0]) else [data]
    index = 0
    for page in pages:
        if isinstance(page, dict) and "records" in page:
            items = page["records"]
        elif isinstance(page, list):
            items = page
        else:
            raise HistoryImportError(
                f'{path}: expected a query result ({{"records": [...]}}) or a list of records'
            )
        if not isinstance(items, list):
            raise HistoryImportError(f'{path}: "records" is not a list')
        for item in items:
            index += 1
            yield index, item


def _is_page(item: Any) -> bool:
    return isinstance(item, dict) and "records" in item


def _flatten(item: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Nested relationship objects become dotted names (Owner: {Name} -> Owner.Name)."""
    for key, value in item.items():
        if key == "attributes":
            continue
        if isinstance(value, dict) and "records" not in value:  # a relationship's fields
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if value == "":
        return None  # Salesforce stores no empty text: "" and null are the same to it
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)
