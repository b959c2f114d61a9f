"""Realistic Salesforce run-history exports, made from a (simulated) orchlab history.

No real export is public, so the importer is tested on these: the five objects with the
columns a Data Loader / Bulk API export has (API names, dotted relationships, UTC `...Z`
datetimes, empty for null), as `sf data query --json` results (`attributes`, nested
relationship objects, `+0000` datetimes, the CLI's status wrapper) or REST pages
(`nextRecordsUrl`), and as report exports (field labels as headers, datetimes in the
user's zone to the minute, the footer reports end with). Ids are 18-character Salesforce
Ids with their case checksum, made from orchlab's ids.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from orchlab.salesforce.history_fields import INSTANCE, LOG, OBJECTS, STAGE, STEP, WORK_ITEM
from orchlab.salesforce.history_records import KINDS
from orchlab.salesforce.history_values import id18, zone
from orchlab.store.history import HistoryStore

__all__ = ["sample_exports", "sample_records", "COLUMNS", "salesforce_id"]

# The columns each export has, in order (what a SOQL query of these fields returns).
COLUMNS: dict[str, tuple[str, ...]] = {
    INSTANCE: (
        "Id", "Name", "Status", "OrchestrationDeveloperName", "OrchestrationLabel",
        "CurrentStage", "Duration", "TriggeringRecord", "TriggeringRecordType", "IsDebugRun",
        "OwnerId", "CreatedById", "CreatedBy.Name", "CreatedDate", "LastModifiedDate",
    ),
    STAGE: (
        "Id", "Name", "Label", "OrchestrationInstanceId", "OrchestrationInstance.Name",
        "OrchestrationName", "Position", "Status", "CreatedDate", "LastModifiedDate",
    ),
    STEP: (
        "Id", "Name", "Label", "OrchestrationInstanceId", "StageInstanceId", "OrchestrationName",
        "OrchestrationStageName", "RelatedRecord", "Status", "StepType", "CreatedDate",
        "LastModifiedDate",
    ),
    WORK_ITEM: (
        "Id", "Name", "Label", "Status", "AssigneeId", "Assignee.Name", "Assignee.Type",
        "RelatedRecordId", "StepInstanceId", "StepInstance.Name", "ScreenFlow",
        "OrchestrationName", "OwnerId", "Owner.Name", "CreatedDate", "LastModifiedDate",
    ),
    LOG: (
        "Id", "OrchestrationInstanceId", "OrchestrationName", "OrchestrationVersion",
        "StageName", "StepName", "Kind", "Timestamp", "Duration", "Actor", "Assignee",
        "AssigneeType", "Context", "Comments", "CreatedDate",
    ),
}  # fmt: skip
_PREFIX = {INSTANCE: "0jE", STAGE: "0jF", STEP: "0jL", WORK_ITEM: "0jR", LOG: "0jO"}
_STEP_TYPE = {"ExternalStep": "MuleSoftStep"}  # orchlab -> Salesforce StepType
_REPORT_NAMES = {
    INSTANCE: "Orchestration Runs", STAGE: "Orchestration Stage Runs",
    STEP: "Orchestration Step Runs", WORK_ITEM: "Orchestration Work Items",
    LOG: "Orchestration Run Logs",
}  # fmt: skip
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def salesforce_id(prefix: str, key: str) -> str:
    """An 18-character Id: the 3-character key prefix, 12 characters from `key`, and the
    checksum Salesforce appends (which of each 5 characters are upper case)."""
    digest = int.from_bytes(hashlib.sha1(key.encode()).digest()[:9], "big")
    body = ""
    for _ in range(12):
        digest, r = divmod(digest, 62)
        body = _B62[r] + body
    return id18((prefix + body)[:15])


def sample_records(store: HistoryStore) -> dict[str, list[dict[str, Any]]]:
    """The history's runs as Salesforce records of the five objects (values typed: datetimes,
    ints, bools), keyed by API name, relationships dotted."""
    ids: dict[tuple[str, str], str] = {}

    def sid(obj: str, key: str | None) -> str | None:
        if key is None:
            return None
        return ids.setdefault((obj, key), salesforce_id(_PREFIX[obj], f"{obj}:{key}"))

    def person(name: str | None, kind: str | None = "User") -> str | None:
        prefix = "005" if (kind or "User") == "User" else "00G"
        return salesforce_id(prefix, f"{kind}:{name}") if name else None

    automated = person("Automated Process")
    out: dict[str, list[dict[str, Any]]] = {obj: [] for obj in OBJECTS}
    runs = store.sql("SELECT * FROM runs ORDER BY created_date, id").to_dict("records")
    names = {}
    for n, r in enumerate(runs, start=1):
        names[r["id"]] = f"OR-{n:06d}"
        out[INSTANCE].append(
            {
                "Id": sid(INSTANCE, r["id"]),
                "Name": names[r["id"]],
                "Status": r["status"],
                "OrchestrationDeveloperName": r["orchestration_name"],
                "OrchestrationLabel": r["orchestration_name"].replace("_", " "),
                "CurrentStage": r["current_stage"],
                "Duration": _seconds(r["created_date"], r["completed_date"]),
                "TriggeringRecord": r["triggering_record"],
                "TriggeringRecordType": r["triggering_record_type"],
                "IsDebugRun": False,
                "OwnerId": automated,
                "CreatedById": person(r["created_by"]),
                "CreatedBy.Name": r["created_by"],
                "CreatedDate": r["created_date"],
                "LastModifiedDate": r["last_modified_date"],
            }
        )
    for s in store.sql("SELECT * FROM stage_runs ORDER BY start_date, id").to_dict("records"):
        out[STAGE].append(
            {
                "Id": sid(STAGE, s["id"]),
                "Name": s["name"],
                "Label": s["label"],
                "OrchestrationInstanceId": sid(INSTANCE, s["orchestration_instance_id"]),
                "OrchestrationInstance.Name": names.get(s["orchestration_instance_id"]),
                "OrchestrationName": s["orchestration_name"],
                "Position": _int(s["position"]),
                "Status": s["status"],
                "CreatedDate": s["start_date"],
                "LastModifiedDate": _last(s["end_date"], s["start_date"]),
            }
        )
    stage_start = {s["Id"]: s["CreatedDate"] for s in out[STAGE]}
    for s in store.sql("SELECT * FROM step_runs ORDER BY id").to_dict("records"):
        stage = sid(STAGE, s["stage_instance_id"])
        created = stage_start.get(stage) or s["start_date"]  # rows exist from the stage's start
        out[STEP].append(
            {
                "Id": sid(STEP, s["id"]),
                "Name": s["name"],
                "Label": s["label"],
                "OrchestrationInstanceId": sid(INSTANCE, s["orchestration_instance_id"]),
                "StageInstanceId": stage,
                "OrchestrationName": s["orchestration_name"],
                "OrchestrationStageName": s["orchestration_stage_name"],
                "RelatedRecord": None,
                "Status": s["status"],
                "StepType": _STEP_TYPE.get(s["step_type"], s["step_type"]),
                "CreatedDate": created,
                "LastModifiedDate": _last(s["end_date"], s["start_date"] or created),
            }
        )
    step_names = {s["Id"]: s["Name"] for s in out[STEP]}
    for w in store.sql("SELECT * FROM work_items ORDER BY created_date, id").to_dict("records"):
        kind = "User" if w["assignee_type"] == "User" else "Group"  # a queue is a Group record
        owner = w["owner_id"] or (w["assignee_id"] if w["assignee_type"] == "Queue" else None)
        step = sid(STEP, w["step_instance_id"])
        out[WORK_ITEM].append(
            {
                "Id": sid(WORK_ITEM, w["id"]),
                "Name": f"WI-{len(out[WORK_ITEM]) + 1:06d}",
                "Label": w["label"],
                "Status": w["status"],
                "AssigneeId": person(w["assignee_id"], kind),
                "Assignee.Name": w["assignee_id"],
                "Assignee.Type": kind,
                "RelatedRecordId": None,
                "StepInstanceId": step,
                "StepInstance.Name": step_names.get(step),
                "ScreenFlow": w["screen_flow"],
                "OrchestrationName": w["orchestration_name"],
                "OwnerId": person(owner, "User" if w["owner_id"] else kind) or automated,
                "Owner.Name": owner or "Automated Process",
                "CreatedDate": w["created_date"],
                "LastModifiedDate": _last(w["completed_date"], w["assigned_date"]),
            }
        )
    kinds = "(" + ", ".join(f"'{k}'" for k in KINDS) + ")"
    for row in store.sql(f"SELECT * FROM log WHERE kind IN {kinds} ORDER BY seq").to_dict(
        "records"
    ):
        out[LOG].append(
            {
                "Id": sid(LOG, str(row["seq"])),
                "OrchestrationInstanceId": sid(INSTANCE, row["instance_id"]),
                "OrchestrationName": row["orchestration_name"],
                "OrchestrationVersion": _int(row["orchestration_version"]),
                "StageName": _none(row["stage_name"]),
                "StepName": _none(row["step_name"]),
                "Kind": row["kind"],
                "Timestamp": row["timestamp"],
                "Duration": _int(row["duration"]),
                "Actor": _none(row["actor"]),
                "Assignee": _none(row["assignee"]),
                "AssigneeType": _none(row["assignee_type"]),
                "Context": _none(row["context"]),
                "Comments": _none(row["comments"]),
                "CreatedDate": row["timestamp"],
            }
        )
    return out


def _as_of(store: HistoryStore, moment: dt.datetime) -> HistoryStore:
    """A history in memory holding `store`'s log up to `moment`, folded anew."""
    earlier = HistoryStore()
    for table in ("definitions", "definition_steps"):  # the planned (NotStarted) step rows
        found = store.con.execute(f"SELECT * FROM {table}").fetchall()
        if found:
            marks = ",".join("?" * len(found[0]))
            earlier.con.executemany(f"INSERT INTO {table} VALUES ({marks})", found)
    rows = store.rows("WHERE timestamp <= ?", [moment])
    earlier.append([r._replace(seq=i) for i, r in enumerate(rows, start=1)])
    return earlier


def _none(value: Any) -> Any:
    return None if value is None or value != value else value  # pandas' NaN is null


def _int(value: Any) -> int | None:
    value = _none(value)
    return None if value is None else round(float(value))


def _last(*values: Any) -> Any:
    for v in values:
        if _none(v) is not None and not (hasattr(v, "year") and str(v) == "NaT"):
            return v
    return None


def _seconds(start: Any, end: Any) -> int | None:
    end = _last(end)
    return None if end is None else round((end - start).total_seconds())


def sample_exports(
    store: HistoryStore,
    folder: str | os.PathLike[str],
    *,
    formats: Iterable[str] = ("csv", "json", "report"),
    timezone: str = "UTC",
    objects: Iterable[str] = tuple(OBJECTS),
    as_of: dt.datetime | None = None,
) -> dict[str, list[Path]]:
    """Write the history as Salesforce exports under `folder`/<format>/, one file per object.

    formats: "csv" (Data Loader / Bulk API), "json" (`sf data query --json`), "rest" (REST
    query pages of 200 records, as a list), "report" (labels as headers, datetimes in
    `timezone`). as_of: export the history as it stood then (an earlier export of the same
    org: runs in progress that later complete). Returns the files written per format.
    """
    if as_of is not None:
        with _as_of(store, as_of) as earlier:
            return sample_exports(
                earlier, folder, formats=formats, timezone=timezone, objects=objects
            )
    records = sample_records(store)
    root = Path(folder)
    written: dict[str, list[Path]] = {}
    for fmt in formats:
        if fmt not in _WRITERS:
            raise ValueError(f"format {fmt!r}: expected one of {', '.join(_WRITERS)}")
        where = root / fmt
        where.mkdir(parents=True, exist_ok=True)
        written[fmt] = [_WRITERS[fmt](where, obj, records[obj], timezone) for obj in objects]
    return written


# --- the formats ---------------------------------------------------------------------------------


def _api_text(value: Any, iso: str = "Z") -> str:
    if value is None or _none(value) is None or str(value) == "NaT":
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        stamp = value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}"
        return stamp + ("Z" if iso == "Z" else "+0000")
    return str(value)


def _write_csv(where: Path, obj: str, rows: list[dict[str, Any]], _tz: str) -> Path:
    path = where / f"{obj}.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f, lineterminator="\n", quoting=csv.QUOTE_ALL)  # as Data Loader does
        out.writerow(COLUMNS[obj])
        for row in rows:
            out.writerow([_api_text(row.get(c)) for c in COLUMNS[obj]])
    return path


def _json_record(obj: str, row: dict[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = {
        "attributes": {"type": obj, "url": f"/services/data/v62.0/sobjects/{obj}/{row['Id']}"}
    }
    for c in COLUMNS[obj]:
        value = row.get(c)
        if isinstance(value, dt.datetime):
            value = _api_text(value, "+0000")
        elif _none(value) is None or str(value) == "NaT":
            value = None
        if "." in c:  # a relationship: a nested object with its own attributes, or null
            rel, fld = c.split(".", 1)
            if value is None:
                record.setdefault(rel, None)
                continue
            nested = record.get(rel) or {"attributes": {"type": _REL_TYPE.get(rel, rel)}}
            nested[fld] = value
            record[rel] = nested
        else:
            record[c] = value
    return record


_REL_TYPE = {"OrchestrationInstance": INSTANCE, "StepInstance": STEP, "CreatedBy": "User",
             "Owner": "User", "Assignee": "Name"}  # fmt: skip


def _write_json(where: Path, obj: str, rows: list[dict[str, Any]], _tz: str) -> Path:
    path = where / f"{obj}.json"
    records = [_json_record(obj, r) for r in rows]
    result = {"totalSize": len(records), "done": True, "records": records}
    path.write_text(json.dumps({"status": 0, "result": result, "warnings": []}, indent=2))
    return path


def _write_rest(where: Path, obj: str, rows: list[dict[str, Any]], _tz: str) -> Path:
    path = where / f"{obj}.json"
    records = [_json_record(obj, r) for r in rows]
    pages = []
    for start in range(0, max(len(records), 1), 200):
        part = records[start : start + 200]
        page: dict[str, Any] = {"totalSize": len(records), "done": start + 200 >= len(records)}
        if not page["done"]:
            page["nextRecordsUrl"] = f"/services/data/v62.0/query/01g000000000001-{start + 200}"
        page["records"] = part
        pages.append(page)
    path.write_text(json.dumps(pages, indent=1))
    return path


def _report_label(obj: str, name: str) -> str:
    spec = OBJECTS[obj]
    for f in (*spec.fields, *spec.relations):
        if f.name == name:
            return next((label for label in f.labels if "." not in label), name)
    return name


def _write_report(where: Path, obj: str, rows: list[dict[str, Any]], tz: str) -> Path:
    local = zone(tz)
    path = where / f"{_REPORT_NAMES[obj]}.csv"

    def text(value: Any) -> str:
        if isinstance(value, dt.datetime):
            moment = value.replace(tzinfo=dt.UTC).astimezone(local)
            hour = moment.hour % 12 or 12
            half = "AM" if moment.hour < 12 else "PM"
            return f"{moment.month}/{moment.day}/{moment.year}, {hour}:{moment.minute:02d} {half}"
        if isinstance(value, bool):
            return "1" if value else "0"
        return _api_text(value)

    with path.open("w", newline="", encoding="utf-8-sig") as f:  # reports carry a BOM
        out = csv.writer(f, lineterminator="\n", quoting=csv.QUOTE_ALL)
        out.writerow([_report_label(obj, c) for c in COLUMNS[obj]])
        for row in rows:
            out.writerow([text(row.get(c)) for c in COLUMNS[obj]])
        # What a report export ends with: a blank row, then totals and a notice.
        out.writerow([])
        out.writerow([f"Grand Totals ({len(rows)} records)"])
        out.writerow(["Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."])
        out.writerow(["Confidential Information - Do Not Distribute"])
    return path


_WRITERS = {"csv": _write_csv, "json": _write_json, "rest": _write_rest, "report": _write_report}
