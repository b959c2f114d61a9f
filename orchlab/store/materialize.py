"""The current-state tables, folded from the log's new rows: cost grows with what is new.

The log is the source of truth. `refresh` reads only the rows appended since the last
refresh (the `materialized_seq` mark in `orchlab_meta`; the log is ordered by `seq`, so
DuckDB's zone maps skip the rest), aggregates them per run, stage run, step run, work item
and record, and merges each aggregate into the entity's current row:

- "first" columns (when it started, what it is) keep the stored value;
- "last" columns (status, assignee, end date) take the new rows' value when they have one;
- derived columns (durations, the order a run entered its stages) are computed after.

Every column is such a first or last value of the entity's rows, so folding the log in any
number of pieces gives the same tables as folding it at once (a test checks it).

Entities of runs that can still move live in small `*_open` tables; when a run completes or
is canceled, its run, stage runs, step runs and work items move once to the `*_closed`
tables and never change again. A refresh therefore rewrites only open rows, and the public
names (`runs`, `stage_runs`, ...) are views over both halves. `log_open` keeps the log rows
of open runs, so an engine reopens by replaying only those.

Why not update the tables in the engine's own transaction: measured here, every extra table
a DuckDB transaction writes adds 1-2 ms to its commit, which would more than double the cost
of completing a work item. Folding on read costs in proportion to the new rows instead, and
every read through the store refreshes first, so no reader sees a stale table.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

__all__ = [
    "ENTITIES",
    "Entity",
    "CLOSED",
    "RUN_PATH",
    "path_rows",
    "step_order",
    "stage_split",
    "covered",
    "refresh",
    "table_ddl",
    "view_ddl",
]

CLOSED = "('Completed', 'Canceled')"  # run statuses after which nothing changes
_RUN_KINDS = (
    "('StartInstance','EndInstance','CancelInstance','FailInstance','SuspendInstance',"
    "'ResumeInstance')"
)


@dataclass(frozen=True, slots=True)
class Col:
    """One column: its type, its aggregate over one entity's new rows, and how it merges.

    merge: "first" keeps the stored value, "last" takes the new one when there is one
    (`guard`: an aggregate that is not null exactly when the new rows set the column, for
    columns whose new value may be null), "derived" is computed from the merged row (`tail`
    is then that expression).
    """

    name: str
    type: str
    tail: str
    merge: str = "first"
    guard: str | None = None


@dataclass(frozen=True, slots=True)
class Entity:
    name: str  # the public view
    key: str  # the log column that identifies it
    where: str  # which log rows belong to it
    run: str  # the column holding its run id (for moving to the closed table)
    cols: tuple[Col, ...]


def _c(name: str, type: str, tail: str, merge: str = "first", guard: str | None = None) -> Col:
    return Col(name, type, tail, merge, guard)


_RUNS = Entity(
    "runs",
    "instance_id",
    "instance_id IS NOT NULL",
    "id",
    (
        _c("id", "VARCHAR", "instance_id"),
        _c("orchestration_name", "VARCHAR", "any_value(orchestration_name)"),
        _c("orchestration_version", "INTEGER", "any_value(orchestration_version)"),
        _c(
            "status", "VARCHAR", f"arg_max(status, seq) FILTER (WHERE kind IN {_RUN_KINDS})", "last"
        ),
        _c(
            "current_stage",
            "VARCHAR",
            "arg_max(stage_name, seq) FILTER (WHERE kind = 'StartStage')",
            "last",
        ),
        _c(
            "triggering_record",
            "VARCHAR",
            "any_value(context) FILTER (WHERE kind = 'StartInstance')",
        ),
        _c(
            "triggering_record_type",
            "VARCHAR",
            "any_value(payload::JSON->>'$.record_type') FILTER (WHERE kind = 'StartInstance')",
        ),
        _c("created_by", "VARCHAR", "any_value(actor) FILTER (WHERE kind = 'StartInstance')"),
        _c("created_date", "TIMESTAMP", "min(timestamp)"),
        _c(
            "completed_date",
            "TIMESTAMP",
            "max(timestamp) FILTER (WHERE kind IN ('EndInstance', 'CancelInstance'))",
            "last",
        ),
        _c("duration", "DOUBLE", "date_diff('second', created_date, completed_date)", "derived"),
        _c(
            "error",
            "VARCHAR",
            "arg_max(comments, seq) FILTER (WHERE kind = 'FailInstance')",
            "last",
        ),
        _c("last_modified_date", "TIMESTAMP", "max(timestamp)", "last"),
        _c("source", "VARCHAR", "any_value(source)"),
        _c("first_seq", "BIGINT", "min(seq)"),
        _c("last_seq", "BIGINT", "max(seq)", "last"),
    ),
)

# A run's suspend, resume and cancel rows name its current stage: the stage's status follows.
_STAGE_KINDS = (
    "('StartStage', 'EndStage', 'DiscontinueStage', 'FailStage', 'SuspendInstance', "
    "'ResumeInstance', 'CancelInstance')"
)
_STAGE_RUNS = Entity(
    "stage_runs",
    "stage_instance_id",
    "stage_instance_id IS NOT NULL AND work_item_id IS NULL",
    "orchestration_instance_id",
    (
        _c("id", "VARCHAR", "stage_instance_id"),
        _c("orchestration_instance_id", "VARCHAR", "any_value(instance_id)"),
        _c("orchestration_name", "VARCHAR", "any_value(orchestration_name)"),
        _c("name", "VARCHAR", "any_value(stage_name)"),
        _c(
            "label",
            "VARCHAR",
            "any_value(payload::JSON->>'$.label') FILTER (WHERE kind = 'StartStage')",
        ),
        _c(
            "position",
            "INTEGER",
            "any_value((payload::JSON->>'$.position')::INTEGER) FILTER (WHERE kind = 'StartStage')",
        ),
        _c(
            "status",
            "VARCHAR",
            f"arg_max(status, seq) FILTER (WHERE kind IN {_STAGE_KINDS})",
            "last",
        ),
        _c("start_date", "TIMESTAMP", "min(timestamp)"),
        _c(
            "end_date",
            "TIMESTAMP",
            "max(timestamp) FILTER (WHERE kind IN "
            "('EndStage', 'DiscontinueStage', 'FailStage', 'CancelInstance'))",
            "last",
        ),
        _c("sequence", "INTEGER", "sequence", "derived"),  # computed in `_STAGE_ORDER`
        _c("duration", "DOUBLE", "date_diff('second', start_date, end_date)", "derived"),
        # Of an ended stage run (`_split_stages`): seconds while a step ran, and while an
        # interactive one did (a person was awaited). Null while it runs.
        _c("busy_seconds", "DOUBLE", "CAST(NULL AS DOUBLE)", "derived"),
        _c("person_seconds", "DOUBLE", "CAST(NULL AS DOUBLE)", "derived"),
        _c("source", "VARCHAR", "any_value(source)"),
        _c("first_seq", "BIGINT", "min(seq)"),
    ),
)

_STEP_KINDS = "('StartStep', 'EndStep', 'FailStep', 'DiscontinueStep')"
_STEP_RUNS = Entity(
    "step_runs",
    "step_instance_id",
    f"step_instance_id IS NOT NULL AND work_item_id IS NULL AND kind IN {_STEP_KINDS}",
    "orchestration_instance_id",
    (
        _c("id", "VARCHAR", "step_instance_id"),
        _c("orchestration_instance_id", "VARCHAR", "any_value(instance_id)"),
        _c("stage_instance_id", "VARCHAR", "any_value(stage_instance_id)"),
        _c("orchestration_name", "VARCHAR", "any_value(orchestration_name)"),
        _c("orchestration_version", "INTEGER", "any_value(orchestration_version)"),
        _c("orchestration_stage_name", "VARCHAR", "any_value(stage_name)"),
        _c("name", "VARCHAR", "any_value(step_name)"),
        # From definition_steps (planned rows), else from StartStep's payload: imported
        # history names them there, as it has no definition_steps of its own.
        _c(
            "label",
            "VARCHAR",
            "any_value(payload::JSON->>'$.label') FILTER (WHERE kind = 'StartStep')",
        ),
        _c(
            "step_type",
            "VARCHAR",
            "any_value(payload::JSON->>'$.step_type') FILTER (WHERE kind = 'StartStep')",
        ),
        _c("status", "VARCHAR", "arg_max(status, seq)", "last"),
        _c("start_date", "TIMESTAMP", "min(timestamp) FILTER (WHERE kind = 'StartStep')"),
        _c(
            "end_date",
            "TIMESTAMP",
            "max(timestamp) FILTER (WHERE kind IN ('EndStep', 'FailStep', 'DiscontinueStep'))",
            "last",
        ),
        _c(
            "error",
            "VARCHAR",
            "arg_max(comments, seq) FILTER (WHERE kind = 'FailStep')",
            "last",
        ),
        _c(
            "outputs",
            "JSON",
            "arg_max(payload::JSON->'$.outputs', seq) FILTER (WHERE kind = 'EndStep')",
            "last",
        ),
        _c("duration", "DOUBLE", "date_diff('second', start_date, end_date)", "derived"),
        # The run's completed steps in order (computed in `_STEP_ORDER`): what process
        # mining asks of every step (directly-follows, first and last) without a window.
        _c("previous_step_name", "VARCHAR", "previous_step_name", "derived"),
        _c("previous_end_date", "TIMESTAMP", "previous_end_date", "derived"),
        _c("next_end_date", "TIMESTAMP", "next_end_date", "derived"),
        _c("source", "VARCHAR", "any_value(source)"),
    ),
)

_ASSIGN = "kind IN ('StartWorkItem', 'ReassignWorkItem')"
_WORK_ITEMS = Entity(
    "work_items",
    "work_item_id",
    "work_item_id IS NOT NULL",
    "orchestration_instance_id",
    (
        _c("id", "VARCHAR", "work_item_id"),
        _c("orchestration_instance_id", "VARCHAR", "any_value(instance_id)"),
        _c("orchestration_name", "VARCHAR", "any_value(orchestration_name)"),
        _c("step_instance_id", "VARCHAR", "any_value(step_instance_id)"),
        _c("step_name", "VARCHAR", "any_value(step_name)"),
        _c(
            "label",
            "VARCHAR",
            "any_value(payload::JSON->>'$.label') FILTER (WHERE kind = 'StartWorkItem')",
        ),
        _c(
            "screen_flow",
            "VARCHAR",
            "any_value(payload::JSON->>'$.screen') FILTER (WHERE kind = 'StartWorkItem')",
        ),
        _c("status", "VARCHAR", "arg_max(status, seq)", "last"),
        _c("assignee_id", "VARCHAR", f"arg_max(assignee, seq) FILTER (WHERE {_ASSIGN})", "last"),
        _c(
            "assignee_type",
            "VARCHAR",
            f"arg_max(assignee_type, seq) FILTER (WHERE {_ASSIGN})",
            "last",
        ),
        _c(
            "owner_id",
            "VARCHAR",
            f"arg_max(payload::JSON->>'$.owner', seq) FILTER (WHERE {_ASSIGN})",
            "last",
            guard=f"max(seq) FILTER (WHERE {_ASSIGN})",  # a reassignment may clear the owner
        ),
        _c(
            "related_record_id",
            "VARCHAR",
            "any_value(context) FILTER (WHERE kind = 'StartWorkItem')",
        ),
        _c("created_date", "TIMESTAMP", "min(timestamp)"),
        _c("assigned_date", "TIMESTAMP", f"max(timestamp) FILTER (WHERE {_ASSIGN})", "last"),
        _c(
            "completed_date",
            "TIMESTAMP",
            "max(timestamp) FILTER (WHERE kind = 'EndWorkItem')",
            "last",
        ),
        _c(
            "completed_by",
            "VARCHAR",
            "arg_max(actor, seq) FILTER (WHERE kind = 'EndWorkItem')",
            "last",
            guard="max(seq) FILTER (WHERE kind = 'EndWorkItem')",  # the system: null
        ),
        _c("duration", "DOUBLE", "date_diff('second', created_date, completed_date)", "derived"),
        _c("source", "VARCHAR", "any_value(source)"),
    ),
)

ENTITIES = (_RUNS, _STAGE_RUNS, _STEP_RUNS, _WORK_ITEMS)

_RECORD_KINDS = "('CreateRecord', 'UpdateRecord')"
_RECORDS = Entity(
    "records",
    "context",
    f"kind IN {_RECORD_KINDS}",
    "",
    (
        _c("id", "VARCHAR", "context"),
        _c("object", "VARCHAR", "any_value(payload::JSON->>'$.object')"),
        _c("fields", "JSON", "arg_max(payload::JSON->'$.fields', seq)", "last"),
        _c("created_date", "TIMESTAMP", "min(timestamp)"),
        _c("created_by", "VARCHAR", "any_value(actor) FILTER (WHERE kind = 'CreateRecord')"),
        _c("last_modified_date", "TIMESTAMP", "max(timestamp)", "last"),
        _c("last_modified_by", "VARCHAR", "arg_max(actor, seq)", "last"),
        _c("source", "VARCHAR", "any_value(source)"),
    ),
)

# Tables appended to, never rewritten: one row per log row of a kind.
APPENDED: dict[str, tuple[str, str]] = {
    "outbox": (
        "seq BIGINT, timestamp TIMESTAMP, orchestration_instance_id VARCHAR, "
        "orchestration_name VARCHAR, "
        'work_item_id VARCHAR, "to" JSON, subject VARCHAR, body VARCHAR, source VARCHAR',
        "SELECT seq, timestamp, instance_id, orchestration_name, work_item_id, "
        "payload::JSON->'$.notify.to', "
        "payload::JSON->>'$.notify.subject', payload::JSON->>'$.notify.body', source "
        f"FROM tail WHERE {_ASSIGN} AND (payload::JSON->'$.notify') IS NOT NULL",
    ),
    "decision_outcomes": (
        "seq BIGINT, timestamp TIMESTAMP, orchestration_instance_id VARCHAR, "
        "orchestration_name VARCHAR, orchestration_version INTEGER, decision VARCHAR, "
        "outcome VARCHAR, next_element VARCHAR, source VARCHAR",
        "SELECT seq, timestamp, instance_id, orchestration_name, orchestration_version, "
        "payload::JSON->>'$.decision', comments, payload::JSON->>'$.next', source "
        "FROM tail WHERE kind = 'TakeOutcome'",
    ),
}


# A run's path: its start, each stage it entered or failed, each decision taken and how it
# ended, in log order; each row with the element before it and how often the run had got
# there, so transitions, fault paths and rework count rows instead of sorting every run's
# rows in a window (measured at 1M runs: 9 s of window, against a few tenths).
_PATH_KINDS = (
    "('StartInstance', 'StartStage', 'FailStage', 'TakeOutcome', 'EndInstance', "
    "'CancelInstance', 'FailInstance')"
)
RUN_PATH = (
    "seq BIGINT, timestamp TIMESTAMP, orchestration_instance_id VARCHAR, "
    "orchestration_name VARCHAR, kind VARCHAR, element VARCHAR, position INTEGER, "
    "previous_element VARCHAR, previous_kind VARCHAR, entry BIGINT, edge_entry BIGINT, "
    "source VARCHAR"
)


# Completed runs and step runs counted per group and whole millisecond of duration: exact
# quantiles of all history read from a few thousand rows per group instead of every row
# (measured at 1M runs: 6.5 M completed step runs, at most 19k distinct durations per step).
# One is counted once, when the row that completes it is folded (Completed is final);
# archiving a run takes it and its steps out again.
@dataclass(frozen=True)
class Counted:
    table: str
    of: str  # the public table counted
    keys: tuple[tuple[str, str, str], ...]  # (column, its type, its expression in the source)
    start: str
    end: str
    completed_by: str  # the log row kind that completes one
    tail_id: str  # the log column naming what that row completes

    @property
    def ddl(self) -> str:
        cols = ", ".join(f"{name} {type}" for name, type, _ in self.keys)
        return f"CREATE TABLE IF NOT EXISTS {self.table} ({cols}, ms BIGINT, n BIGINT)"

    def counts(self, source: str, where: str = "TRUE") -> str:
        """Rows of this table for the Completed ones of `source` where `where`."""
        keys = ", ".join(f"{expr} AS {name}" for name, _, expr in self.keys)
        return (
            f"SELECT {keys}, date_diff('millisecond', {self.start}, {self.end}) AS ms, "
            f"count(*) AS n FROM {source} WHERE status = 'Completed' AND ({where}) GROUP BY ALL"
        )

    def add(self, con: duckdb.DuckDBPyConnection, counts: str, sign: int = 1) -> None:
        """Add (sign 1) or take away (-1) the rows of `counts` (this table's columns)."""
        cols = [name for name, _, _ in self.keys] + ["ms"]
        on = " AND ".join(f"d.{k} IS NOT DISTINCT FROM c.{k}" for k in cols)
        con.execute(
            f"MERGE INTO {self.table} d USING ({counts}) AS c ON {on} "
            f"WHEN MATCHED THEN UPDATE SET n = d.n + {int(sign)} * c.n "
            f"WHEN NOT MATCHED THEN INSERT VALUES ({', '.join(f'c.{k}' for k in cols)}, "
            f"{int(sign)} * c.n)"
        )
        if sign < 0:
            con.execute(f"DELETE FROM {self.table} WHERE n <= 0")

    def fold(self, con: duckdb.DuckDBPyConnection, folded: str) -> None:
        """Count what the tail's rows completed, from the folded rows `folded`."""
        done = f"id IN (SELECT {self.tail_id} FROM tail WHERE kind = '{self.completed_by}')"
        self.add(con, self.counts(folded, done))


_NAME, _VERSION = ("orchestration_name", "VARCHAR"), ("orchestration_version", "INTEGER")
RUN_DURATIONS = Counted(
    "run_durations",
    "runs",
    ((*_NAME, _NAME[0]), (*_VERSION, _VERSION[0]), ("source", "VARCHAR", "source")),
    "created_date",
    "completed_date",
    "EndInstance",
    "instance_id",
)
STEP_DURATIONS = Counted(
    "step_durations",
    "step_runs",
    (
        (*_NAME, _NAME[0]),
        (*_VERSION, _VERSION[0]),
        ("stage_name", "VARCHAR", "orchestration_stage_name"),
        ("step_name", "VARCHAR", "name"),
        ("step_type", "VARCHAR", "step_type"),
    ),
    "start_date",
    "end_date",
    "EndStep",
    "step_instance_id",
)
COUNTED = (RUN_DURATIONS, STEP_DURATIONS)


def path_rows(rows: str, keep: str) -> str:
    """run_path rows of the log rows `rows` (which hold every row of each run in them),
    those where `keep`. entry: the how-many-th time the run reached this element (by
    kind); edge_entry: the how-many-th time it went this way (from previous_element, by a
    fault path or not)."""
    element = (
        "CASE kind WHEN 'StartInstance' THEN '$Start' WHEN 'StartStage' THEN stage_name "
        "WHEN 'FailStage' THEN stage_name WHEN 'TakeOutcome' THEN payload::JSON->>'$.decision' "
        "WHEN 'EndInstance' THEN coalesce(payload::JSON->>'$.end', '$End') "
        "WHEN 'CancelInstance' THEN '$Canceled' ELSE '$Error' END"
    )
    position = "CASE WHEN kind = 'StartStage' THEN (payload::JSON->>'$.position')::INTEGER END"
    elements = (
        f"SELECT seq, timestamp, instance_id, orchestration_name, kind, {element} AS element, "
        f"{position} AS position, source FROM {rows} "
        f"WHERE kind IN {_PATH_KINDS} AND instance_id IS NOT NULL"
    )
    w = "OVER (PARTITION BY instance_id ORDER BY seq)"
    led = (
        f"SELECT *, lag(element) {w} AS previous_element, lag(kind) {w} AS previous_kind "
        f"FROM ({elements})"
    )
    counted = (
        "SELECT *, row_number() OVER (PARTITION BY instance_id, kind, element ORDER BY seq) "
        "AS entry, row_number() OVER (PARTITION BY instance_id, previous_element, element, "
        "kind, previous_kind = 'FailStage' ORDER BY seq) AS edge_entry "
        f"FROM ({led})"
    )
    return (
        "SELECT seq, timestamp, instance_id, orchestration_name, kind, element, position, "
        "previous_element, previous_kind, entry, edge_entry, source "
        f"FROM ({counted}) WHERE {keep}"
    )


def _columns(entity: Entity) -> str:
    return ", ".join(f'"{c.name}" {c.type}' for c in entity.cols)


def table_ddl() -> list[str]:
    """CREATE statements for the materialized tables (each run-owned entity in two halves)."""
    out = []
    for e in ENTITIES:
        for half in ("open", "closed"):
            out.append(f"CREATE TABLE IF NOT EXISTS {e.name}_{half} ({_columns(e)})")
    out.append(f"CREATE TABLE IF NOT EXISTS records ({_columns(_RECORDS)})")
    out.append(f"CREATE TABLE IF NOT EXISTS run_path ({RUN_PATH})")
    out += [c.ddl for c in COUNTED]
    for name, (cols, _) in APPENDED.items():
        out.append(f"CREATE TABLE IF NOT EXISTS {name} ({cols})")
    out.append(
        "CREATE TABLE IF NOT EXISTS queue_routing "
        "(queue VARCHAR, owner VARCHAR, seq BIGINT)"  # round robin goes on from here
    )
    return out


def view_ddl() -> list[str]:
    """The public names: open and closed halves as one table (hidden columns left out)."""
    out = []
    for e in ENTITIES:
        cols = ", ".join(f'"{c.name}"' for c in e.cols if c.name not in _HIDDEN)
        out.append(
            f"CREATE OR REPLACE VIEW {e.name} AS SELECT {cols} FROM {e.name}_open "
            f"UNION ALL SELECT {cols} FROM {e.name}_closed"
        )
    return out


_HIDDEN = {"first_seq", "last_seq"}  # bookkeeping: where a run's log rows lie


def _tail_select(e: Entity) -> str:
    parts = []
    for c in e.cols:
        if c.merge == "derived":
            continue
        expr = c.tail if c.name != "id" else e.key
        parts.append(f'{expr} AS "{c.name}"')
        if c.guard:
            parts.append(f'{c.guard} AS "{c.name}__set"')
    return f"SELECT {', '.join(parts)} FROM tail WHERE {e.where} GROUP BY {e.key}"


def _merged_select(e: Entity, old: str) -> str:
    """Tail aggregates (t) merged with the stored row (o), derived columns left out."""
    parts = []
    for c in e.cols:
        if c.merge == "derived":
            continue
        if c.name == "id":
            parts.append("t.id")
        elif c.merge == "first":
            parts.append(f'coalesce(o."{c.name}", t."{c.name}") AS "{c.name}"')
        elif c.guard:
            parts.append(
                f'CASE WHEN t."{c.name}__set" IS NOT NULL THEN t."{c.name}" '
                f'ELSE o."{c.name}" END AS "{c.name}"'
            )
        else:
            parts.append(f'coalesce(t."{c.name}", o."{c.name}") AS "{c.name}"')
    return f"SELECT {', '.join(parts)} FROM t LEFT JOIN {old} o ON o.id = t.id"


def _final_select(e: Entity, source: str) -> str:
    def expr(c: Col) -> str:
        return c.tail if c.merge == "derived" else f'"{c.name}"'

    return "SELECT " + ", ".join(f'{expr(c)} AS "{c.name}"' for c in e.cols) + f" FROM {source}"


# sequence: a stored stage run keeps its number; new ones continue the run's count.
_STAGE_ORDER = (
    "SELECT m.*, coalesce(o.sequence, coalesce(n.top, 0) + row_number() OVER ("
    "    PARTITION BY m.orchestration_instance_id, o.sequence IS NULL ORDER BY m.first_seq"
    ")) AS sequence "
    "FROM m LEFT JOIN stage_runs_open o ON o.id = m.id "
    "LEFT JOIN (SELECT orchestration_instance_id AS run, max(sequence) AS top "
    "    FROM stage_runs_open GROUP BY 1) n ON n.run = m.orchestration_instance_id"
)


def step_order(source: str) -> str:
    """`source`'s rows with previous_step_name, previous_end_date and next_end_date: the
    run's previous and next completed step, by end, start, name and id (null for steps not
    completed). `source` must hold every step run of each run in it."""
    w = (
        "OVER (PARTITION BY orchestration_instance_id, status = 'Completed' "
        "ORDER BY end_date, start_date, name, id)"
    )
    done = "CASE WHEN status = 'Completed' THEN {} END"
    return (
        f"SELECT *, {done.format('lag(name) ' + w)} AS previous_step_name, "
        f"{done.format('lag(end_date) ' + w)} AS previous_end_date, "
        f"{done.format('lead(end_date) ' + w)} AS next_end_date FROM {source}"
    )


# Step runs: every step of a stage that started is listed (NotStarted until it starts);
# each step run the new rows touch or plan is merged with its stored row.
_STEP_MERGE = (
    "planned AS (SELECT s.stage_instance_id || '-' || d.step_position AS id, s.instance_id, "
    "    s.stage_instance_id, s.orchestration_name, s.orchestration_version, s.stage_name, "
    "    d.step_name, d.step_label, d.step_type, s.source "
    "  FROM tail s JOIN definition_steps d ON d.orchestration_name = s.orchestration_name "
    "  AND d.orchestration_version = s.orchestration_version AND d.stage_name = s.stage_name "
    "  WHERE s.kind = 'StartStage'), "
    "ids AS (SELECT id FROM t UNION SELECT id FROM planned), "
    "m AS (SELECT ids.id, "
    "  coalesce(o.orchestration_instance_id, p.instance_id, t.orchestration_instance_id) "
    "      AS orchestration_instance_id, "
    "  coalesce(o.stage_instance_id, p.stage_instance_id, t.stage_instance_id) "
    "      AS stage_instance_id, "
    "  coalesce(o.orchestration_name, p.orchestration_name, t.orchestration_name) "
    "      AS orchestration_name, "
    "  coalesce(o.orchestration_version, p.orchestration_version, t.orchestration_version) "
    "      AS orchestration_version, "
    "  coalesce(o.orchestration_stage_name, p.stage_name, t.orchestration_stage_name) "
    "      AS orchestration_stage_name, "
    "  coalesce(o.name, p.step_name, t.name) AS name, "
    "  coalesce(o.label, p.step_label, t.label) AS label, "
    "  coalesce(o.step_type, p.step_type, t.step_type) AS step_type, "
    "  coalesce(t.status, o.status, 'NotStarted') AS status, "
    "  coalesce(o.start_date, t.start_date) AS start_date, "
    "  coalesce(t.end_date, o.end_date) AS end_date, "
    "  coalesce(t.error, o.error) AS error, "
    "  coalesce(t.outputs, o.outputs) AS outputs, "
    "  coalesce(o.source, p.source, t.source) AS source "
    "  FROM ids LEFT JOIN t ON t.id = ids.id LEFT JOIN planned p ON p.id = ids.id "
    "  LEFT JOIN step_runs_open o ON o.id = ids.id), "
    # With the untouched open step runs of the same runs: a step that completes changes
    # its neighbours' previous/next, so each touched run's order is computed whole.
    "whole AS (SELECT * FROM m UNION ALL BY NAME "
    "  SELECT o.* EXCLUDE (duration, previous_step_name, previous_end_date, next_end_date) "
    "  FROM step_runs_open o "
    "  WHERE o.orchestration_instance_id IN (SELECT orchestration_instance_id FROM m) "
    "  AND o.id NOT IN (SELECT id FROM m)), "
    f"ordered AS ({step_order('whole')})"
)


def _folded(e: Entity) -> str:
    """One query: the new rows' aggregates (t), merged with the stored rows (m), finished."""
    old = "records" if e is _RECORDS else f"{e.name}_open"
    t = f"t AS ({_tail_select(e)})"
    if e is _STEP_RUNS:
        return f"WITH {t}, {_STEP_MERGE} {_final_select(e, 'ordered')}"
    m = f"m AS ({_merged_select(e, old)})"
    if e is _STAGE_RUNS:
        return f"WITH {t}, {m}, ordered AS ({_STAGE_ORDER}) {_final_select(e, 'ordered')}"
    return f"WITH {t}, {m} {_final_select(e, 'm')}"


def refresh(con: duckdb.DuckDBPyConnection, done: int, upto: int) -> None:
    """Fold log rows with done < seq <= upto into the tables, in the caller's transaction.

    Statements that the new rows' kinds cannot affect are skipped: each DuckDB statement
    costs a millisecond or more, and a typical engine call adds only a few kinds of rows.
    """
    run = con.execute
    # A view, not a copy: each statement reads only the columns it needs, and the seq range
    # lets the scan skip the rest of the log (the numbers are ints: safe to write inline).
    run(
        "CREATE OR REPLACE TEMP VIEW tail AS SELECT * FROM log "
        f"WHERE seq > {int(done)} AND seq <= {int(upto)}"
    )
    kinds = {k for (k,) in run("SELECT DISTINCT kind FROM tail").fetchall()}
    temps = []

    def fold(e: Entity) -> None:
        run(f"CREATE OR REPLACE TEMP TABLE f_{e.name} AS {_folded(e)}")
        temps.append(f"f_{e.name}")

    closed = False
    if kinds & _RUN_ROW_KINDS:
        fold(_RUNS)  # runs first: which of them closed decides where their parts go
        run(
            "CREATE OR REPLACE TEMP TABLE closed_now AS SELECT id FROM f_runs "
            f"WHERE status IN {CLOSED}"
        )
        temps.append("closed_now")
        closed = run("SELECT count(*) FROM closed_now").fetchall()[0][0] > 0
        run("DELETE FROM runs_open WHERE id IN (SELECT id FROM f_runs)")
        still_open = f"NOT coalesce(status IN {CLOSED}, false)"
        run(f"INSERT INTO runs_open SELECT * FROM f_runs WHERE {still_open}")
        if closed:
            run(f"INSERT INTO runs_closed SELECT * FROM f_runs WHERE status IN {CLOSED}")
        if kinds & _PATH_ROW_KINDS:
            # The tail's path rows after the earlier ones of their runs (in log_open while
            # open: the tail is not in it yet).
            touched = f"SELECT instance_id FROM tail WHERE kind IN {_PATH_KINDS}"
            rows = (
                "(SELECT * FROM tail UNION ALL SELECT * FROM log_open "
                f"WHERE instance_id IN ({touched}))"
            )
            run(f"INSERT INTO run_path {path_rows(rows, f'seq > {int(done)}')}")
        parts = (_STAGE_RUNS, _STEP_RUNS, _WORK_ITEMS)
        affected = (_STAGE_ROW_KINDS, _STEP_ROW_KINDS, _ITEM_ROW_KINDS)
        folded = [e for e, kinds_of in zip(parts, affected, strict=True) if kinds & kinds_of]
        for e in folded:
            fold(e)
        if _STAGE_RUNS in folded:  # before anything moves: the stages' steps are all open
            _split_stages(con, _STEP_RUNS in folded)
        if "EndInstance" in kinds:
            RUN_DURATIONS.fold(con, "f_runs")
        if _STEP_RUNS in folded and "EndStep" in kinds:
            STEP_DURATIONS.fold(con, "f_step_runs")
        for e in parts:
            if e in folded:
                _store_folded(con, e, closed)
            elif closed:
                _close_untouched(con, e)
        run(
            "INSERT INTO log_open SELECT * FROM tail "
            "WHERE instance_id IN (SELECT id FROM runs_open)"
        )
    if closed:
        run("DELETE FROM log_open WHERE instance_id IN (SELECT id FROM closed_now)")
    if kinds & {"CreateRecord", "UpdateRecord"}:
        fold(_RECORDS)
        run("DELETE FROM records WHERE id IN (SELECT id FROM f_records)")
        run("INSERT INTO records SELECT * FROM f_records")
    if kinds & {"StartWorkItem", "ReassignWorkItem"}:
        run(f"INSERT INTO outbox {APPENDED['outbox'][1]}")
        run(
            "CREATE OR REPLACE TEMP TABLE t_routing AS SELECT assignee AS queue, "
            "arg_max(payload::JSON->>'$.owner', seq) AS owner, max(seq) AS seq FROM tail "
            f"WHERE {_ASSIGN} AND assignee_type = 'Queue' "
            "AND payload::JSON->>'$.owner' IS NOT NULL GROUP BY assignee"
        )
        temps.append("t_routing")
        run("DELETE FROM queue_routing WHERE queue IN (SELECT queue FROM t_routing)")
        run("INSERT INTO queue_routing SELECT * FROM t_routing")
    if "TakeOutcome" in kinds:
        run(f"INSERT INTO decision_outcomes {APPENDED['decision_outcomes'][1]}")
    for temp in temps:
        run(f"DROP TABLE {temp}")
    run("DROP VIEW tail")


_STAGE_ROW_KINDS = {"StartStage", "EndStage", "DiscontinueStage", "FailStage"} | {
    "StartStep", "EndStep", "FailStep", "DiscontinueStep"
} | {"SuspendInstance", "ResumeInstance", "CancelInstance"}  # fmt: skip
_STEP_ROW_KINDS = {"StartStage", "StartStep", "EndStep", "FailStep", "DiscontinueStep"}
_ITEM_ROW_KINDS = {"StartWorkItem", "EndWorkItem", "ReassignWorkItem"}
_PATH_ROW_KINDS = {"StartInstance", "StartStage", "FailStage", "TakeOutcome", "EndInstance"} | {
    "CancelInstance", "FailInstance"
}  # fmt: skip
_RUN_ROW_KINDS = (
    {"StartInstance", "EndInstance", "CancelInstance", "FailInstance", "SuspendInstance"}
    | {"ResumeInstance", "TakeOutcome", "PublishEvent"}
    | _STAGE_ROW_KINDS
    | _STEP_ROW_KINDS
    | _ITEM_ROW_KINDS
)


def stage_split(stages: str, steps: str) -> str:
    """busy and person seconds of each stage run in `stages` (id, start_date, end_date: ended
    ones), from its step runs in `steps`: the union of the steps' intervals, clipped to the
    stage's, over all steps (busy) and over interactive ones (person). An engine call's rows
    share one time, so a step ended in the call that ended its stage ends with it, whether
    or not its row was folded yet."""
    spans = (
        "SELECT p.stage_instance_id, greatest(p.start_date, st.start_date) AS start_date, "
        "least(coalesce(p.end_date, st.end_date), st.end_date) AS end_date, g.grp "
        f"FROM {steps} p JOIN {stages} st ON st.id = p.stage_instance_id "
        "JOIN (SELECT 'busy' AS grp UNION ALL SELECT 'person') g "
        "ON g.grp = 'busy' OR p.step_type = 'InteractiveStep' "
        "WHERE p.start_date IS NOT NULL AND p.start_date <= st.end_date"
    )
    return covered(spans)


def covered(spans: str) -> str:
    """Per stage run of `spans` (stage_instance_id, start_date, end_date, grp): the seconds
    covered by its spans of each grp ('busy', 'person'): a union of intervals ("islands":
    sorted by start, a new island starts where a span starts after all earlier ones end)."""
    w = "PARTITION BY stage_instance_id, grp ORDER BY start_date, end_date"
    marked = (
        f"SELECT *, CASE WHEN start_date <= max(end_date) OVER ({w} ROWS BETWEEN UNBOUNDED "
        f"PRECEDING AND 1 PRECEDING) THEN 0 ELSE 1 END AS new_island FROM ({spans}) AS s"
    )
    islands = f"SELECT *, sum(new_island) OVER ({w} ROWS UNBOUNDED PRECEDING) AS island " + (
        f"FROM ({marked}) AS m"
    )
    secs = "date_diff('millisecond', min(start_date), max(end_date)) / 1000.0"
    return (
        "SELECT stage_instance_id, sum(CASE WHEN grp = 'busy' THEN secs ELSE 0 END) AS busy, "
        "sum(CASE WHEN grp = 'person' THEN secs ELSE 0 END) AS person "
        f"FROM (SELECT stage_instance_id, grp, island, {secs} AS secs FROM ({islands}) AS i "
        "GROUP BY stage_instance_id, grp, island) AS c GROUP BY stage_instance_id"
    )


def _split_stages(con: duckdb.DuckDBPyConnection, steps_folded: bool) -> None:
    """busy/person seconds of the folded stage runs that have ended (0 without steps)."""
    steps = "step_runs_open"
    if steps_folded:
        steps = (
            "(SELECT * FROM f_step_runs UNION ALL SELECT * FROM step_runs_open "
            "WHERE id NOT IN (SELECT id FROM f_step_runs))"
        )
    ended = "(SELECT id, start_date, end_date FROM f_stage_runs WHERE end_date IS NOT NULL)"
    con.execute(
        "UPDATE f_stage_runs SET busy_seconds = coalesce(x.busy, 0), "
        "person_seconds = coalesce(x.person, 0) "
        f"FROM (SELECT e.id, c.busy, c.person FROM {ended} e "
        f"LEFT JOIN ({stage_split(ended, steps)}) c ON c.stage_instance_id = e.id) x "
        "WHERE f_stage_runs.id = x.id"
    )


def _store_folded(con: duckdb.DuckDBPyConnection, e: Entity, closed: bool) -> None:
    """Folded rows to their half: the closed one if their run closed in this fold (written
    once, not first to the open half), and the run's untouched open rows with them."""
    con.execute(f"DELETE FROM {e.name}_open WHERE id IN (SELECT id FROM f_{e.name})")
    if not closed:
        con.execute(f"INSERT INTO {e.name}_open SELECT * FROM f_{e.name}")
        return
    ended = f"{e.run} IN (SELECT id FROM closed_now)"
    con.execute(f"INSERT INTO {e.name}_open SELECT * FROM f_{e.name} WHERE NOT ({ended})")
    con.execute(f"INSERT INTO {e.name}_closed SELECT * FROM f_{e.name} WHERE {ended}")
    _close_untouched(con, e)


def _close_untouched(con: duckdb.DuckDBPyConnection, e: Entity) -> None:
    ended = f"{e.run} IN (SELECT id FROM closed_now)"
    con.execute(f"INSERT INTO {e.name}_closed SELECT * FROM {e.name}_open WHERE {ended}")
    con.execute(f"DELETE FROM {e.name}_open WHERE {ended}")
