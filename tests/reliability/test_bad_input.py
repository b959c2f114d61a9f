# ruff: noqa: E501 - the case tables read best one case to a line
"""Bad input at every entry point: a clear orchlab error, and nothing stored.

Each case names its entry point, the call, the error type expected and a fragment of the
message that names what was wrong (the element, field or argument) or what was expected.
Every case also checks that the history is byte-for-byte unchanged: the DuckDB file and its
sidecars (.wal, .seq) are hashed before and after, and the whole log table compared. The
engine cases share one world (a refusal changes nothing, which is what is checked; a case
that wrongly succeeded would change it and fail right there).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

import orchlab as ol
from orchlab import (
    ConditionError,
    DirectoryError,
    EngineError,
    Field,
    FormInvalid,
    LogicError,
    NotFound,
    OrchlabError,
    PermissionDenied,
)
from orchlab.definition.logic import parse_logic
from orchlab.definition.serialize import loads
from orchlab.definition.validate import InvalidOrchestration
from orchlab.limits import MAX_DATA_ITEMS, MAX_ELEMENTS, MAX_NAME, MAX_STEPS_PER_STAGE, MAX_TEXT
from tests.reliability.common import file_hashes
from tests.reliability.world import World, definition, make_world


@dataclass(frozen=True)
class Case:
    id: str
    call: Callable[[World], Any]
    error: type[BaseException]
    fragment: str


CASES: list[Case] = []


def case(id: str, error: type[BaseException], fragment: str) -> Callable[[Any], Any]:
    def add(call: Callable[[World], Any]) -> Callable[[World], Any]:
        CASES.append(Case(id, call, error, fragment))
        return call

    return add


def add(id: str, call: Callable[[World], Any], error: type[BaseException], fragment: str) -> None:
    CASES.append(Case(id, call, error, fragment))


# --- form values (complete_work_item) -------------------------------------------------------------

GROUP_ITEM = "For_group"  # completed by its member gm; every case below is refused


def _submit(values: Any, user: Any = "gm", **kw: Any) -> Callable[[World], Any]:
    return lambda w: w.engine.complete_work_item(w.items[GROUP_ITEM], user, values, **kw)


BAD_FIELD_VALUES: dict[str, list[Any]] = {
    "approved": ["maybe", 2, Decimal("0.5"), object(), "ja", "null"],  # [] is blank: unchecked
    "amount": [-1, Decimal("-0.01"), 1001, "abc", "NaN", "sNaN", float("nan"), float("inf"),
               float("-inf"), Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), True,
               {}, "1e999999", "12,5", object()],
    "count": ["x", float("nan"), float("inf"), float("-inf"), {}, True, "NaN",
              Decimal("NaN"), "1 2"],
    "note": ["x" * 21, 5, b"bytes", ["a"], {"a": 1}, "x" * (MAX_TEXT + 1), "\ud800"],
    "code": ["abc", "A-", "a-1", "A-1x", 5, ["A-1"], "\ud800"],
    "choice": ["Maybe", "yes", 1, ["Yes"], {"Yes": 1}],
    "when": ["2026-13-01", "garbage", 5, "2026-02-30", ["2026-01-01"], {}, True],
}  # fmt: skip
for _field, _values in BAD_FIELD_VALUES.items():
    for _i, _value in enumerate(_values):
        add(f"form.{_field}[{_i}]", _submit({"must": "x", _field: _value}), FormInvalid, _field)
for _i, _must in enumerate([None, "", "   ", []]):
    add(f"form.must.blank[{_i}]", _submit({"must": _must}), FormInvalid, "Must is required")
add("form.must.dict", _submit({"must": {}}), FormInvalid, "field 'must': expected text")
add("form.must.missing", _submit({}), FormInvalid, "'must'")
add("form.unknown_field", _submit({"must": "x", "nope": 1}), FormInvalid, "has no such field")
add("form.unknown_field_dollar", _submit({"must": "x", "$x": 1}), FormInvalid, "no such field")
for _i, _values in enumerate(["text", ["must"], 5, 1.5, b"x", ("must", "x")]):
    add(f"form.values_not_mapping[{_i}]", _submit(_values), EngineError, "expected a mapping")
for _i, _item in enumerate([5, None, "", ["x"], "x" * (MAX_NAME + 1), "a\nb", 1.5]):
    add(
        f"form.item_id[{_i}]",
        lambda w, item=_item: w.engine.complete_work_item(item, "gm", {"must": "x"}),
        EngineError,
        "item_id",
    )
add("form.item_unknown", lambda w: w.engine.complete_work_item("R9-W9", "gm", {}), NotFound,
    "does not exist")  # fmt: skip
for _i, _comments in enumerate([5, ["x"], {"a": 1}, "x" * (MAX_TEXT + 1), b"x"]):
    add(f"form.comments[{_i}]", _submit({"must": "x"}, comments=_comments), EngineError,
        "comments")  # fmt: skip
for _i, _user in enumerate([None, "", 5, "ghost", "nm", "asg", "qm", "ro1"]):
    add(f"form.user[{_i}]", _submit({"must": "x"}, user=_user), PermissionDenied,
        "user" if _user else "a user must complete it")  # fmt: skip


# --- start inputs ---------------------------------------------------------------------------------


def _start(inputs: Any, **kw: Any) -> Callable[[World], Any]:
    kw.setdefault("by", "asg")
    kw.setdefault("name", "Work")
    return lambda w: w.engine.start_run(inputs=inputs, **kw)


for _i, _inputs in enumerate([["x"], "x", 5, 1.5, b"x", ("amount", 1), {"amount"}]):
    add(f"start.inputs_not_mapping[{_i}]", _start(_inputs), EngineError, "expected a mapping")
BAD_INPUTS: dict[str, list[Any]] = {
    "amount": ["x", float("nan"), float("inf"), Decimal("NaN"), [], [1], {}, True, "12"],
    "title": [5, True, ["t"], {"a": 1}, "x" * (MAX_TEXT + 1), "\ud800", Decimal(1), b"t"],
    "tags": ["x", [1], [None, 5], {"a"}, ("a", 5), {"a": "b"}, ["x" * (MAX_TEXT + 1)]],
    "flag": ["yes", 1, "true", [], {}],
    "day": ["garbage", "2026-01-01", 5, [], True],
}  # fmt: skip
for _var, _values in BAD_INPUTS.items():
    for _i, _value in enumerate(_values):
        add(f"start.{_var}[{_i}]", _start({_var: _value}), EngineError, _var)
add("start.unknown_input", _start({"nope": 1}), EngineError, "unknown input variables ['nope']")
add("start.int_key", _start({1: "x"}), EngineError, "key 1 is int")
add("start.tag_key", _start({"title": "t", "$x": 1}), EngineError, "'$x'")
for _i, _tag in enumerate(["$decimal", "$date", "$datetime", "$set", "$tuple"]):
    add(f"start.tagged[{_i}]", _start({"tags": [{_tag: "x"}]}), EngineError, "reserves")
for _i, (_kw, _err, _frag) in enumerate(
    [
        ({"name": 5}, EngineError, "name is 5"),
        ({"name": ""}, EngineError, "name is ''"),
        ({"name": None}, EngineError, "name is None"),
        ({"name": "Nope"}, NotFound, "no deployed orchestration 'Nope'"),
        ({"name": "x" * (MAX_NAME + 1)}, EngineError, "at most 255 characters"),
        ({"version": 0}, EngineError, "version is 0"),
        ({"version": -1}, EngineError, "version is -1"),
        ({"version": "1"}, EngineError, "version is '1'"),
        ({"version": 1.0}, EngineError, "version is 1.0"),
        ({"version": True}, EngineError, "version is True"),
        ({"version": 9}, NotFound, "v9"),
        ({"record_id": "nope"}, NotFound, "record 'nope' does not exist"),
        ({"record_id": 5}, EngineError, "record_id is 5"),
        ({"record_id": ""}, EngineError, "record_id is ''"),
        ({"by": None}, PermissionDenied, "an actor is needed"),
        ({"by": "ghost"}, PermissionDenied, "'ghost' is not in the directory"),
    ]
):
    add(f"start.args[{_i}]", _start({}, **_kw), _err, _frag)


# --- records --------------------------------------------------------------------------------------


def _deep(levels: int) -> dict[str, Any]:
    top: dict[str, Any] = {}
    cur = top
    for _ in range(levels):
        cur["a"] = {}
        cur = cur["a"]
    return top


BAD_FIELDS: list[tuple[str, Any, str]] = [
    ("str", "abc", "expected a mapping"),
    ("list", ["x"], "expected a mapping"),
    ("int", 5, "expected a mapping"),
    ("bytes", b"x", "expected a mapping"),
    ("nan", {"A": float("nan")}, "fields.A: nan is not a finite number"),
    ("inf", {"A": float("inf")}, "fields.A: inf is not a finite number"),
    ("-inf", {"A": float("-inf")}, "not a finite number"),
    ("decimal_nan", {"A": Decimal("NaN")}, "fields.A"),
    ("decimal_snan", {"A": Decimal("sNaN")}, "fields.A"),
    ("set", {"A": {1, 2}}, "a set cannot be stored"),
    ("frozenset", {"A": frozenset({1})}, "fields.A"),
    ("object", {"A": object()}, "cannot be stored and read back"),
    ("bytes_value", {"A": b"x"}, "a bytes cannot be stored"),
    ("complex", {"A": 1j}, "fields.A"),
    ("int_key", {1: "x"}, "key 1 is int"),
    ("none_key", {None: "x"}, "key None"),
    ("tuple_key", {("a",): "x"}, "fields"),
    ("huge_text", {"A": "x" * (MAX_TEXT + 1)}, "expected at most 131,072"),
    ("huge_key", {"x" * (MAX_TEXT + 1): 1}, "fields"),
    ("deep", {"A": _deep(100)}, "fields.A.a.a"),
    ("many_items", {"A": list(range(MAX_DATA_ITEMS + 1))}, "10,001 items"),
    ("many_keys", {f"k{i}": i for i in range(MAX_DATA_ITEMS + 1)}, "10,001 keys"),
    ("surrogate", {"A": "\ud800"}, "lone surrogate"),
    ("surrogate_key", {"\udfff": 1}, "lone surrogate"),
    ("tag_date", {"A": {"$date": "garbage"}}, "'$date'"),
    ("tag_decimal", {"A": {"$decimal": "x"}}, "'$decimal'"),
    ("tag_datetime", {"A": {"$datetime": "2026-01-01T00:00:00"}}, "'$datetime'"),
    ("tag_top", {"$decimal": "1"}, "'$decimal'"),
    ("nested_nan", {"A": [1, {"b": float("nan")}]}, "not a finite number"),
    ("nested_set", {"A": {"b": [{1}]}}, "a set cannot be stored"),
]
for _name, _fields, _frag in BAD_FIELDS:
    add(f"record.create.{_name}", lambda w, f=_fields: w.engine.create_record("Account", f, by="asg"),
        EngineError, _frag)  # fmt: skip
    add(f"record.update.{_name}", lambda w, f=_fields: w.engine.update_record(w.record, f, by="asg"),
        EngineError, _frag)  # fmt: skip
for _i, _object in enumerate([5, "", None, "x" * (MAX_NAME + 1), "a\tb", ["Account"]]):
    add(f"record.object[{_i}]", lambda w, o=_object: w.engine.create_record(o, {}, by="asg"),
        EngineError, "object")  # fmt: skip
for _i, _rid in enumerate([5, "", None, "x" * (MAX_NAME + 1), ["REC1"]]):
    add(f"record.update_id[{_i}]", lambda w, r=_rid: w.engine.update_record(r, {}, by="asg"),
        EngineError, "record_id")  # fmt: skip
for _i, _rid in enumerate([5, "", "x" * (MAX_NAME + 1), "a\nb"]):
    add(f"record.create_id[{_i}]", lambda w, r=_rid: w.engine.create_record("A", {}, r, by="asg"),
        EngineError, "id")  # fmt: skip
add("record.create_existing_id", lambda w: w.engine.create_record("A", {}, w.record, by="asg"),
    EngineError, "already exists")  # fmt: skip
add("record.update_unknown", lambda w: w.engine.update_record("REC999", {}, by="asg"), NotFound,
    "record 'REC999' does not exist")  # fmt: skip
add("record.by_unknown", lambda w: w.engine.create_record("A", {}, by="ghost"), PermissionDenied,
    "'ghost'")  # fmt: skip
add("record.by_none", lambda w: w.engine.update_record(w.record, {}, by=None), PermissionDenied,
    "actor is needed")  # fmt: skip


# --- admin calls with bad arguments ---------------------------------------------------------------

ADMIN_CALLS: list[tuple[str, Callable[[World], Any], type[BaseException], str]] = [
    ("reassign.to_unknown", lambda w: w.engine.reassign_work_item(w.items["For_user"], "nobody",
     by="adm"), NotFound, "'nobody' is not a user, group or queue"),
    ("reassign.item_unknown", lambda w: w.engine.reassign_work_item("R1-W99", "nm", by="adm"),
     NotFound, "does not exist"),
    ("reassign.item_int", lambda w: w.engine.reassign_work_item(5, "nm", by="adm"), EngineError,
     "item_id"),
    ("reassign.to_int", lambda w: w.engine.reassign_work_item(w.items["For_user"], 5, by="adm"),
     EngineError, "to is 5"),
    ("reassign.to_empty", lambda w: w.engine.reassign_work_item(w.items["For_user"], "",
     by="adm"), EngineError, "to is ''"),
    ("cancel.unknown", lambda w: w.engine.cancel_run("R999", by="adm"), NotFound, "'R999'"),
    ("cancel.int", lambda w: w.engine.cancel_run(5, by="adm"), EngineError, "run_id is 5"),
    ("cancel.none", lambda w: w.engine.cancel_run(None, by="adm"), EngineError, "run_id"),
    ("suspend.unknown", lambda w: w.engine.suspend_run("R999", by="adm"), NotFound, "'R999'"),
    ("suspend.list", lambda w: w.engine.suspend_run(["R1"], by="adm"), EngineError, "run_id"),
    ("resume.in_progress", lambda w: w.engine.resume_run(w.run.id, by="adm"), EngineError,
     "only Suspended or Error runs can be resumed"),
    ("resume.unknown", lambda w: w.engine.resume_run("R999", by="adm"), NotFound, "'R999'"),
    ("event.unknown", lambda w: w.engine.publish_event("R999", by="asg"), NotFound, "'R999'"),
    ("event.int", lambda w: w.engine.publish_event(5, by="asg"), EngineError, "run_id"),
    ("activate.no_version", lambda w: w.engine.activate("Work", 9, by="adm"), NotFound,
     "has no version 9"),
    ("activate.no_name", lambda w: w.engine.activate("Nope", 1, by="adm"), NotFound, "'Nope'"),
    ("run_step.not_waiting", lambda w: w.engine.run_step(w.run.id, "Done", by="adm"), EngineError,
     "not an asynchronous step waiting"),
    ("run_step.unknown_run", lambda w: w.engine.run_step("R999", "Later", by="adm"), NotFound,
     "'R999'"),
    ("finish_step.outputs", lambda w: w.engine.finish_step(w.run.id, "Later", "x", by="adm"),
     EngineError, "outputs is a str"),
    ("finish_step.error_int", lambda w: w.engine.finish_step(w.run.id, "Later", error=5,
     by="adm"), EngineError, "error is an int"),
    ("finish_step.outputs_nan", lambda w: w.engine.finish_step(w.run.id, "Later",
     {"ok": float("nan")}, by="adm"), EngineError, "not a finite number"),
    ("add_user.empty", lambda w: w.engine.add_user("", by="adm"), DirectoryError, "'username'"),
    ("add_user.system", lambda w: w.engine.add_user("system", by="adm"), DirectoryError,
     "reserved for the system actor"),
    ("add_user.int", lambda w: w.engine.add_user(5, by="adm"), DirectoryError, "username"),
    ("add_user.none", lambda w: w.engine.add_user(None, by="adm"), DirectoryError, "username"),
    ("add_user.long", lambda w: w.engine.add_user("a" * 300, by="adm"), DirectoryError,
     "at most 255 characters"),
    ("add_user.spaces", lambda w: w.engine.add_user(" bob ", by="adm"), DirectoryError,
     "no spaces at either end"),
    ("add_user.group_name", lambda w: w.engine.add_user("G", by="adm"), DirectoryError, "'G'"),
    ("add_group.unknown_member", lambda w: w.engine.add_group("G3", ["ghost"], by="adm"),
     DirectoryError, "unknown users ['ghost']"),
    ("add_group.user_name", lambda w: w.engine.add_group("nm", [], by="adm"), DirectoryError,
     "the name is taken by a user"),
    ("add_group.empty", lambda w: w.engine.add_group("", [], by="adm"), DirectoryError, "name"),
    ("add_queue.routing", lambda w: w.engine.add_queue("Q3", ["nm"], routing="bogus", by="adm"),
     DirectoryError, "expected one of pool, round_robin, least_open"),
    ("add_queue.unknown_member", lambda w: w.engine.add_queue("Q3", ["ghost"], by="adm"),
     DirectoryError, "'ghost'"),
    ("add_queue.group_name", lambda w: w.engine.add_queue("G", [], by="adm"), DirectoryError,
     "'G'"),
]  # fmt: skip
for _id, _call, _err, _frag in ADMIN_CALLS:
    add(f"admin.{_id}", _call, _err, _frag)


# --- definitions through the builder and deploy ---------------------------------------------------


def _deploy(make: Callable[[], ol.Orchestration]) -> Callable[[World], Any]:
    return lambda w: w.engine.deploy(make(), by="adm")


def _orch(*elements: Any, **kw: Any) -> ol.Orchestration:
    kw.setdefault("screens", [ol.screen("Form", Field("must", "text", "Must"))])
    return ol.orchestration("Bad", *elements, **kw)


def _stage(*steps: Any, name: str = "S", **kw: Any) -> Any:
    return ol.stage(name, *(steps or (ol.background("B", "noop"),)), **kw)


BAD_DEFINITIONS: list[tuple[str, Callable[[], ol.Orchestration], type[BaseException], str]] = [
    ("unknown_flow", lambda: _orch(_stage(ol.background("B", "no_such_flow"))), InvalidOrchestration,
     "no_such_flow"),
    ("unknown_screen", lambda: _orch(_stage(ol.interactive("I", "Nope", ol.user("asg")))),
     InvalidOrchestration, "Nope"),
    ("no_assignee", lambda: _orch(_stage(ol.interactive("I", "Form", None))), InvalidOrchestration,
     "assignee"),
    ("duplicate_stage", lambda: _orch(_stage(), _stage(ol.background("C", "noop"))),
     OrchlabError, "'S'"),
    ("duplicate_step", lambda: _orch(_stage(ol.background("B", "noop"), ol.background("B", "noop"))),
     OrchlabError, "'B'"),
    ("next_unknown", lambda: _orch(_stage(next="Nowhere")), OrchlabError, "Nowhere"),
    ("fault_unknown", lambda: _orch(_stage(on_fault="Nowhere")), OrchlabError, "Nowhere"),
    ("after_unknown", lambda: _orch(_stage(ol.background("B", "noop", after="Ghost"))),
     OrchlabError, "Ghost"),
    ("after_itself", lambda: _orch(_stage(ol.background("B", "noop", after="B"))), OrchlabError,
     "'B'"),
    ("decision_unknown_target", lambda: _orch(ol.decision("D", ol.outcome("O",
     [("$Variable.x", "equals", 1)], to="Nowhere")), _stage(),
     variables=[ol.var("x", "number")]), OrchlabError, "Nowhere"),
    ("condition_unknown_variable", lambda: _orch(_stage(ol.background("B", "noop",
     when=[("$Variable.nope", "equals", 1)]))), OrchlabError, "nope"),
    ("currency_min_text", lambda: _orch(_stage(), screens=[ol.screen("F", Field("a", "currency",
     "A", min="abc"))]), OrchlabError, "min"),
    ("field_min_above_max", lambda: _orch(_stage(), screens=[ol.screen("F", Field("a", "number",
     "A", min=5, max=1))]), OrchlabError, "'a'"),
    ("field_bad_regex", lambda: _orch(_stage(), screens=[ol.screen("F", Field("a", "text", "A",
     regex="("))]), OrchlabError, "regex"),
    ("picklist_no_choices", lambda: _orch(_stage(), screens=[ol.screen("F", Field("a", "picklist",
     "A"))]), OrchlabError, "choices"),
    ("duplicate_field", lambda: _orch(_stage(), screens=[ol.screen("F", Field("a"), Field("a"))]),
     OrchlabError, "'a'"),
    ("surrogate_label", lambda: _orch(_stage(label="\ud800")), OrchlabError, "surrogate"),
    ("timeout_inf", lambda: _orch(_stage(ol.external("E", "noop", timeout=float("inf")))),
     OrchlabError, "timeout"),
    ("negative_version", lambda: _orch(_stage(), version=-1), OrchlabError, "version"),
    ("no_elements", lambda: ol.orchestration("Empty"), OrchlabError, "Empty"),
    ("name_space", lambda: ol.orchestration("has space", _stage()), OrchlabError, "has space"),
    ("name_empty", lambda: ol.orchestration("", _stage()), OrchlabError, "name"),
    ("step_name_digit", lambda: _orch(_stage(ol.background("1B", "noop"))), OrchlabError, "1B"),
    ("too_many_steps", lambda: _orch(_stage(*(ol.background(f"B{i}", "noop")
     for i in range(MAX_STEPS_PER_STAGE + 1)))), OrchlabError, str(MAX_STEPS_PER_STAGE)),
    ("too_many_elements", lambda: _orch(*(_stage(name=f"S{i}") for i in range(MAX_ELEMENTS + 1))),
     OrchlabError, f"{MAX_ELEMENTS:,}"),
    ("variable_default_type", lambda: _orch(_stage(), variables=[ol.var("n", "number",
     default="x")]), OrchlabError, "'n'"),
    ("unknown_assignee_kind_ref", lambda: _orch(_stage(ol.interactive("I", "Form",
     ol.assignee_from("$Variable.nope")))), OrchlabError, "nope"),
    ("input_unknown_ref", lambda: _orch(_stage(ol.background("B", "noop",
     inputs={"x": ol.ref("$Variable.nope")}))), OrchlabError, "nope"),
    ("record_trigger_empty_object", lambda: _orch(_stage(), start=ol.on_record("")), OrchlabError,
     "object"),
    ("deploy_not_orchestration", lambda: "not a definition", EngineError, "expected an Orchestration"),  # type: ignore[return-value,arg-type]
]  # fmt: skip
for _id, _make, _err, _frag in BAD_DEFINITIONS:
    add(f"definition.builder.{_id}", _deploy(_make), _err, _frag)
add("definition.deploy_by_user", lambda w: w.engine.deploy(definition("X"), by="asg"),
    PermissionDenied, "only admins")  # fmt: skip


# --- definitions as YAML and JSON text ------------------------------------------------------------

_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
    for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)
BAD_TEXTS: list[tuple[str, str, str | None, str]] = [
    ("yaml_list", "- a\n- b\n", "yaml", "mapping"),
    ("yaml_scalar", "just text\n", "yaml", "mapping"),
    ("yaml_empty", "", "yaml", ""),
    ("yaml_syntax", "name: [unclosed\n", "yaml", ""),
    ("yaml_tab", "name:\t\x00x\n", "yaml", ""),
    ("yaml_python_tag", "!!python/object/apply:os.system ['echo hi']\n", "yaml", ""),
    ("yaml_python_name", "name: !!python/name:os.system\n", "yaml", ""),
    ("yaml_bomb", _BOMB, "yaml", ""),
    ("yaml_deep", "a: " + "[" * 10_000 + "]" * 10_000 + "\n", "yaml", ""),
    ("yaml_deep_maps", "".join("  " * i + f"k{i}:\n" for i in range(200)), "yaml", ""),
    ("yaml_big", "name: X\ndescription: " + "x" * 2_100_000 + "\n", "yaml", ""),
    ("yaml_no_name", "elements: []\n", "yaml", "name"),
    ("yaml_name_int", "name: 5\nelements: []\n", "yaml", "name"),
    ("yaml_elements_map", "name: X\nelements: {a: 1}\n", "yaml", "elements"),
    ("yaml_element_kind", "name: X\nelements:\n- {rocket: R}\n", "yaml",
     "expected one of stage, decision, end"),
    ("yaml_element_scalar", "name: X\nelements:\n- 5\n", "yaml", "elements[0]"),
    ("yaml_end_empty", "name: X\nelements:\n- {}\n", "yaml", "elements[0]"),
    ("yaml_step_kind", "name: X\nelements:\n- stage: S\n  steps: [{teleport: T}]\n", "yaml",
     "teleport"),
    ("yaml_step_no_flow", "name: X\nelements:\n- stage: S\n  steps: [{background: B}]\n",
     "yaml", "flow"),
    ("yaml_stage_steps_map", "name: X\nelements:\n- stage: S\n  steps: {a: 1}\n", "yaml",
     "steps"),
    ("yaml_stage_name_list", "name: X\nelements:\n- stage: [S]\n", "yaml", "stage"),
    ("yaml_version_text", "name: X\nversion: abc\nelements: []\n", "yaml", "version"),
    ("yaml_version_negative", "name: X\nversion: -3\nelements: []\n", "yaml", "version"),
    ("yaml_unknown_key", "name: X\nelementz: []\n", "yaml", "elementz"),
    ("yaml_timeout_inf", "name: X\nelements:\n- stage: S\n  steps: [{external: E, action: a, "
     "timeout: .inf}]\n", "yaml", "timeout"),
    ("yaml_timeout_text", "name: X\nelements:\n- stage: S\n  steps: [{external: E, action: a, "
     "timeout: soon}]\n", "yaml", "timeout"),
    ("yaml_unknown_step_field", "name: X\nelements:\n- stage: S\n  steps: [{background: B, "
     "flow: noop, colour: red}]\n", "yaml", "colour"),
    ("yaml_next_unknown", "name: X\nelements:\n- stage: S\n  next: Nowhere\n  steps: "
     "[{background: B, flow: noop}]\n", "yaml", "Nowhere"),
    ("yaml_surrogate_label", "name: X\nelements:\n- stage: S\n  label: \"\\ud800\"\n  steps: "
     "[{background: B, flow: noop}]\n", "yaml", "invalid Unicode"),
    ("yaml_duplicate_key", "name: X\nname: Y\nelements: []\n", "yaml", "name"),
    ("yaml_tagged_value", "name: X\nelements: []\nvariables:\n- {name: v, default: "
     "{$decimal: x}}\n", "yaml", ""),
    ("json_syntax", "{\"name\": ", "json", ""),
    ("json_list", "[1, 2]", "json", "mapping"),
    ("json_nan", "{\"name\": \"X\", \"version\": NaN, \"elements\": []}", "json", "version"),
    ("json_deep", "[" * 10_000 + "]" * 10_000, "json", ""),
    ("json_big_number", "{\"name\": \"X\", \"version\": 1" + "0" * 5000 + ", \"elements\": []}",
     "json", ""),
    ("json_no_name", "{\"elements\": []}", "json", "name"),
    ("json_null", "null", "json", "mapping"),
    ("json_string", "\"X\"", "json", "mapping"),
    ("json_surrogate", "{\"name\": \"\\ud800\", \"elements\": []}", "json", ""),
    ("json_bad_format", "{}", "toml", "format"),
]  # fmt: skip
for _id, _text, _format, _frag in BAD_TEXTS:
    add(f"definition.text.{_id}", lambda w, t=_text, f=_format: w.engine.deploy(loads(t, f),
        by="adm"), OrchlabError, _frag)  # fmt: skip


# --- conditions -----------------------------------------------------------------------------------

BAD_LOGIC = ["", " ", "1 AND", "AND 1", "(1", "1)", "1 OR OR 2", "1 2", "abc",
             "((1)", "1 AND (2 OR)", "NOT", "1 NOT 2", "-1", "1.5", "1 && 2", "1 XOR 2",
             "()", "1 AND 2 AND", "(" * 500 + "1" + ")" * 500, "1 " * 2000, "\x00", "१"]  # fmt: skip
for _i, _text in enumerate(BAD_LOGIC):
    add(f"condition.logic[{_i}]", lambda w, t=_text: parse_logic(t), LogicError, "")
BAD_CONDITIONS: list[tuple[str, Callable[[], Any], type[BaseException], str]] = [
    ("operator_unknown", lambda: ol.cond("$Variable.x", "~=", 1), ConditionError, "~="),
    ("operator_empty", lambda: ol.cond("$Variable.x", "", 1), ConditionError, "operator"),
    ("operator_int", lambda: ol.cond("$Variable.x", 5, 1), ConditionError, "operator"),
    ("left_int", lambda: ol.cond(5, "equals", 1), ConditionError, ""),
    ("left_empty", lambda: ol.cond("", "equals", 1), ConditionError, "left side"),
    ("tuple_short", lambda: ol.all_of(("$Variable.x",)), ConditionError, "(reference, operator"),
    ("tuple_long", lambda: ol.all_of(("$Variable.x", "equals", 1, 2)), ConditionError, "got"),
    ("item_int", lambda: ol.all_of(5), ConditionError, "got 5"),  # type: ignore[arg-type]
]  # fmt: skip
for _id, _make, _err, _frag in BAD_CONDITIONS:
    add(f"condition.{_id}", lambda w, m=_make: m(), _err, _frag)


# --- the tests ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    path = tmp_path_factory.mktemp("bad") / "world.duckdb"
    w = make_world(path)
    w.engine.store.refresh()  # reads fold nothing new from now on
    w.engine.store.checkpoint()
    yield w
    w.engine.store.close()


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_and_nothing_stored(world: World, c: Case) -> None:
    path = world.engine.store.path
    assert path is not None
    before, log = file_hashes(path), world.engine.store.execute("SELECT * FROM log")
    with pytest.raises(c.error) as caught:
        c.call(world)
    assert isinstance(caught.value, OrchlabError), f"not an orchlab error: {caught.value!r}"
    assert c.fragment in str(caught.value), f"{c.fragment!r} not in: {caught.value}"
    assert world.engine.store.execute("SELECT * FROM log") == log
    assert file_hashes(path) == before, "the history files changed"
