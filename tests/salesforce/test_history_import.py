"""import_history on hand-written exports: formats, edge cases, idempotence, increments."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

import orchlab.salesforce as sf
from orchlab.errors import HistoryImportError
from orchlab.salesforce.history_values import BadValue, parse_datetime
from orchlab.store import HistoryStore

RUN = "0jE5g000000AbCdEAK"
RUN2 = "0jE5g000000AbCeEAK"
STAGE1 = "0jF5g000000XyZ1EAK"
STAGE2 = "0jF5g000000XyZ2EAK"
STEP1 = "0jL5g000000Qq11EAK"
STEP2 = "0jL5g000000Qq12EAK"
ITEM = "0jR5g000000Ww01EAK"

RUNS_CSV = (
    '"ID","NAME","STATUS","ORCHESTRATIONDEVELOPERNAME","CREATEDDATE","LASTMODIFIEDDATE",'
    '"DURATION"\n'
    f'"{RUN}","OR-000001","{{status}}","Onboarding","2024-03-01T10:00:00.000Z",'
    f'"2024-03-01T12:00:00.000Z","{{duration}}"\n'
)
STAGES_CSV = (
    "Id,Name,Label,OrchestrationInstanceId,Position,Status,CreatedDate,LastModifiedDate\n"
    f"{STAGE1},Intake,Intake,{RUN},1,Completed,2024-03-01T10:00:00.000Z,2024-03-01T11:00:00.000Z\n"
    f"{STAGE2},Review,Review,{RUN},2,{{stage2}},2024-03-01T11:00:00.000Z,{{stage2_end}}\n"
)
STEPS_CSV = (
    "Id,Name,Label,OrchestrationInstanceId,StageInstanceId,Status,StepType,CreatedDate,"
    "LastModifiedDate\n"
    f"{STEP1},Prepare,Prepare,{RUN},{STAGE1},Completed,BackgroundStep,"
    "2024-03-01T10:00:00.000Z,2024-03-01T11:00:00.000Z\n"
    f"{STEP2},Approve,Approve it,{RUN},{STAGE2},{{step2}},InteractiveStep,"
    "2024-03-01T11:00:00.000Z,{stage2_end}\n"
)
ITEMS_CSV = (
    "Id,Label,Status,Assignee.Name,Assignee.Type,StepInstanceId,ScreenFlow,CreatedDate,"
    "LastModifiedDate\n"
    f"{ITEM},Approve it,{{item}},managers,Group,{STEP2},approve_screen,"
    "2024-03-01T11:00:00.000Z,{stage2_end}\n"
)


def write_run(folder: Path, *, done: bool) -> Path:
    """One run of two stages: the second (an approval) open, or completed at 12:00."""
    folder.mkdir(parents=True, exist_ok=True)
    end = "2024-03-01T12:00:00.000Z" if done else "2024-03-01T11:00:00.000Z"
    fill = {
        "status": "Completed" if done else "InProgress",
        "duration": "7200" if done else "3600",
        "stage2": "Completed" if done else "InProgress",
        "step2": "Completed" if done else "InProgress",
        "item": "Completed" if done else "Assigned",
        "stage2_end": end,
    }
    for name, text in (
        ("FlowOrchestrationInstance.csv", RUNS_CSV),
        ("FlowOrchestrationStageInstance.csv", STAGES_CSV),
        ("FlowOrchestrationStepInstance.csv", STEPS_CSV),
        ("FlowOrchestrationWorkItem.csv", ITEMS_CSV),
    ):
        (folder / name).write_text(text.format(**fill), encoding="utf-8")
    return folder


def tables(store: HistoryStore) -> dict[str, list[tuple]]:
    return {
        t: store.execute(f"SELECT * FROM {t} ORDER BY ALL")
        for t in ("log", "runs", "stage_runs", "step_runs", "work_items")
    }


def test_entity_exports_fold_into_the_tables_marked_imported(tmp_path):
    store = HistoryStore()
    report = sf.import_history(write_run(tmp_path / "a", done=False), store)
    assert report.rejected == [] and report.read == 6
    assert report.added == {
        "FlowOrchestrationInstance": 1,
        "FlowOrchestrationStageInstance": 2,
        "FlowOrchestrationStepInstance": 2,
        "FlowOrchestrationWorkItem": 1,
    }
    (run,) = store.execute("SELECT id, orchestration_name, status, current_stage, source FROM runs")
    assert run == (RUN, "Onboarding", "InProgress", "Review", "imported")
    steps = store.execute("SELECT name, label, step_type, status FROM step_runs ORDER BY name")
    assert steps == [
        ("Approve", "Approve it", "InteractiveStep", "InProgress"),
        ("Prepare", "Prepare", "BackgroundStep", "Completed"),
    ]
    (item,) = store.execute("SELECT status, assignee_id, screen_flow, source FROM work_items")
    assert item == ("Assigned", "managers", "approve_screen", "imported")
    assert {s for (s,) in store.execute("SELECT DISTINCT source FROM log")} == {"imported"}


def test_the_same_export_twice_changes_nothing(tmp_path):
    path = tmp_path / "history.duckdb"
    folder = write_run(tmp_path / "a", done=False)
    with HistoryStore(path) as store:
        sf.import_history(folder, store)
        before = tables(store)
        again = sf.import_history(folder, store)
        assert tables(store) == before
    assert again.rows_written == 0 and again.total_added == again.total_updated == 0
    assert sum(again.unchanged.values()) == 6
    with HistoryStore(path) as reopened:  # and what is on disk is that too
        assert tables(reopened) == before


def test_a_newer_export_completes_what_was_in_progress(tmp_path):
    store = HistoryStore()
    sf.import_history(write_run(tmp_path / "a", done=False), store)
    report = sf.import_history(write_run(tmp_path / "b", done=True), store)
    assert report.total_added == 0
    assert report.updated == {
        "FlowOrchestrationInstance": 1,
        "FlowOrchestrationStageInstance": 1,
        "FlowOrchestrationStepInstance": 1,
        "FlowOrchestrationWorkItem": 1,
    }
    (run,) = store.execute("SELECT status, completed_date, duration FROM runs")
    assert run == ("Completed", dt.datetime(2024, 3, 1, 12), 7200)
    assert store.execute("SELECT status FROM work_items") == [("Completed",)]
    assert store.execute("SELECT count(*) FROM runs") == [(1,)]  # updated, not duplicated
    later = sf.import_history(write_run(tmp_path / "c", done=True), store)
    assert later.rows_written == 0


def test_headers_in_any_case_with_a_bom_and_quoted_newlines(tmp_path):
    (tmp_path / "FlowOrchestrationInstance.csv").write_bytes(  # Windows line ends, too
        "\ufeffid,name,STATUS,OrchestrationName,createddate\r\n"
        f"{RUN},OR-1,InProgress,Onboarding,2024-03-01T10:00:00.000+0000\r\n".encode()
    )
    (tmp_path / "FlowOrchestrationLog.csv").write_text(
        "ORCHESTRATIONINSTANCEID,KIND,TIMESTAMP,STAGENAME,COMMENTS\n"
        f'{RUN},StartInstance,2024-03-01T10:00:00.000Z,,"line one\nline two"\n'
        f"{RUN},StartStage,2024-03-01T11:30:00.000+01:00,Intake,\n",
        encoding="utf-8",
    )
    store = HistoryStore()
    report = sf.import_history(tmp_path, store)
    assert report.rejected == []
    assert store.execute("SELECT id, orchestration_name FROM runs") == [(RUN, "Onboarding")]
    comments = store.execute("SELECT comments FROM log WHERE kind = 'StartInstance'")
    assert comments == [("line one\nline two",)]
    (stage,) = store.execute("SELECT name, start_date FROM stage_runs")
    assert stage == ("Intake", dt.datetime(2024, 3, 1, 10, 30))  # +01:00 -> UTC


def test_bad_rows_are_rejected_with_where_and_why_and_the_rest_imported(tmp_path):
    (tmp_path / "FlowOrchestrationInstance.csv").write_text(
        "Id,Status,OrchestrationName,CreatedDate,LastModifiedDate\n"
        f"{RUN},InProgress,Onboarding,2024-03-01T10:00:00.000Z,2024-03-01T10:00:00.000Z\n"
        f"{RUN2},Paused,Onboarding,2024-03-01T10:00:00.000Z,\n"
        "not-an-id,InProgress,Onboarding,2024-03-01T10:00:00.000Z,\n"
        f"{RUN},Canceled,Onboarding,2024-03-01T10:00:00.000Z,2024-03-01T11:00:00.000Z\n"
        f"{RUN2[:-1]}X,InProgress,Onboarding,yesterday,\n",
        encoding="utf-8",
    )
    (tmp_path / "FlowOrchestrationStageInstance.csv").write_text(
        "Id,Name,OrchestrationInstanceId,Status,CreatedDate\n"
        f"{STAGE1},Intake,{RUN2},InProgress,2024-03-01T10:00:00.000Z\n"
        f"{STAGE2},Intake,{RUN},InProgress,2024-03-01T10:00:00.000Z\n",
        encoding="utf-8",
    )
    store = HistoryStore()
    report = sf.import_history(tmp_path, store)
    got = {(Path(r.file).name, r.where, r.field) for r in report.rejected}
    assert got == {
        ("FlowOrchestrationInstance.csv", "line 3", "Status"),  # an unknown status
        ("FlowOrchestrationInstance.csv", "line 4", "Id"),  # not an Id
        ("FlowOrchestrationInstance.csv", "line 2", "Id"),  # a duplicate, older copy
        ("FlowOrchestrationInstance.csv", "line 6", "CreatedDate"),
        ("FlowOrchestrationStageInstance.csv", "line 2", "OrchestrationInstanceId"),  # no run
    }
    reasons = {r.field: r.expected for r in report.rejected}
    assert "'Paused': expected one of Canceled, Completed" in reasons["Status"]
    assert "line 5" in str(report) and "yesterday" in str(report)
    assert store.execute("SELECT id, status, completed_date FROM runs") == [
        (RUN, "Canceled", dt.datetime(2024, 3, 1, 11))  # the copy modified later
    ]
    assert store.execute("SELECT id FROM stage_runs") == [(STAGE2,)]


def test_an_unreadable_file_stores_nothing(tmp_path):
    folder = write_run(tmp_path / "a", done=False)
    (folder / "FlowOrchestrationLog.json").write_text('{"records": [', encoding="utf-8")
    store = HistoryStore()
    with pytest.raises(HistoryImportError, match=r"FlowOrchestrationLog.json: line 1: not JSON"):
        sf.import_history(folder, store)
    assert store.execute("SELECT count(*) FROM log") == [(0,)]
    with pytest.raises(HistoryImportError, match="no such file"):
        sf.import_history(tmp_path / "missing", store)


def test_sf_cli_json_with_nested_relationships_and_empty_strings(tmp_path):
    records = [
        {
            "attributes": {"type": "FlowOrchestrationWorkItem", "url": "/services/data/v62.0/x"},
            "Id": ITEM,
            "Label": "",  # Salesforce keeps no empty text: the same as null
            "Status": "Assigned",
            "Assignee": {"attributes": {"type": "Name"}, "Name": "olivia", "Type": "User"},
            "StepInstanceId": STEP2,
            "StepInstance": None,
            "CreatedDate": "2024-03-01T11:00:00.000+0000",
        }
    ]
    result = {"totalSize": 1, "done": True, "records": records}
    (tmp_path / "items.json").write_text(json.dumps({"status": 0, "result": result}))
    store = HistoryStore()
    sf.import_history(write_run(tmp_path / "a", done=False), store)
    report = sf.import_history(tmp_path / "items.json", store)
    assert report.files[0][1:3] == ("FlowOrchestrationWorkItem", "json")
    assert store.execute("SELECT label, assignee_id, assignee_type FROM work_items") == [
        ("Approve it", "managers", "Group")  # the first import's values: first columns keep
    ]
    failed = {"status": 1, "message": "INVALID_TYPE: sObject type not supported"}
    (tmp_path / "bad.json").write_text(json.dumps(failed))
    with pytest.raises(HistoryImportError, match="INVALID_TYPE"):
        sf.import_history(tmp_path / "bad.json", store)


def test_a_run_log_alone_makes_up_what_it_names_rows_out_of_order(tmp_path):
    rows = [
        ("EndStage", "2024-03-01T10:05:00Z", "Intake", ""),
        ("StartStep", "2024-03-01T10:00:00Z", "Intake", "Prepare"),
        ("StartInstance", "2024-03-01T10:00:00Z", "", ""),
        ("EndStep", "2024-03-01T10:05:00Z", "Intake", "Prepare"),
        ("StartStage", "2024-03-01T10:00:00Z", "Intake", ""),
        ("StartStage", "2024-03-01T10:05:00Z", "Review", ""),
        ("Teleport", "2024-03-01T10:06:00Z", "Review", ""),
    ]
    text = "OrchestrationInstanceId,OrchestrationName,OrchestrationVersion,Kind,Timestamp,"
    text += "StageName,StepName\n"
    text += "".join(f"{RUN},Onboarding,3,{k},{t},{s},{p}\n" for k, t, s, p in rows)
    (tmp_path / "FlowOrchestrationLog.csv").write_text(text)
    store = HistoryStore()
    report = sf.import_history(tmp_path, store)
    (unknown,) = report.rejected  # a milestone orchlab does not know is never guessed
    assert (unknown.where, unknown.field) == ("line 8", "Kind")
    assert unknown.expected.startswith("'Teleport': expected one of StartInstance, ")
    runs = store.execute(
        "SELECT orchestration_name, orchestration_version, status, current_stage FROM runs"
    )
    assert runs == [("Onboarding", 3, "InProgress", "Review")]
    stages = store.execute("SELECT name, status, sequence FROM stage_runs ORDER BY sequence")
    assert stages == [("Intake", "Completed", 1), ("Review", "InProgress", 2)]
    assert store.execute("SELECT status, duration FROM step_runs") == [("Completed", 300)]
    (orch,) = report.orchestrations  # implied by the rows
    assert [s.name for s in orch.stages] == ["Intake", "Review"]


def test_report_export_with_labels_local_times_and_a_footer(tmp_path):
    (tmp_path / "Orchestration Runs.csv").write_text(
        '\ufeff"Orchestration Run ID","Orchestration Run Name","Status","Orchestration Name",'
        '"Created Date"\n'
        f'"{RUN}","OR-1","In Progress","Onboarding","3/1/2024, 10:00 AM"\n'
        "\n"
        '"Grand Totals (1 record)"\n'
        '"Confidential Information - Do Not Distribute"\n',
        encoding="utf-8",
    )
    store = HistoryStore()
    report = sf.import_history(tmp_path, store, timezone="America/New_York")
    assert report.files[0][2] == "report" and report.read == 1 and report.rejected == []
    assert store.execute("SELECT status, created_date FROM runs") == [
        ("InProgress", dt.datetime(2024, 3, 1, 15))  # 10:00 in New York (EST) is 15:00 UTC
    ]
    with pytest.raises(HistoryImportError, match="IANA time zone"):
        sf.import_history(tmp_path, store, timezone="Mars/Olympus")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2024-03-01T10:00:00.000+0000", dt.datetime(2024, 3, 1, 10)),
        ("2024-03-01T10:00:00Z", dt.datetime(2024, 3, 1, 10)),
        ("2024-03-01T10:00:00.250-05:00", dt.datetime(2024, 3, 1, 15, 0, 0, 250000)),
        ("2024-03-01 10:00:00", dt.datetime(2024, 3, 1, 10)),
        ("3/1/2024, 1:05 PM", dt.datetime(2024, 3, 1, 13, 5)),
        ("12/31/2023 12:00 AM", dt.datetime(2023, 12, 31, 0, 0)),
    ],
)
def test_datetimes_become_naive_utc(text, expected):
    assert parse_datetime(text) == expected


def test_datetimes_that_are_not_refuse_clearly():
    with pytest.raises(BadValue, match="expected a datetime such as"):
        parse_datetime("soon")
    with pytest.raises(BadValue, match="not a real date"):
        parse_datetime("2024-02-30T10:00:00Z")
    assert parse_datetime("1/3/2024 10:00", day_first=True) == dt.datetime(2024, 3, 1, 10)


def test_relationship_names_stand_in_for_missing_ids(tmp_path):
    """Stage runs naming their run by FlowOrchestrationInstance.Name, step runs naming their
    stage only by OrchestrationStageName: both find their parent."""
    (tmp_path / "FlowOrchestrationInstance.csv").write_text(
        f"Id,Name,Status,OrchestrationName,CreatedDate\n{RUN},OR-7,InProgress,Onboarding,"
        "2024-03-01T10:00:00.000Z\n",
        encoding="utf-8",
    )
    (tmp_path / "FlowOrchestrationStageInstance.csv").write_text(
        "Id,Name,FlowOrchestrationInstance.Name,Status,CreatedDate\n"
        f"{STAGE1},Intake,OR-7,InProgress,2024-03-01T10:00:00.000Z\n",
        encoding="utf-8",
    )
    (tmp_path / "FlowOrchestrationStepInstance.csv").write_text(
        "Id,Name,OrchestrationInstanceId,OrchestrationStageName,Status,CreatedDate\n"
        f"{STEP1},Prepare,{RUN},Intake,InProgress,2024/03/01 10:00\n",
        encoding="utf-8",
    )
    store = HistoryStore()
    report = sf.import_history(tmp_path, store)
    assert report.rejected == []
    rows = store.execute("SELECT s.orchestration_instance_id, t.stage_instance_id FROM "
                         "stage_runs s JOIN step_runs t ON t.orchestration_instance_id = "
                         "s.orchestration_instance_id")  # fmt: skip
    assert rows == [(RUN, STAGE1)]


def test_a_given_definition_is_checked_against_the_history(tmp_path):
    from orchlab.definition.model import BackgroundStep, Orchestration, Stage

    given = Orchestration("Onboarding", (Stage("Intake", (BackgroundStep("Prepare", "f"),)),))
    report = sf.import_history(write_run(tmp_path, done=True), HistoryStore(), orchestration=given)
    assert report.orchestrations == [given]
    assert report.notes == [
        "Onboarding: stage 'Review' is in the history but not in the definition given "
        "(another version?)"
    ]


def test_a_bad_row_in_a_later_export_leaves_what_was_stored(tmp_path):
    store = HistoryStore()
    sf.import_history(write_run(tmp_path / "a", done=False), store)
    before = tables(store)
    later = write_run(tmp_path / "b", done=True)
    runs = later / "FlowOrchestrationInstance.csv"
    runs.write_text(runs.read_text().replace('"Completed"', '"Finished"'), encoding="utf-8")
    report = sf.import_history(later, store)
    assert [(r.field, r.expected[:11]) for r in report.rejected] == [("Status", "'Finished':")]
    # The rejected run keeps its stored state (its parts' rows only move its last progress).
    assert store.execute("SELECT status, completed_date FROM runs") == [("InProgress", None)]
    assert tables(store)["log"][: len(before["log"])] == before["log"]  # nothing rewritten
    assert store.execute("SELECT status FROM work_items") == [("Completed",)]  # the rest went on


def test_a_suspended_run_resumed_in_a_newer_export(tmp_path):
    def export(folder: Path, status: str, modified: str) -> Path:
        folder.mkdir()
        (folder / "FlowOrchestrationInstance.csv").write_text(
            "Id,Status,OrchestrationName,CreatedDate,LastModifiedDate\n"
            f"{RUN},{status},Onboarding,2024-03-01T10:00:00Z,{modified}\n",
            encoding="utf-8",
        )
        return folder

    store = HistoryStore()
    sf.import_history(export(tmp_path / "a", "Suspended", "2024-03-02T10:00:00Z"), store)
    assert store.execute("SELECT status FROM runs") == [("Suspended",)]
    report = sf.import_history(export(tmp_path / "b", "InProgress", "2024-03-03T10:00:00Z"), store)
    assert report.updated == {"FlowOrchestrationInstance": 1}
    assert store.execute("SELECT status, last_modified_date FROM runs") == [
        ("InProgress", dt.datetime(2024, 3, 3, 10))
    ]
    kinds = store.execute("SELECT kind FROM log ORDER BY seq")
    assert kinds == [("StartInstance",), ("SuspendInstance",), ("ResumeInstance",)]
    assert sf.import_history(tmp_path / "b", store).rows_written == 0


def test_a_later_run_log_belongs_to_the_runs_imported_before(tmp_path):
    store = HistoryStore()
    sf.import_history(write_run(tmp_path / "a", done=False), store)
    rows = [
        ("ReassignWorkItem", "2024-03-01T11:30:00Z", "Review", "Approve", "olivia", "User", ""),
        ("EndWorkItem", "2024-03-01T12:30:00Z", "Review", "Approve", "", "", "olivia"),
        ("EndStep", "2024-03-01T12:30:00Z", "Review", "Approve", "", "", "olivia"),
        ("EndStage", "2024-03-01T12:30:00Z", "Review", "", "", "", ""),
    ]
    text = "OrchestrationInstanceId,Kind,Timestamp,StageName,StepName,Assignee,AssigneeType,"
    text += "Actor\n"
    text += "".join(f"{RUN},{','.join(r)}\n" for r in rows)
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "FlowOrchestrationLog.csv").write_text(text, encoding="utf-8")
    report = sf.import_history(tmp_path / "logs", store)
    assert report.rejected == [] and report.total_added == 0
    assert store.execute("SELECT count(*) FROM stage_runs") == [(2,)]  # no made-up copies
    stage = store.execute("SELECT status, end_date FROM stage_runs WHERE name = 'Review'")
    assert stage == [("Completed", dt.datetime(2024, 3, 1, 12, 30))]
    item = store.execute("SELECT id, status, assignee_id, completed_by FROM work_items")
    assert item == [(ITEM, "Completed", "olivia", "olivia")]


def test_an_event_has_every_log_column():
    from orchlab.salesforce.history_events import Event
    from orchlab.store.row import COLUMNS

    assert set(COLUMNS) - {"seq"} <= set(Event.__dataclass_fields__)


def test_a_report_with_15_character_ids_and_labels_meets_the_api_export(tmp_path):
    store = HistoryStore()
    sf.import_history(write_run(tmp_path / "api", done=False), store)
    (run,) = store.execute("SELECT id FROM runs")[0]
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "Orchestration Run Logs.csv").write_text(
        '"Orchestration Run ID","Milestone","Timestamp","Duration (seconds)"\n'
        f'"{run[:15]}","End Instance","3/1/2024, 12:00 PM","7,200"\n',
        encoding="utf-8",
    )
    report = sf.import_history(tmp_path / "report", store)
    assert report.rejected == [] and report.updated == {"FlowOrchestrationInstance": 1}
    assert store.execute("SELECT id, status, duration FROM runs") == [(run, "Completed", 7200)]


def test_rest_json_with_subqueries_imports_the_children(tmp_path):
    """SELECT Id, ..., (SELECT ... FROM FlowOrchestrationStageInstances) FROM
    FlowOrchestrationInstance, its stages' own step subqueries, in REST pages."""

    def page(records):
        return {"totalSize": len(records), "done": True, "records": records}

    step = {
        "attributes": {"type": "FlowOrchestrationStepInstance"},
        "Id": STEP1,
        "Name": "Prepare",
        "Status": "Completed",
        "StepType": "Background Step",
        "CreatedDate": "2024-03-01T10:00:00.000+0000",
        "LastModifiedDate": "2024-03-01T10:20:00.000+0000",
    }
    stage = {
        "attributes": {"type": "FlowOrchestrationStageInstance"},
        "Id": STAGE1,
        "Name": "Intake",
        "Status": "InProgress",
        "CreatedDate": "2024-03-01T10:00:00.000+0000",
        "FlowOrchestrationStepInstances": page([step]),
    }
    run = {
        "attributes": {"type": "FlowOrchestrationInstance"},
        "Id": RUN,
        "Status": "InProgress",
        "OrchestrationName": "Onboarding",
        "CreatedDate": "2024-03-01T10:00:00.000+0000",
        "FlowOrchestrationStageInstances": page([stage]),
        "FlowOrchestrationWorkItems": None,
    }
    (tmp_path / "runs.json").write_text(json.dumps([page([run])]), encoding="utf-8")
    store = HistoryStore()
    report = sf.import_history(tmp_path, store)
    assert report.rejected == [] and report.notes == []
    assert {obj for _, obj, _, _ in report.files} == {
        "FlowOrchestrationInstance",
        "FlowOrchestrationStageInstance",
        "FlowOrchestrationStepInstance",
    }
    steps = store.execute("SELECT stage_instance_id, step_type, status, duration FROM step_runs")
    assert steps == [(STAGE1, "BackgroundStep", "Completed", 1200)]
