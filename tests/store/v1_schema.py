"""The history schema as orchlab wrote it at schema_version 1 (views over the whole log).

Kept for two tests: a version-1 file must be upgraded when opened, and the version-2 tables
must agree with these views (the old definition of every column) on the same log.
"""

__all__ = ["SCHEMA_VERSION", "TABLES", "VIEWS", "DDL"]

SCHEMA_VERSION = 1

TABLES: dict[str, str] = {
    "orchlab_meta": "key VARCHAR PRIMARY KEY, value VARCHAR",
    "log": """
        seq BIGINT NOT NULL, timestamp TIMESTAMP NOT NULL, kind VARCHAR NOT NULL,
        instance_id VARCHAR, orchestration_name VARCHAR, orchestration_version INTEGER,
        stage_instance_id VARCHAR, stage_name VARCHAR, step_instance_id VARCHAR, step_name VARCHAR,
        work_item_id VARCHAR, status VARCHAR, actor VARCHAR, assignee VARCHAR,
        assignee_type VARCHAR, context VARCHAR, duration DOUBLE, comments VARCHAR, payload VARCHAR,
        source VARCHAR NOT NULL DEFAULT 'live'""",
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
}

_RUN_KINDS = (
    "('StartInstance','EndInstance','CancelInstance','FailInstance','SuspendInstance',"
    "'ResumeInstance')"
)

VIEWS: dict[str, str] = {
    # FlowOrchestrationInstance
    "runs": f"""
        SELECT instance_id AS id,
               any_value(orchestration_name) AS orchestration_name,
               any_value(orchestration_version) AS orchestration_version,
               arg_max(status, seq) FILTER (WHERE kind IN {_RUN_KINDS}) AS status,
               arg_max(stage_name, seq) FILTER (WHERE kind = 'StartStage') AS current_stage,
               any_value(payload::JSON->>'$.record_id') FILTER (WHERE kind = 'StartInstance')
                   AS triggering_record,
               any_value(payload::JSON->>'$.record_type') FILTER (WHERE kind = 'StartInstance')
                   AS triggering_record_type,
               min(timestamp) AS created_date,
               max(timestamp) FILTER (WHERE kind IN ('EndInstance','CancelInstance'))
                   AS completed_date,
               date_diff('second', min(timestamp),
                   coalesce(max(timestamp) FILTER (WHERE kind IN
                   ('EndInstance','CancelInstance','FailInstance')), max(timestamp))) AS duration,
               arg_max(comments, seq) FILTER (WHERE kind = 'FailInstance') AS error,
               max(timestamp) AS last_modified_date,
               any_value(source) AS source
        FROM log WHERE instance_id IS NOT NULL
        GROUP BY instance_id""",
    # FlowOrchestrationStageInstance
    "stage_runs": """
        SELECT stage_instance_id AS id, any_value(instance_id) AS orchestration_instance_id,
               any_value(orchestration_name) AS orchestration_name, any_value(stage_name) AS name,
               any_value(payload::JSON->>'$.label') FILTER (WHERE kind = 'StartStage') AS label,
               any_value((payload::JSON->>'$.position')::INTEGER) FILTER (WHERE kind = 'StartStage')
                   AS position,
               arg_max(status, seq) FILTER (WHERE kind IN ('StartStage','EndStage',
                   'DiscontinueStage','FailStage','SuspendInstance','ResumeInstance')) AS status,
               min(timestamp) AS start_date,
               max(timestamp) FILTER (WHERE kind IN ('EndStage','DiscontinueStage','FailStage'))
                   AS end_date,
               row_number() OVER (PARTITION BY any_value(instance_id) ORDER BY min(seq))
                   AS sequence
        FROM log WHERE stage_instance_id IS NOT NULL AND work_item_id IS NULL
        GROUP BY stage_instance_id""",
    # FlowOrchestrationStepInstance: every step of a started stage, NotStarted until it starts
    "step_runs": """
        WITH started AS (
            SELECT instance_id, orchestration_name, orchestration_version, stage_instance_id,
                   stage_name, timestamp FROM log WHERE kind = 'StartStage'),
        planned AS (
            SELECT s.stage_instance_id || '-' || d.step_position AS id, s.instance_id,
                   s.stage_instance_id, s.orchestration_name, s.stage_name, d.step_name,
                   d.step_label, d.step_type
            FROM started s JOIN definition_steps d
              ON d.orchestration_name = s.orchestration_name
             AND d.orchestration_version = s.orchestration_version
             AND d.stage_name = s.stage_name),
        events AS (
            SELECT step_instance_id,
                   arg_max(status, seq) AS status,
                   min(timestamp) FILTER (WHERE kind = 'StartStep') AS start_date,
                   max(timestamp) FILTER (WHERE kind IN ('EndStep','FailStep','DiscontinueStep'))
                       AS end_date,
                   arg_max(comments, seq) FILTER (WHERE kind = 'FailStep') AS error,
                   arg_max(payload, seq) FILTER (WHERE kind = 'EndStep') AS outputs
            FROM log WHERE step_instance_id IS NOT NULL AND work_item_id IS NULL
                AND kind IN ('StartStep','EndStep','FailStep','DiscontinueStep')
            GROUP BY step_instance_id)
        SELECT p.id, p.instance_id AS orchestration_instance_id,
               p.stage_instance_id, p.orchestration_name, p.stage_name AS orchestration_stage_name,
               p.step_name AS name, p.step_label AS label, p.step_type,
               coalesce(e.status, 'NotStarted') AS status, e.start_date, e.end_date, e.error,
               e.outputs::JSON->'$.outputs' AS outputs
        FROM planned p LEFT JOIN events e ON e.step_instance_id = p.id""",
    # FlowOrchestrationWorkItem
    "work_items": """
        SELECT work_item_id AS id, any_value(instance_id) AS orchestration_instance_id,
               any_value(orchestration_name) AS orchestration_name,
               any_value(step_instance_id) AS step_instance_id, any_value(step_name) AS step_name,
               any_value(payload::JSON->>'$.label') FILTER (WHERE kind = 'StartWorkItem') AS label,
               any_value(payload::JSON->>'$.screen') FILTER (WHERE kind = 'StartWorkItem')
                   AS screen_flow,
               arg_max(status, seq) AS status,
               arg_max(assignee, seq) FILTER (WHERE kind IN ('StartWorkItem','ReassignWorkItem'))
                   AS assignee_id,
               arg_max(assignee_type, seq) FILTER (WHERE kind IN
                   ('StartWorkItem','ReassignWorkItem')) AS assignee_type,
               arg_max(payload::JSON->>'$.owner', seq) FILTER (WHERE kind IN
                   ('StartWorkItem','ReassignWorkItem')) AS owner_id,
               any_value(context) FILTER (WHERE kind = 'StartWorkItem') AS related_record_id,
               min(timestamp) AS created_date,
               max(timestamp) FILTER (WHERE kind IN ('StartWorkItem','ReassignWorkItem'))
                   AS assigned_date,
               max(timestamp) FILTER (WHERE kind = 'EndWorkItem') AS completed_date,
               arg_max(actor, seq) FILTER (WHERE kind = 'EndWorkItem') AS completed_by
        FROM log WHERE work_item_id IS NOT NULL
        GROUP BY work_item_id""",
    "records": """
        SELECT payload::JSON->>'$.id' AS id, arg_max(payload::JSON->>'$.object', seq) AS object,
               arg_max(payload::JSON->'$.fields', seq) AS fields,
               min(timestamp) AS created_date, max(timestamp) AS last_modified_date
        FROM log WHERE kind IN ('CreateRecord','UpdateRecord')
        GROUP BY 1""",
    "outbox": """
        SELECT seq, timestamp, instance_id AS orchestration_instance_id, work_item_id,
               payload::JSON->>'$.notify.to' AS "to",
               payload::JSON->>'$.notify.subject' AS subject,
               payload::JSON->>'$.notify.body' AS body
        FROM log WHERE kind IN ('StartWorkItem', 'ReassignWorkItem')
            AND (payload::JSON->'$.notify') IS NOT NULL""",
}


def DDL() -> list[str]:
    statements = [f"CREATE TABLE IF NOT EXISTS {name} ({cols})" for name, cols in TABLES.items()]
    statements += [f"CREATE OR REPLACE VIEW {name} AS {sql}" for name, sql in VIEWS.items()]
    return statements
