"""`import_history`: Salesforce run-history exports into a HistoryStore, as native history.

Imported records become the log rows the engine would have written (`history_events`),
marked `source = 'imported'`, so the folded tables (runs, stage_runs, step_runs,
work_items) and every analysis read them unchanged. Importing is idempotent and
incremental: a milestone already imported is not written again, and a newer export adds
only what is new (a run that was InProgress and is now Completed gains its end row). All
rows of one import are written in one transaction; an unreadable file raises before
anything is written; a bad row is rejected in the report and the others go on.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchlab.definition.model import Orchestration
from orchlab.errors import HistoryImportError
from orchlab.salesforce.history_definitions import differences, implied_orchestrations
from orchlab.salesforce.history_events import Event, Known, build_events
from orchlab.salesforce.history_fields import OBJECTS
from orchlab.salesforce.history_read import read_export
from orchlab.salesforce.history_records import Rejected, Typed, type_records
from orchlab.salesforce.history_values import zone
from orchlab.store.history import HistoryStore
from orchlab.store.row import COLUMNS, Row

__all__ = ["ImportReport", "import_history", "export_files"]

SOURCE = "imported"
_SUFFIXES = (".csv", ".json")
_SHOWN = 50  # rejections the printed report lists
_CLOSED = ("Completed", "Canceled")  # a closed run's rows never change (as in Salesforce)


@dataclass
class ImportReport:
    """What an import did: per file and object, and every row it left out and why."""

    files: list[tuple[str, str, str, int]] = field(default_factory=list)  # path, object, fmt, n
    read: int = 0
    added: dict[str, int] = field(default_factory=dict)  # object -> entities new to the history
    updated: dict[str, int] = field(default_factory=dict)  # object -> entities that changed
    unchanged: dict[str, int] = field(default_factory=dict)
    rows_written: int = 0  # log rows appended
    rejected: list[Rejected] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    orchestrations: list[Orchestration] = field(default_factory=list)  # implied or attached

    @property
    def total_added(self) -> int:
        return sum(self.added.values())

    @property
    def total_updated(self) -> int:
        return sum(self.updated.values())

    def __str__(self) -> str:
        lines = [
            f"read {_n(self.read, 'row')} from {_n(len(self.files), 'file')}; added "
            f"{self.total_added}, updated {self.total_updated}, rejected {len(self.rejected)}; "
            f"{_n(self.rows_written, 'log row')} written"
        ]
        for path, obj, fmt, n in self.files:
            lines.append(f"  {path}: {n} {obj} rows ({fmt})")
        for obj in OBJECTS:
            if obj in self.added or obj in self.updated or obj in self.unchanged:
                lines.append(
                    f"  {obj}: {self.added.get(obj, 0)} added, {self.updated.get(obj, 0)} "
                    f"updated, {self.unchanged.get(obj, 0)} unchanged"
                )
        if self.rejected:
            lines.append("rejected:")
            lines.extend(f"  {r}" for r in self.rejected[:_SHOWN])
            if len(self.rejected) > _SHOWN:  # all of them stay in report.rejected
                lines.append(f"  ... and {len(self.rejected) - _SHOWN} more (report.rejected)")
        if self.notes:
            lines.append("notes:")
            lines.extend(f"  {n}" for n in self.notes)
        return "\n".join(lines)


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def export_files(source: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The export files of a path (a file, or a folder's .csv and .json files) or of paths."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in _SUFFIXES)
            if not found:
                raise HistoryImportError(f"{path}: no .csv or .json export files in it")
            return found
        if not path.exists():
            raise HistoryImportError(f"{path}: no such file or folder")
        return [path]
    return [Path(p) for p in source]


def import_history(
    source: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    store: HistoryStore,
    *,
    timezone: str = "UTC",
    day_first: bool = False,
    orchestration: Orchestration | Iterable[Orchestration] | None = None,
) -> ImportReport:
    """Import Salesforce run-history exports (a file, a folder, or several files) into `store`.

    Args:
        source: exports of FlowOrchestrationInstance, ...StageInstance, ...StepInstance,
            ...WorkItem and ...Log: Data Loader / Bulk API CSV, REST or `sf data query
            --json` JSON, or report CSV (field labels as headers). Which object a file holds
            comes from its JSON `attributes`, its name, or its columns.
        store: the history to import into (runs already in it as live or simulated history
            are never touched).
        timezone: the zone of datetimes that carry no offset: a report's (the exporting
            user's zone, e.g. "Europe/Paris"); API exports carry their own offsets.
        day_first: report dates are day/month/year (else month/day/year).
        orchestration: the loaded definition(s) of the imported runs (`orchlab.salesforce.
            load`), listed in the report, with a note for each orchestration, stage or step
            the history names that they lack; without it, the definitions implied by the
            history (names, stages and steps of the rows) are listed.

    Returns the report: rows read, entities added, updated and unchanged, rejected rows with
    their reasons. Raises HistoryImportError (and stores nothing) when a file cannot be read.
    """
    local = zone(timezone)
    # Every file is read before anything is written.
    exports = [e for p in export_files(source) for e in read_export(p)]
    report = ImportReport()
    typed: dict[str, list[Typed]] = {}
    for export in exports:
        report.files.append((export.path, export.object, export.format, len(export.records)))
        report.read += len(export.records)
        if export.unused_columns:
            report.notes.append(f"{export.path}: columns not imported: "
                                + ", ".join(export.unused_columns))  # fmt: skip
    for obj in OBJECTS:
        records = [r for e in exports if e.object == obj for r in e.records]
        good, bad = type_records(records, local, day_first)
        typed[obj] = good
        report.rejected.extend(bad)
    known, native = _known(store)
    events, bad, touched = build_events(typed, known)
    report.rejected.extend(bad)
    fresh = _new_events(store, events, known, native, report)
    _count(report, touched, known, fresh)
    rows = _rows(fresh, store.max_seq())
    if rows:
        previous = store.source
        store.source = SOURCE
        try:
            store.append(rows)  # one transaction: all of this import, or nothing
        finally:
            store.source = previous
    report.rows_written = len(rows)
    given = (
        [orchestration] if isinstance(orchestration, Orchestration) else list(orchestration or ())
    )
    implied = implied_orchestrations(typed)
    report.notes.extend(differences(given, implied) if given else [])
    report.orchestrations = given or implied
    return report


def _known(store: HistoryStore) -> tuple[Known, dict[str, str]]:
    """Entities earlier imports stored, and the ids of runs that are not imported."""
    known = Known()
    native: dict[str, str] = {}
    for rid, name, version, status, source in store.execute(
        "SELECT id, orchestration_name, orchestration_version, status, source FROM runs"
    ):
        if source != SOURCE:
            native[rid] = source
        else:
            known.runs[rid] = {"name": name, "version": version, "status": status}
    imported = f"source = '{SOURCE}'"
    for sid, run, name, start in store.execute(
        f"SELECT id, orchestration_instance_id, name, start_date FROM stage_runs WHERE {imported}"
    ):
        known.stages[sid] = {"run": run, "name": name, "start": start}
    for sid, run, stage, name, start in store.execute(
        "SELECT id, orchestration_instance_id, stage_instance_id, name, start_date FROM "
        f"step_runs WHERE {imported}"
    ):
        known.steps[sid] = {"run": run, "stage": stage, "name": name, "start": start}
    for wid, run, step, start in store.execute(
        "SELECT id, orchestration_instance_id, step_instance_id, created_date FROM work_items "
        f"WHERE {imported}"
    ):
        known.items[wid] = {"run": run, "step": step, "start": start}
    return known, native


def _new_events(
    store: HistoryStore,
    events: list[Event],
    known: Known,
    native: dict[str, str],
    report: ImportReport,
) -> list[Event]:
    """The events not imported before, of runs that can still change."""
    stored: set[tuple[Any, ...]] = set()
    for kind, run, stage, step, item, at in store.execute(
        "SELECT kind, instance_id, stage_instance_id, step_instance_id, work_item_id, timestamp "
        f"FROM log WHERE source = '{SOURCE}'"
    ):
        probe = Event(at, kind, run, stage_instance_id=stage, step_instance_id=step,
                      work_item_id=item)  # fmt: skip
        stored.add(probe.key())
    fresh, clashes, closed = [], set(), set()
    for ev in events:
        if ev.instance_id in native:
            clashes.add(ev.instance_id)
        elif ev.key() in stored:
            continue
        elif known.runs.get(ev.instance_id, {}).get("status") in _CLOSED:
            closed.add(ev.instance_id)
        else:
            fresh.append(ev)
    for run in sorted(clashes):
        report.notes.append(
            f"run {run} is already in the history as {native[run]} history: not imported"
        )
    if closed:
        shown = ", ".join(sorted(closed)[:5])
        report.notes.append(
            f"{len(closed)} runs were already imported as Completed or Canceled; a closed "
            f"run does not change, so newer rows for them were left out ({shown})"
        )
    return fresh


def _count(
    report: ImportReport, touched: dict[str, set[str]], known: Known, fresh: list[Event]
) -> None:
    changed: set[str] = set()
    for ev in fresh:
        changed.update(
            i
            for i in (ev.instance_id, ev.stage_instance_id, ev.step_instance_id, ev.work_item_id)
            if i
        )
    stored = {
        "FlowOrchestrationInstance": known.runs,
        "FlowOrchestrationStageInstance": known.stages,
        "FlowOrchestrationStepInstance": known.steps,
        "FlowOrchestrationWorkItem": known.items,
    }
    for obj, ids in touched.items():
        for i in ids:
            if i not in changed:
                bucket = report.unchanged
            elif i in stored.get(obj, {}):
                bucket = report.updated
            else:
                bucket = report.added
            bucket[obj] = bucket.get(obj, 0) + 1


def _rows(events: list[Event], after: int) -> list[Row]:
    """Events in time order, numbered after the log's end: an Event has every log column
    (a test checks it), so the row is read off it by the log's column names."""
    ordered = sorted(events, key=Event.order)
    return [
        Row(seq, *(getattr(ev, c) for c in COLUMNS[1:]))
        for seq, ev in enumerate(ordered, start=after + 1)
    ]
