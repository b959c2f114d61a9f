"""References through related records resolve at run time, as validation already allows."""

from __future__ import annotations

from orchlab import SYSTEM
from orchlab.definition.builder import (
    assignee_from,
    autolaunched,
    background,
    decision,
    interactive,
    on_record,
    orchestration,
    outcome,
    screen,
    stage,
    var,
)
from orchlab.definition.conditions import cond
from orchlab.definition.registry import Registry
from orchlab.engine import Engine


def _assignees(engine: Engine) -> list[str]:
    return [r[0] for r in engine.store.execute("SELECT assignee_id FROM work_items ORDER BY id")]


def test_record_and_variable_paths_walk_nested_records() -> None:
    orch = orchestration(
        "Related",
        stage(
            "Review",
            interactive("By_owner", "form", assignee_from("$Record.Owner.Username")),
            interactive("By_poly", "form", assignee_from("$Record.Owner:User.Username")),
        ),
        start=on_record("Case", "create"),
        screens=[screen("form")],
    )
    engine = Engine(registry=Registry())
    engine.add_user("olga", by=SYSTEM)
    engine.deploy(orch, by=SYSTEM)
    engine.create_record("Case", {"Owner": {"Username": "olga"}}, by=SYSTEM)
    assert _assignees(engine) == ["olga", "olga"]


def test_a_missing_link_reads_null_and_fails_the_step_with_a_message() -> None:
    orch = orchestration(
        "Related_var",
        stage("Review", interactive("Ask", "form", assignee_from("who.Manager.Username"))),
        start=autolaunched(),
        variables=[var("who", "record", input=True)],
        screens=[screen("form")],
    )
    engine = Engine(registry=Registry())
    engine.add_user("boss", by=SYSTEM)
    engine.deploy(orch, by=SYSTEM)
    ok = engine.start_run("Related_var", {"who": {"Manager": {"Username": "boss"}}}, by=SYSTEM)
    assert engine.run_status(ok.id) == "InProgress" and _assignees(engine) == ["boss"]
    broken = engine.start_run("Related_var", {"who": {"Manager": None}}, by=SYSTEM)
    assert engine.run_status(broken.id) == "Error"
    comments = engine.store.execute(
        "SELECT comments FROM log WHERE instance_id = ? AND kind = 'FailStep'", [broken.id]
    )
    assert "resolved to None" in comments[0][0]


def test_a_field_of_a_record_output_is_read_through_the_output() -> None:
    registry = Registry()
    registry.add("lookup", lambda: {"account": {"Name": "Acme"}}, outputs={"account": "record"})
    orch = orchestration(
        "Related_output",
        stage("Look", background("Lookup", "lookup")),
        decision(
            "Is_acme",
            outcome("Acme", cond("Lookup.Outputs.account.Name", "equals", "Acme"), "Big"),
        ),
        stage("Big", background("Again", "lookup")),
        start=autolaunched(),
    )
    engine = Engine(registry=registry)
    engine.deploy(orch, by=SYSTEM)
    run = engine.start_run("Related_output", by=SYSTEM)
    taken = engine.store.execute(
        "SELECT comments FROM log WHERE instance_id = ? AND kind = 'TakeOutcome'", [run.id]
    )
    assert taken == [("Acme",)]
