"""Tests for orchlab.definition.validate (and the data checks in definition.data_checks).

Each rule has a test showing its exact message. Tests use a private `Registry`, so they
don't depend on what other modules registered; only the examples use the default one.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from orchlab.definition.builder import (
    assignee_from,
    background,
    decision,
    end,
    evaluate,
    external,
    interactive,
    on_record,
    orchestration,
    outcome,
    queue,
    ref,
    screen,
    stage,
    var,
)
from orchlab.definition.conditions import Conditions, cond, custom
from orchlab.definition.data_checks import Resolver, Target, UnresolvedReference
from orchlab.definition.examples import EXAMPLES
from orchlab.definition.model import (
    Connector,
    Field,
    Notification,
    Orchestration,
    Outcome,
    Requirements,
)
from orchlab.definition.registry import Registry
from orchlab.definition.validate import (
    InvalidOrchestration,
    Problem,
    Severity,
    errors,
    require_valid,
    validate,
)
from orchlab.definition.values import ValueType


def _registry() -> Registry:
    reg = Registry()
    reg.add("ping", lambda: {}, "flow")
    reg.add("score", lambda amount: {}, "flow", inputs={"amount": float}, outputs={"score": float})
    reg.add("lookup", lambda: {}, "flow", outputs={"owner": dict, "email": str})
    reg.add("pay", lambda amount: {}, "action", inputs={"amount": Decimal}, outputs={"tx": str})
    reg.add("ready", lambda case_id: True, "evaluation", inputs={"case_id": str})
    return reg


REG = _registry()
PING = background("Ping", "ping")
FORM = screen("form", Field("ok", "checkbox", default=False), Field("notes", "text"))
RECORD = on_record("Case", "update")
QUEUE = queue("Q")


def review(name: str, screen_name: str = "form", who: Any = QUEUE, **kw: Any) -> Any:
    """An interactive step whose context record is a fixed record Id."""
    return replace(interactive(name, screen_name, who, **kw), context_record="500xx")


def tiny(*path: Any, **kw: Any) -> Orchestration:
    """A small orchestration; `path` defaults to one stage with one background step."""
    return orchestration("Tiny", *(path or (stage("One", PING),)), **kw)


def found(orch: Orchestration, registry: Registry = REG, **kw: Any) -> list[str]:
    return [str(p) for p in validate(orch, registry, **kw)]


def test_the_tiny_orchestration_is_valid() -> None:
    assert found(tiny()) == []


# --- the four examples ----------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(EXAMPLES))
def test_examples_have_no_problems_with_the_default_registry(key: str) -> None:
    assert validate(EXAMPLES[key]()) == []
    require_valid(EXAMPLES[key]())


# --- problems, errors, require_valid --------------------------------------------------------------


def test_problem_text_names_element_field_and_severity() -> None:
    assert str(Problem("stage 'A'", "next", "bad")) == "stage 'A': next: bad"
    warning = Problem("stage 'A'", "steps", "odd", Severity.WARNING)
    assert str(warning) == "warning: stage 'A': steps: odd"
    assert errors([warning, Problem("x", "y", "z")]) == [Problem("x", "y", "z")]


def test_five_mistakes_give_five_problems_at_once_errors_first() -> None:
    orch = tiny(
        stage(
            "One",
            background("Score", "scor", inputs={"amount": 1}),  # 1: not registered
            interactive("Review", "nope", None, context=ref("$Record.Id")),  # 2, 3, 4
            next="Gone",  # 5
        ),
    )
    problems = validate(orch, REG)
    assert [str(p) for p in problems] == [
        "stage 'One': next: target 'Gone' does not exist; expected one of the elements: One",
        "step 'Score' in stage 'One': flow: flow 'scor' is not registered; expected a flow "
        "registered with @flow (did you mean 'score'?)",
        "step 'Review' in stage 'One': assignee: is missing; expected a user, group, queue or a "
        "reference such as assignee_from('$Record.OwnerId')",
        "step 'Review' in stage 'One': screen: screen 'nope' does not exist; expected one of the "
        "screens: none",
        "step 'Review' in stage 'One': context_record: $Record is only available in "
        "record-triggered orchestrations; this one is autolaunched (read '$Record.Id' from an "
        "input variable instead)",
    ]
    assert validate(orch, REG) == problems  # deterministic


def test_errors_come_before_warnings() -> None:
    orch = tiny(stage("Empty"), stage("One", PING, next="Gone"))
    severities = [p.severity for p in validate(orch, REG)]
    assert severities == [Severity.ERROR, Severity.WARNING]


def test_require_valid_raises_with_every_message() -> None:
    orch = tiny(stage("One", background("A", "nope"), background("B", "ping", after="Z")))
    with pytest.raises(InvalidOrchestration) as info:
        require_valid(orch, REG)
    assert info.value.problems == tuple(validate(orch, REG))
    assert str(info.value).splitlines() == [
        "orchestration 'Tiny' has 2 errors:",
        "step 'A' in stage 'One': flow: flow 'nope' is not registered; expected a flow "
        "registered with @flow",
        "step 'B' in stage 'One': entry: waits for step 'Z', which does not exist; expected a "
        "step of stage 'One': A",
    ]
    assert isinstance(info.value, ValueError)


def test_require_valid_passes_with_warnings_only() -> None:
    orch = tiny(stage("Empty"), stage("One", PING))
    assert errors(validate(orch, REG)) == []
    require_valid(orch, REG)


def test_the_default_registry_is_used_when_none_is_given() -> None:
    orch = tiny(stage("One", background("Score", "score_case", inputs={"amount": 5})))
    assert validate(orch) == []  # score_case is an example flow in the default registry
    assert found(orch) == [
        "step 'Score' in stage 'One': flow: flow 'score_case' is not registered; expected a flow "
        "registered with @flow (did you mean 'score'?)"
    ]


# --- 1. names -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "is ''; expected an API name: a letter, then letters, digits or underscores"),
        ("1st", "'1st' starts with '1'; an API name starts with a letter"),
        ("_x", "'_x' starts with '_'; an API name starts with a letter"),
        (
            "Two words",
            "'Two words' contains ' '; an API name has only letters, digits and underscores",
        ),
        ("Café", "'Café' contains 'é'; an API name has only letters, digits and underscores"),
        ("a__b", "'a__b' contains '__'; an API name has no two underscores in a row"),
        ("ab_", "'ab_' ends with '_'; an API name does not end with an underscore"),
        ("A" * 81, f"{'A' * 81!r} is 81 characters long; an API name has at most 80"),
    ],
)
def test_names_must_be_api_names(name: str, message: str) -> None:
    assert found(replace(tiny(), name=name)) == [f"orchestration {name!r}: name: {message}"]


def test_every_kind_of_name_is_checked() -> None:
    orch = tiny(
        stage("Bad stage", background("Bad step", "ping")),
        decision("Bad decision", outcome("Bad outcome", cond("x", "equals", 1))),
        variables=[var("x", "number"), var("bad var")],
        screens=[screen("bad screen", Field("bad field"))],
    )
    names = [(p.element, p.field) for p in validate(orch, REG) if p.field == "name"]
    assert names == [
        ("stage 'Bad stage'", "name"),
        ("step 'Bad step' in stage 'Bad stage'", "name"),
        ("decision 'Bad decision'", "name"),
        ("decision 'Bad decision' outcome 'Bad outcome'", "name"),
        ("variable 'bad var'", "name"),
        ("screen 'bad screen'", "name"),
        ("screen 'bad screen' field 'bad field'", "name"),
        ("screen 'bad screen'", "name"),  # the unused-screen warning comes last
    ]


UNIQUE = (
    "elements, steps, outcomes and variables need unique names, so that references such as "
    "Name.Status are unambiguous"
)


def test_elements_and_steps_share_one_namespace() -> None:
    orch = tiny(stage("Review", background("Review", "ping")))
    assert found(orch) == [
        "step 'Review' in stage 'Review': name: 'Review' is also the name of stage 'Review'; "
        + UNIQUE
    ]


def test_two_elements_with_one_name() -> None:
    orch = tiny(stage("One", PING), stage("One", background("Other", "ping")))
    assert found(orch)[0] == f"stage 'One': name: 'One' is also the name of stage 'One'; {UNIQUE}"


def test_variables_outcomes_and_steps_collide_with_elements_ignoring_case() -> None:
    orch = tiny(
        stage("One", PING),
        decision("Check", outcome("one", cond("Ping.Status", "equals", "Completed"), "Two")),
        stage("Two", background("Check", "ping")),
        variables=[var("ping"), var("x"), var("x")],
    )
    case = "(Salesforce ignores case in names)"
    assert [p for p in found(orch) if ": name:" in p] == [
        f"decision 'Check' outcome 'one': name: 'one' is also the name of stage 'One' {case}; "
        + UNIQUE,
        "step 'Check' in stage 'Two': name: 'Check' is also the name of decision 'Check'; "
        + UNIQUE,
        f"variable 'ping': name: 'ping' is also the name of step 'Ping' in stage 'One' {case}; "
        + UNIQUE,
        f"variable 'x': name: 'x' is also the name of variable 'x'; {UNIQUE}",
    ]


def test_duplicate_screens_and_fields() -> None:
    step = review("Review")
    orch = tiny(
        stage("One", step),
        screens=[screen("form", Field("a"), Field("a")), screen("form")],
    )
    assert found(orch) == [
        "screen 'form' field 'a': name: 'a' is also the name of screen 'form' field 'a'; "
        "fields of a screen need unique names",
        "screen 'form': name: 'form' is also the name of screen 'form'; screens need unique names",
    ]


def test_same_field_name_on_two_screens_is_fine() -> None:
    steps = review("Review", "a"), review("Other", "b")
    screens = [screen("a", Field("notes")), screen("b", Field("notes"))]
    assert found(tiny(stage("One", *steps), screens=screens)) == []


def test_templates_are_checked_like_any_definition() -> None:
    template = replace(tiny(), name="My template", is_template=True)
    assert found(template) == [
        "orchestration 'My template': name: 'My template' contains ' '; an API name has only "
        "letters, digits and underscores"
    ]


def test_empty_names_are_not_also_reported_as_duplicates() -> None:
    orch = tiny(stage("", PING), stage("", background("P2", "ping")))
    assert [p for p in found(orch) if ": name:" in p] == [  # identical findings appear once
        "stage '': name: is ''; expected an API name: a letter, then letters, digits or "
        "underscores",
    ]


# --- 2. elements and the first one ----------------------------------------------------------------


def test_no_elements() -> None:
    assert found(orchestration("Empty")) == [
        "orchestration 'Empty': elements: has no elements; an orchestration needs at least one "
        "stage"
    ]


def test_no_stage() -> None:
    orch = tiny(decision("Route", outcome("Yes", cond("x", "equals", True), "Done")), end("Done"))
    assert found(orch) == [
        "orchestration 'Tiny': elements: has no stage; an orchestration needs at least one stage",
        "decision 'Route' outcome 'Yes': conditions[1]: unknown reference 'x': expected "
        "$Record.Field, a variable, Stage.Status, Step.Status, Step.Outputs.name or a decision "
        "outcome",
    ]


def test_first_must_name_an_element() -> None:
    assert found(replace(tiny(), first="Nowhere")) == [
        "orchestration 'Tiny': first: 'Nowhere' is not an element; expected one of: One"
    ]


def test_a_decision_may_come_first() -> None:
    orch = tiny(
        decision("Route", outcome("Big", cond("amount", "greater_than", 5), "One"), default="One"),
        stage("One", PING),
        variables=[var("amount", "number", input=True)],
    )
    assert found(orch) == []


def test_record_trigger_needs_an_object_and_conditions_for_only_when_changed() -> None:
    orch = tiny(start=on_record("", only_when_changed=True))
    assert found(orch) == [
        "start: object: is empty; expected the API name of the object whose records start a "
        "run, such as 'Case'",
        "warning: start: only_when_changed: has no effect without start conditions; expected "
        "conditions, or False",
    ]


def test_a_decision_needs_an_outcome() -> None:
    orch = tiny(
        stage("One", PING), decision("Route", default="Two"), stage("Two", background("P", "ping"))
    )
    assert found(orch) == [
        "decision 'Route': outcomes: has none; expected at least one outcome besides the default"
    ]


# --- 3. connectors --------------------------------------------------------------------------------


def test_connector_targets_must_exist() -> None:
    orch = tiny(
        stage("One", PING, next="Tow"),
        decision(
            "Route",
            outcome("Back", cond("One.Status", "equals", "Completed"), "Onne", goto=True),
            default="Nope",
        ),
        branches=[[stage("Two", background("P2", "ping"), on_fault="Fixit")]],
    )
    problems = [p for p in found(orch) if "does not exist" in p]
    assert problems == [
        "stage 'One': next: target 'Tow' does not exist; expected one of the elements: One, "
        "Route, Two",
        "decision 'Route' outcome 'Back': next: Go To target 'Onne' does not exist; expected one "
        "of the elements: One, Route, Two",
        "decision 'Route': default: target 'Nope' does not exist; expected one of the elements: "
        "One, Route, Two",
        "stage 'Two': on_fault: fault path target 'Fixit' does not exist; expected one of the "
        "elements: One, Route, Two",
    ]


def test_fault_path_must_go_to_a_stage_or_decision() -> None:
    orch = tiny(stage("One", PING, on_fault="Stop"), branches=[[end("Stop")]])
    assert found(orch) == [
        "stage 'One': on_fault: fault path goes to end 'Stop'; expected a stage or a decision "
        "that handles the error"
    ]


def test_a_connector_to_itself_needs_goto() -> None:
    looping = tiny(stage("One", PING, next="One"), end("Done"))
    assert found(looping)[0] == (
        "stage 'One': next: connects to itself; expected a Go To connector (goto=True) to loop back"
    )


def test_a_loop_back_needs_a_go_to_connector() -> None:
    orch = tiny(
        stage("One", PING),
        stage("Two", background("P2", "ping")),
        decision("Again", outcome("Redo", cond("Two.Status", "equals", "Error"), "One")),
    )
    assert found(orch) == [
        "orchestration 'Tiny': path: the path loops back ('One' -> 'Two' -> 'Again' -> 'One') "
        "without a Go To connector; expected goto=True on the connector jumping back"
    ]
    fixed = tiny(
        stage("One", PING),
        stage("Two", background("P2", "ping")),
        decision("Again", outcome("Redo", cond("Two.Status", "equals", "Error"), "One", goto=True)),
    )
    assert found(fixed) == []


# --- 4. reachability ------------------------------------------------------------------------------


def test_unreachable_elements() -> None:
    orch = tiny(stage("One", PING), branches=[[stage("Orphan", background("P2", "ping")), end()]])
    assert found(orch) == [
        "stage 'Orphan': path: is not reachable from the start (the path begins at 'One'); "
        "expected a connector, decision outcome or fault path leading to it",
        "end 'End': path: is not reachable from the start (the path begins at 'One'); "
        "expected a connector, decision outcome or fault path leading to it",
    ]


def test_fault_paths_make_elements_reachable() -> None:
    orch = tiny(
        stage("One", PING, on_fault="Fix"), branches=[[stage("Fix", background("P", "ping"))]]
    )
    assert found(orch) == []


# --- 5. ways out ----------------------------------------------------------------------------------


def test_an_empty_stage_is_a_warning() -> None:
    assert found(tiny(stage("Draft"))) == [
        "warning: stage 'Draft': steps: has no steps, so it completes as soon as it starts; "
        "expected a step, or an exit rule that waits for something"
    ]
    waiting = stage("Wait", exit=cond("$Record.Status", "equals", "Closed"))
    assert found(tiny(waiting, start=RECORD)) == []


def test_a_loop_with_no_way_out() -> None:
    orch = tiny(
        stage("One", PING),
        stage("Two", background("P2", "ping"), next="One", goto=True),
    )
    assert found(orch) == [
        "orchestration 'Tiny': path: the loop through 'One', 'Two' has no way out: every "
        "connector stays inside it; expected a connector that leaves the loop or ends the run"
    ]


def test_a_loop_with_a_decision_that_leaves_it_is_fine() -> None:
    orch = tiny(
        stage("One", PING),
        decision("Again", outcome("Redo", cond("One.Status", "equals", "Error"), "One", goto=True)),
        stage("Two", background("P2", "ping")),
    )
    assert found(orch) == []


def test_a_loop_of_decisions_alone() -> None:
    flip = outcome("Flip", cond("flag", "equals", True), "Flop", goto=True)
    flop = outcome("Flop_back", cond("flag", "equals", False), "Flip_side", goto=True)
    orch = tiny(
        stage("One", PING),
        decision("Flip_side", flip, default=None),
        decision("Flop", flop, default=None),
        variables=[var("flag", "boolean")],
    )
    assert found(orch) == [
        "orchestration 'Tiny': path: decisions loop 'Flip_side' -> 'Flop' -> 'Flip_side' "
        "without passing a stage, so the run would go round forever; expected a stage"
    ]


def test_a_decision_looping_to_itself() -> None:
    again = outcome("Again", cond("flag", "equals", True), "Route", goto=True)
    orch = tiny(stage("One", PING), decision("Route", again), variables=[var("flag", "boolean")])
    assert found(orch) == [
        "orchestration 'Tiny': path: decisions loop 'Route' -> 'Route' without passing a stage, "
        "so the run would go round forever; expected a stage"
    ]
    plain = tiny(
        stage("One", PING),
        decision("Route", outcome("Again", cond("flag", "equals", True), "Route")),
        variables=[var("flag", "boolean")],
    )
    assert found(plain) == [
        "decision 'Route' outcome 'Again': next: connects to itself; expected a Go To connector "
        "(goto=True) to loop back"
    ]


# --- 6. step entry --------------------------------------------------------------------------------


def test_after_steps_must_name_steps_of_the_same_stage() -> None:
    orch = tiny(
        stage("One", PING, background("Own", "ping", after="Own")),
        stage(
            "Two",
            background("Early", "ping", after=["Ping", "Pnig"]),
            background("Nothing", "ping", after=[]),
        ),
    )
    assert found(orch) == [
        "step 'Own' in stage 'One': entry: waits for itself; expected other steps of its stage: "
        "Ping",
        "step 'Early' in stage 'Two': entry: step 'Ping' is in stage 'One'; a step can only wait "
        "for steps of its own stage ('Two')",
        "step 'Early' in stage 'Two': entry: waits for step 'Pnig', which does not exist; "
        "expected a step of stage 'Two': Nothing",
        "step 'Nothing' in stage 'Two': entry: waits for no step; expected steps of stage 'Two': "
        "Early",
    ]


def test_steps_waiting_for_each_other() -> None:
    orch = tiny(
        stage(
            "One",
            background("A", "ping", after="C"),
            background("B", "ping", after="A"),
            background("C", "ping", when=cond("B.Status", "equals", "Completed")),
            background("D", "ping", after="D"),
        )
    )
    assert found(orch) == [
        "step 'A' in stage 'One': entry: steps wait for each other in a cycle (each waits for "
        "the next): 'A' -> 'C' -> 'B' -> 'A'; none of them can ever start",
        "step 'D' in stage 'One': entry: waits for itself; expected other steps of its stage: "
        "A, B, C",
    ]


# --- 7. interactive steps -------------------------------------------------------------------------


def test_interactive_step_needs_assignee_and_screen() -> None:
    orch = tiny(
        stage(
            "One",
            review("Nobody", who=None),
            review("No_screen", ""),
            review("Nameless", who=queue("")),
        ),
        screens=[FORM],
    )
    assert found(orch) == [
        "step 'Nobody' in stage 'One': assignee: is missing; expected a user, group, queue or "
        "a reference such as assignee_from('$Record.OwnerId')",
        "step 'No_screen' in stage 'One': screen: is empty; expected one of the screens: form",
        "step 'Nameless' in stage 'One': assignee: the queue assignee has no name; expected a "
        "username, a group or queue API name, or a reference",
    ]


def test_assignee_reference_must_resolve_to_text() -> None:
    orch = tiny(
        stage(
            "One",
            interactive("A", "form", assignee_from("$Record.OwnerId"), context=ref("$Record.Id")),
            interactive("B", "form", assignee_from("owner_name"), context=ref("$Record.Id")),
            interactive(
                "C", "form", assignee_from("A.Outputs.ok"), context=ref("$Record.Id"), after="A"
            ),
        ),
        start=RECORD,
        screens=[FORM],
    )
    assert found(orch) == [
        "step 'B' in stage 'One': assignee: unknown reference 'owner_name': expected "
        "$Record.Field, a variable, Stage.Status, Step.Status, Step.Outputs.name or a decision "
        "outcome",
        "step 'C' in stage 'One': assignee: A.Outputs.ok is boolean; expected text: a username, "
        "group or queue name",
    ]


def test_missing_context_record_is_a_warning() -> None:
    step = interactive("Review", "form", queue("Q"))
    assert found(tiny(stage("One", step), start=RECORD, screens=[FORM])) == [
        "warning: step 'Review' in stage 'One': context_record: context record is missing: the "
        "Work Guide can't show the item on a record page; expected ref('$Record.Id')"
    ]
    assert found(tiny(stage("One", step), screens=[FORM])) == [
        "warning: step 'Review' in stage 'One': context_record: context record is missing: the "
        "Work Guide can't show the item on a record page; expected an input variable holding "
        "the record Id"
    ]


def test_context_record_must_be_an_id() -> None:
    orch = tiny(
        stage(
            "One",
            interactive("A", "form", queue("Q"), context=ref("amount")),
            interactive("B", "form", queue("Q"), context=ref("case_id")),
            replace(interactive("C", "form", queue("Q")), context_record=42),
        ),
        variables=[var("amount", "number", input=True), var("case_id", input=True)],
        screens=[FORM],
    )
    assert found(orch) == [
        "step 'A' in stage 'One': context_record: amount is number; expected text: a record Id",
        "step 'C' in stage 'One': context_record: is 42; expected a record Id (text) or a "
        "reference such as ref('$Record.Id')",
    ]


def test_notification_merge_fields_must_resolve() -> None:
    note = Notification(
        "Case {!$Record.CaseNumber} for {!Owner}", "See {!$Record..Id} {!Ping.Status}"
    )
    review = interactive("Review", "form", queue("Q"), context=ref("$Record.Id"), notify=note)
    orch = tiny(stage("One", PING, review), start=RECORD, screens=[FORM])
    assert found(orch) == [
        "step 'Review' in stage 'One': notification.subject: unknown reference 'Owner': "
        "expected $Record.Field, a variable, Stage.Status, Step.Status, Step.Outputs.name or a "
        "decision outcome",
        "step 'Review' in stage 'One': notification.body: reference '$Record..Id' has an empty "
        "part between dots; expected a reference such as $Record.Id",
        "warning: step 'Review' in stage 'One': notification.body: reads Ping.Status but does "
        "not wait for step 'Ping': parallel steps have no ordering guarantee; add after=['Ping']",
    ]


# --- 8. flows, actions, evaluation flows ----------------------------------------------------------


def test_steps_must_call_registered_flows_of_the_right_kind() -> None:
    orch = tiny(
        stage(
            "One",
            background("A", "pay", inputs={"amount": 1}),
            external("B", "score", inputs={"amount": 1}),
            background("C", "ready"),
            external("D", ""),
            background("E", "pign"),
        )
    )
    assert found(orch) == [
        "step 'A' in stage 'One': flow: 'pay' is registered as an action; expected a flow "
        "registered with @flow",
        "step 'B' in stage 'One': action: 'score' is registered as a flow; expected an action "
        "registered with @action",
        "step 'C' in stage 'One': flow: 'ready' is registered as an evaluation flow; expected a "
        "flow registered with @flow",
        "step 'D' in stage 'One': action: is empty; expected an action registered with @action",
        "step 'E' in stage 'One': flow: flow 'pign' is not registered; expected a flow "
        "registered with @flow (did you mean 'ping'?)",
    ]


def test_evaluation_flows_in_entry_and_exit_rules() -> None:
    orch = tiny(
        stage(
            "One",
            background("A", "ping", when=evaluate("ready", case_id=ref("$Record.Id"))),
            review("B", done_when=evaluate("ping")),
            exit=evaluate("nope"),
        ),
        start=RECORD,
        screens=[FORM],
    )
    assert found(orch) == [
        "stage 'One': exit.flow: evaluation flow 'nope' is not registered; expected an "
        "evaluation flow registered with @evaluation",
        "step 'B' in stage 'One': exit.flow: 'ping' is registered as a flow; expected an "
        "evaluation flow registered with @evaluation",
    ]


def test_input_maps_must_fit_the_flow() -> None:
    orch = tiny(
        stage(
            "One",
            background("A", "score", inputs={"amnt": 5}),
            background("B", "score", inputs={"amount": "five"}),
            external("C", "pay", inputs={"amount": ref("A.Status")}, after="A"),
            background("D", "ping", when=evaluate("ready", case=ref("case_id"))),
        ),
        variables=[var("case_id", input=True)],
    )
    assert found(orch) == [
        "step 'A' in stage 'One': inputs.amnt: flow 'score' has no input 'amnt'; it declares: "
        "amount",
        "step 'B' in stage 'One': inputs.amount: 'five' is text; expected number, as flow "
        "'score' declares",
        "step 'C' in stage 'One': inputs.amount: A.Status is text; expected currency, as action "
        "'pay' declares",
        "step 'D' in stage 'One': entry.inputs.case: evaluation flow 'ready' has no input "
        "'case'; it declares: case_id",
        "warning: step 'A' in stage 'One': inputs.amount: flow 'score' declares input 'amount' "
        "(number) but it is not given, so it will be null",
        "warning: step 'D' in stage 'One': entry.inputs.case_id: evaluation flow 'ready' "
        "declares input 'case_id' (text) but it is not given, so it will be null",
    ]


def test_output_maps_must_name_declared_outputs_and_variables() -> None:
    orch = tiny(
        stage(
            "One",
            background(
                "A", "score", inputs={"amount": 1}, outputs={"score": "total", "x": "total"}
            ),
            background("B", "lookup", outputs={"email": "total"}),
            review("C", outputs={"ok": "flag", "nope": "nowhere"}),
        ),
        variables=[var("total", "number"), var("flag", "boolean")],
        screens=[FORM],
    )
    assert found(orch) == [
        "step 'A' in stage 'One': outputs.x: flow 'score' has no output 'x'; it declares: score",
        "step 'B' in stage 'One': outputs.email: output 'email' is text, but variable 'total' is "
        "number; expected a text variable",
        "step 'C' in stage 'One': outputs.nope: screen 'form' has no field 'nope'; it has: ok, "
        "notes",
        "step 'C' in stage 'One': outputs.nope: variable 'nowhere' does not exist; expected one "
        "of the variables: total, flag",
    ]


def test_external_step_outputs_and_reads_of_unknown_flows() -> None:
    orch = tiny(
        stage(
            "One",
            external("Pay", "pay", inputs={"amount": 1}, outputs={"nope": "tx"}),
            background("Mystery", "unknown_flow"),
            background("Reader", "ping", when=cond("Mystery.Outputs.x", "equals", 1)),
        ),
        variables=[var("tx")],
    )
    assert found(orch) == [  # an unknown flow's outputs are unknown, not errors of their own
        "step 'Pay' in stage 'One': outputs.nope: action 'pay' has no output 'nope'; it "
        "declares: tx",
        "step 'Mystery' in stage 'One': flow: flow 'unknown_flow' is not registered; expected "
        "a flow registered with @flow",
        "warning: step 'Reader' in stage 'One': entry.conditions[1]: reads Mystery.Outputs.x "
        "but does not wait for step 'Mystery': parallel steps have no ordering guarantee; add "
        "the entry condition Mystery.Status equals 'Completed'",
    ]


def test_external_step_timeout_must_be_positive() -> None:
    orch = tiny(stage("One", external("Pay", "pay", inputs={"amount": 1}, timeout=0)))
    assert found(orch) == [
        "step 'Pay' in stage 'One': timeout: is 0; expected a positive number of seconds"
    ]


# --- 9. references --------------------------------------------------------------------------------


def _refs(start: Any = None) -> Resolver:
    orch = tiny(
        stage(
            "Intake",
            background("Score", "score", inputs={"amount": 1}),
            background("Find", "lookup"),
            review("Review"),
        ),
        decision("Route", outcome("Big", cond("Score.Outputs.score", "greater_than", 5), "Work")),
        stage("Work", PING),
        start=start or RECORD,
        variables=[var("amount", "currency"), var("tags", collection=True), var("acct", "record")],
        screens=[FORM, screen("multi", Field("picks", "multi_select", choices=("a",)))],
    )
    return Resolver(orch, REG)


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("$Record", Target(ValueType.RECORD)),
        ("$Record.Id", Target(ValueType.TEXT)),
        ("$Record.Amount", Target(ValueType.ANY)),
        ("$Record__Prior.Status", Target(ValueType.ANY)),
        ("$Orchestration.Instance", Target(ValueType.TEXT)),
        ("Intake", Target(ValueType.BOOLEAN)),
        ("Intake.Status", Target(ValueType.TEXT)),
        ("Score.Status", Target(ValueType.TEXT, step="Score")),
        ("Score.Outputs.score", Target(ValueType.NUMBER, step="Score", output=True)),
        ("Find.Outputs.owner.Name", Target(ValueType.ANY, step="Find", output=True)),
        ("Review.Outputs.ok", Target(ValueType.BOOLEAN, step="Review", output=True)),
        ("Big", Target(ValueType.BOOLEAN)),
        ("amount", Target(ValueType.CURRENCY)),
        ("tags", Target(ValueType.TEXT, collection=True)),
        ("acct.Name", Target(ValueType.ANY)),
    ],
)
def test_references_resolve(path: str, target: Target) -> None:
    assert _refs().resolve(ref(path)) == target


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (
            "$User.Id",
            "unknown global reference '$User.Id': expected $Record.Field, "
            "$Record__Prior.Field or $Orchestration.Instance",
        ),
        (
            "Intake.Outputs",
            "'Intake.Outputs': expected 'Intake.Status', or 'Intake' alone (true "
            "when the stage ran without error)",
        ),
        ("Score", "'Score': expected 'Status' or 'Outputs.<name>' after step 'Score'"),
        (
            "Score.Result",
            "'Score.Result': expected 'Status' or 'Outputs.<name>' after step 'Score'",
        ),
        (
            "Score.Outputs.total",
            "'Score.Outputs.total': flow 'score' has no output 'total'; it declares: score",
        ),
        (
            "Score.Outputs.score.x",
            "'Score.Outputs.score.x': output 'score' of step 'Score' is "
            "number; expected 'Score.Outputs.score' (only record outputs have fields)",
        ),
        (
            "Review.Outputs.okay",
            "'Review.Outputs.okay': screen 'form' has no field 'okay'; it has: ok, notes",
        ),
        (
            "Big.Name",
            "'Big.Name': decision outcome 'Big' is a Boolean with no fields; expected 'Big' alone",
        ),
        (
            "Route",
            "'Route': decision 'Route' has no value; expected one of its outcomes (true "
            "when taken): Big",
        ),
        (
            "amount.Name",
            "'amount.Name': 'amount' is a currency variable; expected 'amount' alone "
            "(only record variables have fields)",
        ),
        (
            "tags.x",
            "'tags.x': 'tags' is a text collection; expected 'tags' alone (only record "
            "variables have fields)",
        ),
        (
            "amont",
            "unknown reference 'amont' (did you mean 'amount'?): expected $Record.Field, a "
            "variable, Stage.Status, Step.Status, Step.Outputs.name or a decision outcome",
        ),
    ],
)
def test_references_that_do_not_resolve(path: str, message: str) -> None:
    with pytest.raises(UnresolvedReference) as info:
        _refs().resolve(ref(path))
    assert str(info.value) == message


def test_record_references_need_a_record_trigger() -> None:
    with pytest.raises(UnresolvedReference, match=r"^\$Record is only available in record-trig"):
        _refs(start=tiny().start).resolve(ref("$Record.Id"))
    with pytest.raises(UnresolvedReference) as info:
        _refs(start=on_record("Case", "create")).resolve(ref("$Record__Prior.Status"))
    assert str(info.value) == (
        "$Record__Prior is only available when the trigger fires on update or "
        "create_or_update; this one fires on create"
    )


def test_references_in_conditions_are_resolved_and_typed() -> None:
    orch = tiny(
        stage(
            "One", PING, exit=[("$Record.Status", "equals", "Done"), ("Ping.Status", "equals", 3)]
        ),
        decision(
            "Route",
            outcome("Big", cond("amount", "greater_than", ref("limit")), "Two"),
            outcome("Named", cond("amount", "starts_with", ref("label")), "Two"),
        ),
        stage("Two", background("P2", "ping")),
        variables=[var("amount", "number"), var("label")],
    )
    assert found(orch) == [
        "stage 'One': exit.conditions[1]: $Record is only available in record-triggered "
        "orchestrations; this one is autolaunched (read '$Record.Status' from an input variable "
        "instead)",
        "stage 'One': exit.conditions[2]: condition 2 (Ping.Status equals 3): compares text "
        "with number (3); expected text",
        "decision 'Route' outcome 'Big': conditions[1]: unknown reference 'limit': expected "
        "$Record.Field, a variable, Stage.Status, Step.Status, Step.Outputs.name or a decision "
        "outcome",
        "decision 'Route' outcome 'Named': conditions[1]: condition 1 (amount starts with "
        "label): starts_with needs text on both sides, but the left side is a number",
    ]


def test_condition_blocks_are_checked_everywhere() -> None:
    too_many = Conditions(tuple(cond("flag", "equals", True) for _ in range(3)), "and")
    orch = tiny(
        stage(
            "One",
            background("A", "ping", when=custom("1 AND (2", cond("flag", "equals", True))),
            background("B", "ping", when=Requirements(Conditions((), "and"))),
            exit=custom("1 OR 3", cond("flag", "equals", True), cond("flag", "is_null", "yes")),
        ),
        decision("Route", Outcome("Many", too_many, Connector("Two"))),
        stage("Two", background("P2", "ping")),
        start=on_record(
            "Case",
            "update",
            when=custom("1", cond("$Record.X", "equals", 1), cond("$Record.Y", "equals", 2)),
        ),
        variables=[var("flag", "boolean")],
    )
    assert found(orch, max_conditions=2) == [
        "start: conditions: custom logic leaves out condition 2",
        "stage 'One': exit.conditions: custom logic names condition 3, but there are only 2 "
        "conditions",
        "stage 'One': exit.conditions: custom logic leaves out condition 2",
        "stage 'One': exit.conditions: condition 2 (flag is_null 'yes'): is_null takes true or "
        "false, not 'yes'",
        "step 'A' in stage 'One': entry.conditions: expected ')' at column 8",
        "step 'B' in stage 'One': entry.conditions: has no conditions",
        "decision 'Route' outcome 'Many': conditions: has 3 conditions; at most 2 are allowed "
        "(setting max_conditions)",
    ]
    assert not any("has 3 conditions" in p for p in found(orch))  # the default is 10


# --- 10. reading other steps' outputs -------------------------------------------------------------


def test_reading_a_parallel_step_without_waiting_is_a_warning() -> None:
    orch = tiny(
        stage(
            "One",
            background("Score", "score", inputs={"amount": 1}),
            review(
                "Review",
                inputs={"score": ref("Score.Outputs.score")},
                done_when=cond("Score.Outputs.score", "greater_than", 10),
            ),
            background(
                "Later", "score", inputs={"amount": ref("Score.Outputs.score")}, after="Review"
            ),
            background(
                "Gated",
                "score",
                inputs={"amount": ref("Score.Outputs.score")},
                when=cond("Review.Status", "equals", "Completed"),
            ),
        ),
        screens=[FORM],
    )
    assert found(orch) == [
        "warning: step 'Review' in stage 'One': exit.conditions[1]: reads Score.Outputs.score "
        "but does not wait for step 'Score': parallel steps have no ordering guarantee; add "
        "after=['Score']",
        "warning: step 'Review' in stage 'One': inputs.score: reads Score.Outputs.score but "
        "does not wait for step 'Score': parallel steps have no ordering guarantee; add "
        "after=['Score']",
        "warning: step 'Later' in stage 'One': inputs.amount: reads Score.Outputs.score but "
        "does not wait for step 'Score': parallel steps have no ordering guarantee; add "
        "after=['Review', 'Score']",
        "warning: step 'Gated' in stage 'One': inputs.amount: reads Score.Outputs.score but "
        "does not wait for step 'Score': parallel steps have no ordering guarantee; add the "
        "entry condition Score.Status equals 'Completed'",
    ]


def test_waiting_directly_through_others_or_by_status_condition_is_enough() -> None:
    score = background("Score", "score", inputs={"amount": 1})
    orch = tiny(
        stage(
            "One",
            score,
            background("Next", "ping", after="Score"),
            background(
                "Last", "score", inputs={"amount": ref("Score.Outputs.score")}, after="Next"
            ),
            background(
                "Gated",
                "score",
                inputs={"amount": ref("Score.Outputs.score")},
                when=cond("Score.Status", "equals", "completed"),
            ),
            background("Peek", "ping", when=cond("Score.Status", "not_equals", "Error")),
        ),
    )
    assert found(orch) == []


def test_reading_outputs_of_a_stage_that_has_not_run() -> None:
    orch = tiny(
        stage("One", background("Early", "score", inputs={"amount": ref("Late.Outputs.score")})),
        decision("Route", outcome("Big", cond("Late.Outputs.score", "greater_than", 5), "Two")),
        stage("Two", background("Late", "score", inputs={"amount": 1})),
        start=on_record("Case", when=cond("Late.Outputs.score", "greater_than", 1)),
    )
    assert found(orch) == [
        "start: conditions[1]: reads Late.Outputs.score, but no step has run when the run "
        "starts; expected $Record or $Record__Prior fields",
        "step 'Early' in stage 'One': inputs.amount: reads Late.Outputs.score, but step 'Late' "
        "is in stage 'Two', which never runs before stage 'One'; a step's outputs exist only "
        "after it completes",
        "decision 'Route' outcome 'Big': conditions[1]: reads Late.Outputs.score, but step "
        "'Late' is in stage 'Two', which never runs before decision 'Route'; a step's outputs "
        "exist only after it completes",
    ]


def test_reading_outputs_of_an_earlier_stage_or_around_a_loop_is_fine() -> None:
    orch = tiny(
        stage("One", background("First", "score", inputs={"amount": ref("Again.Outputs.score")})),
        stage("Two", background("Again", "score", inputs={"amount": ref("First.Outputs.score")})),
        decision(
            "Loop", outcome("Redo", cond("Again.Outputs.score", "less_than", 5), "One", goto=True)
        ),
    )
    assert found(orch) == []


# --- 11. screens ----------------------------------------------------------------------------------


def test_screen_fields() -> None:
    fields = [
        Field("pick", "picklist"),
        Field("many", "multi_select", default=["x"], choices=("a", "b")),
        Field("size", "number", min=10, max=5),
        Field("code", "text", min_length=5, max_length=2),
        Field("neg", "text", max_length=-1),
        Field("desk", "text", regex="[A-Z"),
        Field("count", "number", default="seven"),
        Field("level", "picklist", default="P9", choices=("P1", "P2")),
        Field("low", "currency", default=Decimal("-1"), min=0),
        Field("room", "text", default="r-1", regex=r"[A-Z]-\d"),
        Field("email", "email", default="nobody"),
        Field("fine", "number", default=3, min=0, max=5),
    ]
    step = review("Review")
    orch = tiny(stage("One", step), screens=[screen("form", *fields), screen("unused")])
    assert found(orch) == [
        "screen 'form' field 'pick': choices: a picklist field has no choices; expected "
        "choices=('A', 'B', ...)",
        "screen 'form' field 'many': default: ['x'] is not allowed: ['x'] not among the choices "
        "['a', 'b']",
        "screen 'form' field 'size': min: 10 is greater than max 5; expected min <= max",
        "screen 'form' field 'code': min_length: 5 is greater than max_length 2; expected "
        "min_length <= max_length",
        "screen 'form' field 'neg': max_length: is -1; expected a length of 0 or more",
        "screen 'form' field 'desk': regex: '[A-Z' is not a valid regular expression "
        "(unterminated character set at position 0); expected a Python regular expression",
        "screen 'form' field 'count': default: 'seven' does not fit a number field; expected a "
        "number value",
        "screen 'form' field 'level': default: 'P9' is not allowed: expected one of ['P1', "
        "'P2'], got 'P9'",
        "screen 'form' field 'low': default: Decimal('-1') is not allowed: must be at least 0, "
        "got -1",
        "screen 'form' field 'room': default: 'r-1' is not allowed: must match the pattern "
        "'[A-Z]-\\\\d', got 'r-1'",
        "screen 'form' field 'email': default: 'nobody' is not allowed: expected an email "
        "address, got 'nobody'",
        "warning: screen 'unused': name: is not used by any interactive step; expected a step "
        "that shows it, or remove the screen",
    ]


# --- 12. variables --------------------------------------------------------------------------------


def test_variable_defaults_must_fit_their_type() -> None:
    variables = [
        var("count", "number", default="3"),
        var("tags", collection=True, default="a"),
        var("ok", "boolean", default=False),
        var("amount", "currency", default=5, input=True),
        var("row", "record", object="Case", default={"Id": "500xx"}),
    ]
    assert found(tiny(variables=variables)) == [
        "variable 'count': default: '3' is not a number value; expected a number value",
        "variable 'tags': default: 'a' is not a list of text values; expected a list of text "
        "values",
    ]


def test_problems_read_well_as_text_and_html() -> None:
    from orchlab.definition.builder import background, orchestration, stage
    from orchlab.definition.registry import Registry
    from orchlab.definition.validate import Problems, validate

    found = validate(orchestration("Demo", stage("One", background("Hi", "hi"))), Registry())
    assert isinstance(found, Problems) and isinstance(found, list) and len(found) == 1
    assert str(found) == (
        "step 'Hi' in stage 'One': flow: flow 'hi' is not registered; "
        "expected a flow registered with @flow"
    )
    html = found._repr_html_()
    assert "<table>" in html and "✖ error" in html and "step &#x27;Hi&#x27;" in html
    assert str(Problems()) == "no problems" and "no problems" in Problems()._repr_html_()
