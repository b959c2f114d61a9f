"""Simulation: reproducible, and its output statistics match its inputs within stated bounds."""

from __future__ import annotations

import datetime as dt
import hashlib
import statistics

import pytest

import orchlab as ol
from orchlab.definition.examples import case_escalation, loan
from orchlab.errors import OrchlabError
from orchlab.simulate import (
    ScenarioError,
    Variant,
    compare,
    more_people,
    scenario_for,
    scenario_from_dict,
    simulate,
)
from orchlab.simulate.demo import setup_directory


def _log_digest(sim) -> str:
    rows = sim.store.execute(
        "SELECT seq, timestamp, kind, instance_id, step_name, work_item_id, status, actor, "
        "assignee, payload FROM log ORDER BY seq"
    )
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def test_same_seed_same_history_and_another_seed_another() -> None:
    scenario = scenario_for([loan()], per_day=8, days=5, seed=3)
    first, again = simulate([loan()], scenario), simulate([loan()], scenario)
    assert _log_digest(first) == _log_digest(again)
    other = simulate([loan()], scenario_for([loan()], per_day=8, days=5, seed=4))
    assert _log_digest(other) != _log_digest(first)
    kinds = {
        r[0]
        for r in first.store.execute(
            "SELECT DISTINCT source FROM log WHERE instance_id IS NOT NULL"
        )
    }
    assert kinds == {"simulated"}


def test_arrivals_follow_the_rate() -> None:
    # Poisson: 60 days x 20 a day = 1200 expected, sd about 35; +-10% is beyond 3 sd.
    scenario = scenario_from_dict(
        {"days": 60, "seed": 1, "arrivals": {"Loan": {"per_day": 20}},
         "people": {"team_size": 30, "working_hours": None}}
    )  # fmt: skip
    sim = simulate([loan()], scenario)
    started = sim.store.execute("SELECT count(*) FROM runs")[0][0]
    assert 1080 <= started <= 1320, started
    per_day = sim.store.execute(
        "SELECT count(*) FROM runs GROUP BY date_trunc('day', created_date)"
    )
    assert statistics.mean(n for (n,) in per_day) == pytest.approx(20, rel=0.1)


def test_work_times_working_hours_and_absences_are_respected() -> None:
    scenario = scenario_from_dict(
        {
            "days": 28,
            "seed": 2,
            "arrivals": {"Loan": {"per_day": 6}},
            # Plenty of people: nothing queues, so each answer takes its drawn work time.
            "people": {"team_size": 40, "capacity": 50, "absences": {"sam": [[7, 14]]}},
            "response": {"default": {"median": "2h", "spread": 0.5}},
        }
    )
    sim = simulate([loan()], scenario)
    store = sim.store
    done = store.execute(
        "SELECT completed_date, completed_by FROM work_items WHERE completed_by IS NOT NULL"
    )
    assert len(done) > 100
    for when, _ in done:  # Monday to Friday, 9:00 to 17:00
        assert when.weekday() < 5 and 9 <= when.hour + when.minute / 60 <= 17, when
    start = scenario.start
    away = (start + dt.timedelta(days=7), start + dt.timedelta(days=14))
    assert not [w for w, who in done if who == "sam" and away[0] <= w < away[1]]
    # Working time from assignment to completion of items created during working hours,
    # answered the same day: its median is the configured 2 h (lognormal median).
    same_day = store.execute(
        "SELECT date_diff('second', assigned_date, completed_date) / 3600 FROM work_items "
        "WHERE completed_by IS NOT NULL AND date_trunc('day', assigned_date) = "
        "date_trunc('day', completed_date) AND hour(assigned_date) BETWEEN 9 AND 11"
    )
    assert len(same_day) > 40
    assert statistics.median(h for (h,) in same_day) == pytest.approx(2.0, rel=0.2)


def test_too_few_people_queue_up_and_one_more_helps() -> None:
    base = scenario_from_dict(
        {
            "days": 30,
            "seed": 5,
            "arrivals": {"Loan": {"per_day": 12}},
            "response": {"default": "20m", "Approve_loan": {"median": "3h", "spread": 0.3}},
            "admins": {"cancel_after": None},
        }
    )
    table = compare([loan()], base, {"+2": Variant(scenario=more_people(base, "Underwriting", 2))})
    # Same arrivals in both; more underwriters: more runs done, shorter runs, less backlog.
    assert table.loc["runs started", "+2: change"] == 0
    assert table.loc["runs completed", "+2: change"] > 0
    assert table.loc["median run hours (completed)", "+2: change"] < 0
    assert table.loc["open work items at the end", "+2: change"] < 0


def test_async_step_durations_and_failure_rates() -> None:
    scenario = scenario_from_dict(
        {
            "days": 20,
            "seed": 6,
            "arrivals": {"Loan": {"per_day": 30, "inputs": {"amount": {"uniform": [100, 40000]}}}},
            "people": {"team_size": 30, "capacity": 30, "working_hours": None},
            "steps": {
                "Check_credit": {"duration": {"median": "30m", "spread": 0.3}},
                "Disburse": {"fail": 0.25},
            },
            "response": {"default": "10m"},
        }
    )
    sim = simulate([loan()], scenario)
    store = sim.store
    minutes = [
        m
        for (m,) in store.execute(
            "SELECT duration / 60 FROM step_runs "
            "WHERE name = 'Check_credit' AND status = 'Completed'"
        )
    ]
    assert len(minutes) > 300 and statistics.median(minutes) == pytest.approx(30, rel=0.1)
    failed, total = store.execute(
        "SELECT count(*) FILTER (WHERE status = 'Error'), count(*) FROM step_runs "
        "WHERE name = 'Disburse' AND status IN ('Completed', 'Error')"
    )[0]
    assert total > 200 and failed / total == pytest.approx(0.25, abs=0.06)
    assert (
        store.execute("SELECT count(*) FROM stage_runs WHERE name = 'Funding_recovery'")[0][0] > 0
    )


def test_a_definition_alone_gets_stand_ins_and_records_that_fire_its_trigger() -> None:
    orch = ol.orchestration(
        "Claims",
        ol.stage(
            "Assess",
            ol.background("Estimate", "estimate_damage", inputs={"claim": ol.ref("$Record.Id")}),
            ol.interactive("Adjust", "adjust_form", ol.queue("Adjusters"), after="Estimate"),
        ),
        ol.decision(
            "Big",
            ol.outcome("Yes", ol.cond("Estimate.Outputs.amount", ">", 10000), "Review"),
            default=None,
        ),
        ol.stage("Review", ol.interactive("Approve", "adjust_form", ol.user("claims_lead"))),
        start=ol.on_record(
            "Claim__c", "update", [("$Record.Status", "equals", "Filed")], only_when_changed=True
        ),
        screens=[ol.screen("adjust_form", ol.Field("ok", "checkbox", required=True))],
    )
    sim = simulate([orch], scenario_for([orch], per_day=10, days=10, seed=8))
    store = sim.store
    arrivals = sim.report.per_orchestration["Claims"]
    started = store.execute("SELECT count(*) FROM runs")[0][0]
    assert started == arrivals > 50  # every arrival fired the trigger exactly once
    paths = dict(
        store.execute("SELECT outcome IS NOT NULL, count(*) FROM decision_outcomes GROUP BY 1")
    )
    assert paths.get(True, 0) > 0 and paths.get(False, 0) > 0  # both ways of the decision
    people = {r[0] for r in store.execute("SELECT DISTINCT completed_by FROM work_items")}
    assert {"adjusters_1", "adjusters_2", "claims_lead"} <= people


def test_admins_reassign_cancel_and_hold() -> None:
    # The demo world: dana (People_Managers, Senior_Underwriters) is away for weeks, so her
    # escalation reviews wait; an admin gives them to olivia, and cancels what waits too long.
    start = dt.datetime(2026, 1, 5, 8)
    engine = ol.Engine(clock=ol.VirtualClock(start))
    setup_directory(engine)
    scenario = scenario_from_dict(
        {
            "days": 40,
            "start": start.isoformat(),
            "seed": 9,
            "arrivals": {
                "Case_Escalation": {
                    "per_day": 6,
                    "record": {"create": {"Amount": {"uniform": [100, 2500]}}},
                }
            },
            "people": {"absences": {"dana": [[5, 30]], "bob": [[0, 40]], "vic": [[0, 40]]}},
            "admins": {"reassign_after": "2d", "cancel_after": "15d", "holds": {"rate": 0.1}},
        }
    )
    sim = simulate([case_escalation()], scenario, engine=engine)
    kinds = dict(sim.store.execute("SELECT kind, count(*) FROM log GROUP BY 1"))
    assert kinds.get("SuspendInstance", 0) > 0 and kinds.get("ResumeInstance", 0) > 0
    assert kinds.get("ReassignWorkItem", 0) > 0 and kinds.get("CancelInstance", 0) > 0
    admin_rows = sim.store.execute(
        "SELECT DISTINCT actor FROM log "
        "WHERE kind IN ('SuspendInstance', 'ReassignWorkItem', 'CancelInstance')"
    )
    assert admin_rows == [("sim_admin",)]
    moved = sim.store.execute(
        "SELECT count(*) FROM log WHERE kind = 'ReassignWorkItem' AND assignee = 'olivia'"
    )
    assert moved[0][0] > 0


def test_a_scenario_lists_every_mistake() -> None:
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(
            {"days": "many", "arrivals": {"Loan": {"per_day": -1, "inptus": {}}},
             "response": {"default": "soon"}, "steps": {"X": {"fail": 2}}}
        )  # fmt: skip
    text = str(caught.value)
    assert text.startswith("5 problems:")
    for part in ("days: expected a number; got 'many'", "per_day: expected a number of at least 0",
                 "unknown key 'inptus'", "response.default: expected a duration",
                 "steps.X.fail: expected a chance from 0 to 1"):  # fmt: skip
        assert part in text


def test_arrivals_of_an_unknown_orchestration_are_refused() -> None:
    scenario = scenario_from_dict({"days": 1, "arrivals": {"Lone": {"per_day": 1}}})
    with pytest.raises(OrchlabError, match=r"arrivals\.Lone: no such orchestration"):
        simulate([loan()], scenario)
