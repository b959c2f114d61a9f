"""Each analysis against answers worked out by hand from the history in conftest.py."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

import orchlab.analysis as oa
from orchlab.analysis import Filters
from orchlab.analysis._sql import sql_text
from orchlab.errors import AnalysisError
from orchlab.store import HistoryStore

from .conftest import DAY1, DAY2, END, at

H = 3600.0
LIVE = Filters(source="live")


def rows(df: pd.DataFrame, *columns: str) -> list[tuple]:
    """The columns as tuples, missing values as None (pandas may give NaN for them)."""
    return [
        tuple(None if v is None or (isinstance(v, float) and v != v) else v for v in r)
        for r in df[list(columns)].itertuples(index=False)
    ]


# --- stalled runs ------------------------------------------------------------------------------


def test_stalled_runs_at_the_end_of_the_history(history: HistoryStore) -> None:
    found = oa.stalled_runs(history, idle=dt.timedelta(hours=1))
    # Only B is open; it last moved at 13:30 on day 1 (Escalation done), 22.5 h before the end.
    assert rows(found, "id", "current_stage", "last_progress", "idle_seconds", "open_items") == [
        ("R000004", "Work", at(DAY1, "13:30"), 22.5 * H, 2)
    ]
    assert found["waiting_on"][0] == "Group Customer_Success, Queue Engineering -> vic"
    assert found["oldest_item_seconds"][0] == 22.5 * H


def test_idle_threshold_is_inclusive_and_excludes_fresher_runs(history: HistoryStore) -> None:
    assert len(oa.stalled_runs(history, idle=dt.timedelta(hours=22.5))) == 1
    assert oa.stalled_runs(history, idle=dt.timedelta(hours=23)).empty


def test_stalled_as_of_a_time_sees_runs_that_closed_later_as_open(history: HistoryStore) -> None:
    as_of = Filters(as_of=at(DAY1, "11:00"))
    found = oa.stalled_runs(history, as_of, idle=dt.timedelta(0))
    # At 11:00: B waits in Triage since 09:30; A (done at 15:00) waits in Work since 10:00;
    # the Loan has just taken its fault path. C was canceled at 10:30, X ended at 09:00.
    assert rows(found, "id", "current_stage", "idle_seconds", "open_items") == [
        ("R000004", "Triage", 1.5 * H, 1),
        ("R000001", "Work", 1 * H, 2),
        ("R000002", "Funding_recovery", 0.0, 1),
    ]
    assert found["waiting_on"].tolist() == [
        "Queue Support_Tier2",
        "Group Customer_Success, Queue Engineering -> bob",  # CSM was done only at 12:00
        "User olivia",
    ]


def test_stalled_work_items_name_whom_each_run_waits_on(history: HistoryStore) -> None:
    found = oa.stalled_work_items(history, idle=dt.timedelta(hours=1))
    assert rows(found, "run_id", "step_name", "assignee_type", "assignee_id", "owner_id") == [
        ("R000004", "Engineering_fix", "Queue", "Engineering", "vic"),
        ("R000004", "CSM_outreach", "Group", "Customer_Success", None),
    ]
    assert found["stage_name"].tolist() == ["Work", "Work"]


def test_open_work_items_of_one_queue(history: HistoryStore) -> None:
    found = oa.open_work_items(history, Filters(assignee="Engineering"))
    assert rows(found, "run_id", "step_name", "owner_id", "age_seconds") == [
        ("R000004", "Engineering_fix", "vic", 22.5 * H)
    ]
    # As of 12:30 on day 1, A's Engineering item (routed to bob) was still open, B's not yet.
    earlier = oa.open_work_items(history, Filters(assignee="bob", as_of=at(DAY1, "12:30")))
    assert rows(earlier, "run_id", "owner_id", "age_seconds") == [("R000001", "bob", 2.5 * H)]


# --- throughput --------------------------------------------------------------------------------


def test_throughput_per_day(history: HistoryStore) -> None:
    found = oa.throughput(history, Filters(orchestration="Case_Escalation"), period="day")
    assert rows(found, "period", "started", "completed", "canceled", "errored", "partial") == [
        # A, B, C and the imported run started; A and the imported run completed; C canceled.
        (pd.Timestamp(DAY1), 4, 2, 1, 0, True),  # the history begins at 08:00
        (pd.Timestamp(DAY2), 0, 0, 0, 0, True),  # it ends at 12:00: zeros are listed too
    ]


def test_throughput_of_live_runs_per_week_and_orchestration(history: HistoryStore) -> None:
    found = oa.throughput(history, LIVE, period="week")
    week = pd.Timestamp(DAY1)  # day 1 is a Monday
    assert rows(found, "orchestration_name", "started", "completed", "canceled") == [
        ("Auto_Score", 1, 1, 0),
        ("Case_Escalation", 3, 1, 1),
        ("Employee_Onboarding", 1, 1, 0),
        ("Loan", 1, 1, 0),
    ]
    assert set(found["period"]) == {week} and found["partial"].all()


def test_throughput_rejects_an_unknown_period(history: HistoryStore) -> None:
    with pytest.raises(AnalysisError, match="period='fortnight': expected one of 'day'"):
        oa.throughput(history, period="fortnight")


# --- cycle times -------------------------------------------------------------------------------


def test_run_cycle_times_only_count_completed_runs(history: HistoryStore) -> None:
    found = oa.cycle_times(history, LIVE, level="run")
    # Case: only A completed (6 h); B is open, C canceled. The Auto run took no time at all.
    assert rows(found, "orchestration_name", "count", "median", "max") == [
        ("Auto_Score", 1, 0.0, 0.0),
        ("Case_Escalation", 1, 6 * H, 6 * H),
        ("Employee_Onboarding", 1, 3 * H, 3 * H),
        ("Loan", 1, 3 * H, 3 * H),
    ]


def test_stage_cycle_times_with_imported_rows(history: HistoryStore) -> None:
    case = Filters(orchestration="Case_Escalation")
    found = oa.cycle_times(history, case, level="stage")
    # Triage: A 1 h, B 2 h, the imported run 45 min (C's was canceled: not completed).
    assert rows(found, "stage_name", "count", "mean", "median", "p90", "max") == [
        ("Triage", 3, 4500.0, H, 2 * H, 2 * H),
        ("Escalation", 1, 2 * H, 2 * H, 2 * H, 2 * H),
        ("Work", 1, 4 * H, 4 * H, 4 * H, 4 * H),
        ("Close", 1, H, H, H, H),
    ]
    imported = oa.cycle_times(history, case.where(source="imported"), level="stage")
    assert rows(imported, "stage_name", "count", "median") == [("Triage", 1, 2700.0)]


def test_step_and_work_item_cycle_times(history: HistoryStore) -> None:
    steps = oa.cycle_times(history, Filters(orchestration="Case_Escalation"), level="step")
    work = steps[steps["stage_name"] == "Work"]
    assert rows(work, "step_name", "step_type", "count", "median") == [
        ("CSM_outreach", "InteractiveStep", 1, 2 * H),
        ("Engineering_fix", "InteractiveStep", 1, 4 * H),
        ("Notify", "BackgroundStep", 2, 0.0),  # automated: no time
    ]
    people = oa.cycle_times(history, level="work_item", by=["completed_by"])
    ada = people[people["completed_by"] == "ada"]
    # ada: A's triage (1 h) and close (1 h), and B's escalation item given to her (2 h).
    assert rows(ada, "step_name", "count", "median") == [
        ("Confirm_close", 1, H),
        ("Escalation_review", 1, 2 * H),
        ("Triage_review", 1, H),
    ]


def test_cycle_time_trend_per_day(history: HistoryStore) -> None:
    found = oa.cycle_times(history, LIVE, level="stage", period="day")
    paperwork = found[found["stage_name"] == "HR_Paperwork"]
    assert rows(paperwork, "period", "count", "median") == [(pd.Timestamp(DAY2), 2, H)]


def test_cycle_times_as_of_a_time(history: HistoryStore) -> None:
    found = oa.cycle_times(history, Filters(as_of=at(DAY1, "11:00")), level="run")
    # By 11:00 only the Auto run and the imported run (ended 09:00) had completed.
    assert rows(found, "orchestration_name", "count") == [
        ("Auto_Score", 1),
        ("Case_Escalation", 1),
    ]


def test_durations_one_row_each(history: HistoryStore) -> None:
    found = oa.durations(history, Filters(orchestration="Case_Escalation"), level="stage")
    triage = found[found["stage_name"] == "Triage"]
    assert sorted(triage["seconds"]) == [2700.0, H, 2 * H]


def test_time_split_person_versus_automated_versus_neither(history: HistoryStore) -> None:
    found = oa.time_split(history, Filters(orchestration="Case_Escalation"))
    triage = found[found["stage_name"] == "Triage"].iloc[0]
    # Triage runs: A 1 h and B 2 h with a work item open; C 30 min until canceled; the
    # imported run 45 min with no step rows at all (neither a person nor automation).
    assert (triage["stage_runs"], triage["elapsed_seconds"]) == (4, 4.25 * H)
    assert (triage["person_seconds"], triage["automated_seconds"]) == (3.5 * H, 0.0)
    assert triage["other_seconds"] == 2700.0
    # Work: A 4 h (10:00-14:00), B 22.5 h so far (13:30 to the end), a person all along.
    work = found[found["stage_name"] == "Work"].iloc[0]
    assert (work["elapsed_seconds"], work["person_share"]) == (26.5 * H, 1.0)
    runs = oa.time_split(history, Filters(orchestration="Auto_Score"), level="run")
    assert rows(runs, "stage_runs", "elapsed_seconds", "person_seconds") == [(1, 0.0, 0.0)]


# --- bottlenecks and backlog -------------------------------------------------------------------


def test_bottleneck_stages_ranked_by_share_of_time(history: HistoryStore) -> None:
    found = oa.bottlenecks(history, Filters(orchestration="Case_Escalation", source="live"))
    # Elapsed: Work 4 h + 22.5 h; Triage 1 + 2 + 0.5 h; Escalation 2 h; Close 1 h. 33 h.
    assert rows(found, "stage_name", "rank", "runs", "wip", "elapsed_seconds") == [
        ("Work", 1, 2, 1, 26.5 * H),
        ("Triage", 2, 3, 0, 3.5 * H),
        ("Escalation", 3, 1, 0, 2 * H),
        ("Close", 4, 1, 0, H),
    ]
    assert found["share"].tolist() == pytest.approx([26.5 / 33, 3.5 / 33, 2 / 33, 1 / 33])
    assert found["oldest_open_seconds"][0] == 22.5 * H


def test_bottleneck_steps(history: HistoryStore) -> None:
    found = oa.bottlenecks(history, Filters(orchestration="Loan"), level="step")
    # Three people's steps took an hour each (a tie for first); the automated ones no time.
    top = found[found["rank"] == 1]
    assert sorted(top["step_name"]) == ["Approve_loan", "Collect_documents", "Resolve_funding"]
    assert top["share"].tolist() == pytest.approx([1 / 3] * 3)
    rest = found[found["rank"] != 1]
    assert set(rest["step_type"]) == {"BackgroundStep", "ExternalStep"}
    assert set(rest["rank"]) == {4} and rest["elapsed_seconds"].sum() == 0


def test_backlog_per_assignee_and_routed_owner(history: HistoryStore) -> None:
    found = oa.backlog(history)
    engineering = found[found["assignee_id"] == "Engineering"].iloc[0]
    assert (engineering["open"], engineering["assigned"], engineering["completed"]) == (1, 2, 1)
    assert engineering["completion_rate"] == 0.5
    assert engineering["oldest_open_seconds"] == 22.5 * H
    assert engineering["median_seconds_to_complete"] == 4 * H
    # The reassigned escalation item counts for its assignee now, ada (not dana).
    assert "dana" not in set(found["assignee_id"])
    ada = found[found["assignee_id"] == "ada"].iloc[0]
    assert (ada["assignee_type"], ada["assigned"], ada["completed"]) == ("User", 2, 2)
    owners = oa.backlog(history, by="owner")
    eng = owners[owners["assignee_id"] == "Engineering"]
    assert rows(eng, "owner_id", "open", "completed") == [("vic", 1, 0), ("bob", 0, 1)]


def test_backlog_as_of_a_time(history: HistoryStore) -> None:
    found = oa.backlog(history, Filters(as_of=at(DAY1, "10:15")))
    tier2 = found[found["assignee_id"] == "Support_Tier2"].iloc[0]
    # At 10:15: A's triage done at 10:00; B's (09:30) and C's (10:00) still open.
    assert (tier2["open"], tier2["completed"], tier2["oldest_open_seconds"]) == (2, 1, 2700.0)
    assert tier2["median_open_seconds"] == 900.0  # of 45 and 15 minutes: the lower


def test_work_in_progress_over_time(history: HistoryStore) -> None:
    found = oa.work_in_progress(history, LIVE, period="day")
    case = found[found["orchestration_name"] == "Case_Escalation"]
    assert rows(case, "period", "entered", "finished", "wip") == [(pd.Timestamp(DAY1), 3, 2, 1)]
    stages = oa.work_in_progress(history, Filters(orchestration="Employee_Onboarding"),
                                 period="day", level="stage")  # fmt: skip
    assert rows(stages, "stage_name", "entered", "finished", "wip") == [
        ("HR_Paperwork", 2, 2, 0),
        ("Prepare", 1, 1, 0),
        ("Welcome", 1, 1, 0),
    ]


# --- paths -------------------------------------------------------------------------------------


def test_transitions_count_edges_and_fault_paths(history: HistoryStore) -> None:
    found = oa.transitions(history, LIVE & Filters(orchestration="Case_Escalation"))
    assert sorted(rows(found, "source", "target", "count")) == [
        ("$Start", "Triage", 3),
        ("Amount_check", "Escalation", 1),
        ("Amount_check", "Work", 1),
        ("Close", "$End", 1),
        ("Escalation", "Work", 1),
        ("Triage", "$Canceled", 1),
        ("Triage", "Amount_check", 2),
        ("Work", "Close", 1),
    ]
    loan = oa.transitions(history, Filters(orchestration="Loan"))
    assert rows(loan[loan["kind"] == "fault"], "source", "target", "count") == [
        ("Funding", "Funding_recovery", 1)
    ]


def test_outcomes_and_the_default(history: HistoryStore) -> None:
    found = oa.outcomes(history, Filters(orchestration="Case_Escalation"))
    assert rows(found, "decision", "outcome", "is_default", "next_element", "count", "share") == [
        ("Amount_check", "Large_amount", False, "Escalation", 1, 0.5),
        ("Amount_check", None, True, "Work", 1, 0.5),
    ]


def test_fault_paths(history: HistoryStore) -> None:
    found = oa.fault_paths(history)
    assert rows(found, "orchestration_name", "stage_name", "failed", "recovered", "run_failed",
                "fault_path") == [("Loan", "Funding", 1, 1, 0, "Funding_recovery")]  # fmt: skip


def test_rework_from_a_go_to_loop(history: HistoryStore) -> None:
    found = oa.rework(history, Filters(orchestration="Employee_Onboarding"))
    assert rows(found, "stage_name", "runs", "entries", "runs_reworked", "rework") == [
        ("Prepare", 1, 1, 0, 0),
        ("HR_Paperwork", 1, 2, 1, 1),
        ("Welcome", 1, 1, 0, 0),
    ]
    loops = oa.transitions(history, Filters(orchestration="Employee_Onboarding"))
    back = loops[(loops["source"] == "Paperwork_check") & (loops["target"] == "HR_Paperwork")]
    assert back["count"].tolist() == [1]


# --- filters -----------------------------------------------------------------------------------


def test_filters_compose(history: HistoryStore) -> None:
    both = Filters(orchestration=("Loan", "Case_Escalation")) & Filters(status="Completed")
    found = oa.cycle_times(history, both, level="run")
    assert found["orchestration_name"].tolist() == ["Case_Escalation", "Loan"]
    assert found["count"].tolist() == [2, 1]  # A and the imported run; the Loan
    window = Filters(since=at(DAY1, "09:15"), until=at(DAY1, "10:30"))
    assert oa.stalled_runs(history, window, idle=dt.timedelta(0))["id"].tolist() == ["R000004"]
    by_record = oa.throughput(history, Filters(record_object="Employee__c"), period="day")
    assert by_record["orchestration_name"].unique().tolist() == ["Employee_Onboarding"]
    by_version = oa.cycle_times(history, Filters(version=2), level="run")
    assert by_version.empty


def test_assignee_filter_selects_runs_and_their_items(history: HistoryStore) -> None:
    # Runs with an item for cara: A (CSM) and E (paperwork); only her items are counted.
    found = oa.cycle_times(history, Filters(assignee="cara"), level="work_item")
    assert rows(found, "step_name", "count") == [
        ("CSM_outreach", 1),
        ("Confirm_paperwork", 1),
    ]
    runs = oa.cycle_times(history, Filters(assignee="cara"), level="run")
    assert runs["orchestration_name"].tolist() == ["Case_Escalation", "Employee_Onboarding"]


def test_filters_are_checked() -> None:
    with pytest.raises(AnalysisError, match=r"Filters\.status: 'Done' is not one of InProgress"):
        Filters(status="Done")
    with pytest.raises(AnalysisError, match=r"Filters\.source: 'csv' is not one of live"):
        Filters(source="csv")
    with pytest.raises(AnalysisError, match=r"Filters\.since: expected a datetime"):
        Filters(since="2026-01-01")  # type: ignore[arg-type]
    with pytest.raises(AnalysisError, match="no orchestration is in both"):
        Filters(orchestration="Loan") & Filters(orchestration="Other")
    merged = Filters(since=DAY1, as_of=END) & Filters(since=DAY2, as_of=DAY2)
    assert (merged.since, merged.as_of) == (DAY2, DAY2)


def test_values_are_bound_never_pasted() -> None:
    sneaky = "Loan'; DROP TABLE log; --"
    sql, params = sql_text("SELECT * FROM sel", Filters(orchestration=sneaky, assignee=sneaky))
    assert sneaky not in sql and params["orchestration0"] == sneaky
    assert oa.stalled_runs(HistoryStore(), Filters(orchestration=sneaky)).empty


def test_every_analysis_shows_its_sql() -> None:
    for name in oa.__all__:
        fn = getattr(oa, name)
        if callable(fn) and name != "Filters":
            assert "SQL (after the `as_of` and `sel` CTEs" in (fn.__doc__ or ""), name


def test_works_on_a_plain_duckdb_connection(history: HistoryStore) -> None:
    history.refresh()  # a plain connection reads the tables as they are: fold them first
    cursor = history.con.cursor()
    assert len(oa.stalled_runs(cursor, idle=dt.timedelta(hours=1))) == 1
    with pytest.raises(AnalysisError, match="expected a HistoryStore or a DuckDB connection"):
        oa.stalled_runs("history.duckdb")  # type: ignore[arg-type]
    with pytest.raises(AnalysisError, match="does not follow the schema"):
        oa.stalled_runs(duckdb.connect())


def test_directly_follows_and_start_end_steps(history: HistoryStore) -> None:
    case = Filters(orchestration="Case_Escalation", source="live")
    dfg = oa.directly_follows(history, case)
    # A: Score 09:00, Triage_review 10:00, Notify 10:00, CSM 12:00, Engineering 14:00, Close
    # 15:00; B: Score 09:30, Triage 11:30, Escalation 13:30, Notify 13:30; C: Score only.
    edges = {(r.source, r.target): (r.count, r.median_seconds) for r in dfg.itertuples()}
    assert edges[("Score", "Triage_review")] == (2, H)  # A 1 h, B 2 h: the lower
    assert edges[("Engineering_fix", "Confirm_close")] == (1, H)
    assert edges[("Escalation_review", "Notify")] == (1, 0.0)
    ends = oa.start_end_steps(history, case)
    assert rows(ends, "side", "step_name", "runs") == [
        ("start", "Score", 3),
        ("end", "Confirm_close", 1),
        ("end", "Notify", 1),
        ("end", "Score", 1),
    ]
