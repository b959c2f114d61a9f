"""The history schema: the log, the tables folded from it, and the schema version.

The `log` table is the source of truth (one row per milestone, appended once per engine
call). The current-state tables (runs, stage runs, step runs, work items, records, the
outbox, decision outcomes) are folded from it by `orchlab.store.materialize`, so they can
always be rebuilt from it. Column names follow the Salesforce objects' fields in snake_case,
so imported and native history share them. docs/schema.md lists every table and column.
"""

from __future__ import annotations

from orchlab.store.materialize import (
    COUNTED,
    ENTITIES,
    RUN_PATH,
    path_rows,
    stage_split,
    step_order,
    table_ddl,
    view_ddl,
)

__all__ = ["SCHEMA_VERSION", "TABLES", "PUBLIC", "DDL", "LOG_COLUMNS", "MIGRATIONS"]

SCHEMA_VERSION = 4

LOG_COLUMNS = """
        seq BIGINT NOT NULL, timestamp TIMESTAMP NOT NULL, kind VARCHAR NOT NULL,
        instance_id VARCHAR, orchestration_name VARCHAR, orchestration_version INTEGER,
        stage_instance_id VARCHAR, stage_name VARCHAR, step_instance_id VARCHAR, step_name VARCHAR,
        work_item_id VARCHAR, status VARCHAR, actor VARCHAR, assignee VARCHAR,
        assignee_type VARCHAR, context VARCHAR, duration DOUBLE, comments VARCHAR, payload VARCHAR,
        source VARCHAR NOT NULL DEFAULT 'live'"""

TABLES: dict[str, str] = {
    "orchlab_meta": "key VARCHAR PRIMARY KEY, value VARCHAR",
    "log": LOG_COLUMNS,
    "log_open": LOG_COLUMNS,  # the log rows of runs that can still move: what a reopen replays
    "definitions": """
        name VARCHAR NOT NULL, version INTEGER NOT NULL, label VARCHAR, status VARCHAR NOT NULL,
        is_template BOOLEAN NOT NULL, source_template VARCHAR, saved_date TIMESTAMP NOT NULL,
        definition VARCHAR NOT NULL, PRIMARY KEY (name, version)""",
    "definition_steps": """
        orchestration_name VARCHAR NOT NULL, orchestration_version INTEGER NOT NULL,
        stage_name VARCHAR NOT NULL, stage_label VARCHAR, stage_position INTEGER,
        step_position INTEGER, step_name VARCHAR NOT NULL, step_label VARCHAR,
        step_type VARCHAR NOT NULL, assignee VARCHAR, assignee_type VARCHAR""",
    "users": "username VARCHAR PRIMARY KEY, name VARCHAR, email VARCHAR, is_admin BOOLEAN",
    "directory_groups": (
        "name VARCHAR PRIMARY KEY, label VARCHAR, kind VARCHAR, routing VARCHAR, email VARCHAR"
    ),
    "members": "group_name VARCHAR NOT NULL, username VARCHAR NOT NULL",
    # A cache, not history: the open runs' state as an engine last held it (see
    # orchlab.engine.snapshot); files without it (or with an old one) are replayed instead.
    "engine_snapshot": "position BIGINT NOT NULL, id VARCHAR NOT NULL, data VARCHAR NOT NULL",
}


# What analysts query: the Salesforce objects' names (runs, ...) and orchlab's own.
PUBLIC = (
    "runs",
    "stage_runs",
    "step_runs",
    "work_items",
    "records",
    "outbox",
    "decision_outcomes",
    "run_path",
    "run_durations",
    "step_durations",
)


def DDL() -> list[str]:
    statements = [f"CREATE TABLE IF NOT EXISTS {name} ({cols})" for name, cols in TABLES.items()]
    return statements + table_ddl() + view_ddl()


def _v1_to_v2() -> list[str]:
    """1 -> 2: the current-state views over the whole log become tables folded from it.

    The old views are dropped, the new tables and views created empty, and the mark set to
    0, so the first open folds the whole log once (then only what is new).
    """
    drop = [
        f"DROP VIEW IF EXISTS {v}"
        for v in ("runs", "stage_runs", "step_runs", "work_items", "records", "outbox")
    ]
    return [
        *drop,
        f"CREATE TABLE IF NOT EXISTS log_open ({LOG_COLUMNS})",
        *table_ddl(),
        *view_ddl(),
        "INSERT OR REPLACE INTO orchlab_meta VALUES ('materialized_seq', '0')",
    ]


_V3_STEP_COLUMNS = {"orchestration_version", "previous_step_name", "previous_end_date"}
_V3_STEP_COLUMNS |= {"next_end_date"}


def _stage_split_v3() -> list[str]:
    """Ended stage runs get their busy and person seconds, from their step runs."""
    stages = next(e for e in ENTITIES if e.name == "stage_runs")
    ended = " UNION ALL ".join(
        f"SELECT id, start_date, end_date FROM stage_runs_{h} WHERE end_date IS NOT NULL"
        for h in ("open", "closed")
    )
    steps = " UNION ALL ".join(
        f"SELECT stage_instance_id, start_date, end_date, step_type FROM step_runs_{h}"
        for h in ("open", "closed")
    )
    split = {
        "busy_seconds": "CASE WHEN s.end_date IS NOT NULL THEN coalesce(c.busy, 0) END",
        "person_seconds": "CASE WHEN s.end_date IS NOT NULL THEN coalesce(c.person, 0) END",
    }
    out = [
        "DROP VIEW IF EXISTS stage_runs",
        f"CREATE TEMP TABLE v3_split AS {stage_split(f'({ended})', f'({steps})')}",
    ]
    cols = ", ".join(f'{split.get(c.name, f"s.{c.name}")} AS "{c.name}"' for c in stages.cols)
    for half in ("open", "closed"):
        table = f"stage_runs_{half}"
        out += [
            f"CREATE TABLE {table}_v3 AS SELECT {cols} FROM {table} s "
            "LEFT JOIN v3_split c ON c.stage_instance_id = s.id",
            f"DROP TABLE {table}",
            f"ALTER TABLE {table}_v3 RENAME TO {table}",
        ]
    return [*out, "DROP TABLE v3_split"]


def _v2_to_v3() -> list[str]:
    """2 -> 3: step runs get their run's orchestration_version and their previous and next
    completed step (what directly-follows and first/last questions read without a window),
    and the runs' paths get a table (`run_path`).

    Each half is rebuilt in one pass (the new columns in their place); a run's step runs
    are all in one half, so the order is computed within it. `run_path` is filled from the
    log rows folded so far; later ones are folded as usual.
    """
    out = _stage_split_v3()
    steps = next(e for e in ENTITIES if e.name == "step_runs")
    out += ["DROP VIEW IF EXISTS step_runs"]
    for half in ("open", "closed"):
        table = f"step_runs_{half}"
        kept = ", ".join(f's."{c.name}"' for c in steps.cols if c.name not in _V3_STEP_COLUMNS)
        versioned = (
            f"SELECT {kept}, r.orchestration_version FROM {table} s "
            "LEFT JOIN runs r ON r.id = s.orchestration_instance_id"
        )
        cols = ", ".join(f'"{c.name}"' for c in steps.cols)
        out += [
            f"CREATE TABLE {table}_v3 AS SELECT {cols} FROM ({step_order(f'({versioned})')})",
            f"DROP TABLE {table}",
            f"ALTER TABLE {table}_v3 RENAME TO {table}",
        ]
    folded = (
        "(SELECT * FROM log WHERE seq <= (SELECT CAST(value AS BIGINT) FROM orchlab_meta "
        "WHERE key = 'materialized_seq'))"
    )
    out += [
        "DROP TABLE IF EXISTS run_path",  # from 1 it is there, empty: nothing was folded
        f"CREATE TABLE run_path ({RUN_PATH})",
        f"INSERT INTO run_path {path_rows(folded, 'TRUE')}",
    ]
    return out + view_ddl()


def _v3_to_v4() -> list[str]:
    """run_durations and step_durations, counted from the runs and step runs folded so far."""
    out = []
    for c in COUNTED:
        out += [
            f"DROP TABLE IF EXISTS {c.table}",  # from 1 or 2 it is there, empty
            c.ddl,
            f"INSERT INTO {c.table} {c.counts(c.of)}",
        ]
    return out


# from_version -> the statements upgrading a history file from it to from_version + 1.
MIGRATIONS = {1: _v1_to_v2, 2: _v2_to_v3, 3: _v3_to_v4}
