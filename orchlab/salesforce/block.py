"""The orchlab block: what orchlab models but orchestration metadata has no place for.

A native orchestration may have forms (screens), End elements, notification texts, action
timeouts, a version number and an element order of its own. Saving puts just those into one
`processMetadataValues` entry named "orchlab" (Flow Builder keeps such entries and ignores
them) as JSON; reading takes them back. A file without the entry needs none of it.
"""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from typing import Any

from orchlab.definition.codec import decode_value, encode_value
from orchlab.definition.model import (
    Connector,
    Decision,
    Element,
    End,
    ExternalStep,
    InteractiveStep,
    Notification,
    Orchestration,
    Stage,
    Variable,
)
from orchlab.definition.serialize import from_dict, to_dict
from orchlab.errors import DefinitionError
from orchlab.salesforce.placeholders import placeholder_screens
from orchlab.salesforce.shape import connectors, natural_order

__all__ = ["Block", "apply_block", "block_of", "decode_block"]

Block = dict[str, Any]
_KEYS = ("version", "source_template", "ends", "end_targets", "order", "screens")
_KEYS += ("notifications", "timeouts", "defaults", "labels")
DEFAULT_TIMEOUT = 30.0


def file_order(elements: tuple[Element, ...]) -> list[Element]:
    """The order a reader meets elements in a saved file: decisions, stages, then ends.

    Decisions and stages are written sorted by name, as Salesforce does, so a saved file
    differs from the one read only where something changed.
    """

    def by_name(kind: type) -> list[Element]:
        found = [e for e in elements if isinstance(e, kind)]
        return sorted(found, key=lambda e: (e.name.casefold(), e.name))

    return [*by_name(Decision), *by_name(Stage), *(e for e in elements if isinstance(e, End))]


def block_of(orch: Orchestration) -> Block:
    """What `orch` holds beyond what its metadata says (an empty dict for an imported one)."""
    block: Block = {}
    if orch.version != 1:
        block["version"] = orch.version
    if orch.source_template is not None:
        block["source_template"] = orch.source_template
    ends = [e for e in orch.elements if isinstance(e, End)]
    if ends:
        block["ends"] = [{"name": e.name, "label": e.label} for e in ends]
    end_names = {e.name for e in ends}
    targets = {}
    for e in orch.elements:
        for key, c in connectors(e):
            if c is not None and c.target in end_names:
                targets[key] = {"target": c.target, "goto": c.goto}
    if orch.first in end_names:
        targets["start"] = {"target": orch.first, "goto": False}
    if targets:
        block["end_targets"] = targets
    names = [e.name for e in orch.elements]
    if names != natural_order(orch.first, file_order(orch.elements)):
        block["order"] = names
    if orch.screens != placeholder_screens(orch):
        shell = Orchestration(orch.name, (), screens=orch.screens)
        block["screens"] = to_dict(shell).get("screens", [])
    notes, timeouts = {}, {}
    for _, step in orch.steps():
        if isinstance(step, InteractiveStep) and step.notification is not None:
            notes[step.name] = {
                "subject": step.notification.subject,
                "body": step.notification.body,
            }
        if isinstance(step, ExternalStep) and step.timeout != DEFAULT_TIMEOUT:
            timeouts[step.name] = step.timeout
    if notes:
        block["notifications"] = notes
    if timeouts:
        block["timeouts"] = timeouts
    defaults = {
        v.name: encode_value(v.default, f"variable {v.name!r} default", False)
        for v in orch.variables
        if isinstance(v.default, Decimal | list | tuple | dict)
    }
    if defaults:
        block["defaults"] = defaults
    # Reading takes a label equal to the API name for no label; these had one all the same.
    labels = [owner for owner, obj in _labelled(orch) if obj.label == obj.name]
    if labels:
        block["labels"] = labels
    return block


def _labelled(orch: Orchestration) -> list[tuple[str, Any]]:
    """(owner key, object) for everything with a label: the orchestration and its parts."""
    found: list[tuple[str, Any]] = [("", orch)]
    for e in orch.elements:
        found.append((f"{e.element_type}:{e.name}", e))
        if isinstance(e, Stage):
            found += [(f"step:{s.name}", s) for s in e.steps]
        elif isinstance(e, Decision):
            found += [(f"outcome:{o.name}", o) for o in e.outcomes]
    return found


def _relabel(e: Element, labels: set[str]) -> Element:
    """`e` (and its steps or outcomes) with label = name where `labels` names them."""
    if isinstance(e, Stage):
        steps = tuple(
            replace(s, label=s.name) if f"step:{s.name}" in labels else s for s in e.steps
        )
        e = replace(e, steps=steps)
    elif isinstance(e, Decision):
        outs = tuple(
            replace(o, label=o.name) if f"outcome:{o.name}" in labels else o for o in e.outcomes
        )
        e = replace(e, outcomes=outs)
    return replace(e, label=e.name) if f"{e.element_type}:{e.name}" in labels else e


def decode_block(text: str, fail: Any) -> Block:
    """The block's JSON, checked for shape; `fail(message)` makes the error to raise."""
    try:
        data = json.loads(text)
    except ValueError as error:
        raise fail(f"the orchlab block is not JSON: {error}") from None
    if not isinstance(data, dict):
        raise fail("the orchlab block is not a JSON object")
    unknown = sorted(set(data) - set(_KEYS))
    if unknown:
        raise fail(f"the orchlab block has unknown keys {unknown}; expected some of {list(_KEYS)}")
    return data


def _check(ok: bool, fail: Any, what: str) -> None:
    if not ok:
        raise fail(f"the orchlab block's {what}")


def apply_block(
    block: Block,
    elements: list[Element],
    first: str | None,
    variables: list[Variable],
    fail: Any,
) -> tuple[list[Element], str | None, dict[str, Any]]:
    """Elements, first element and other Orchestration fields with the block applied.

    `variables` is updated in place (defaults that metadata could not hold exactly).
    """
    elements = list(elements)
    for end in block.get("ends", []):
        ok = isinstance(end, dict) and isinstance(end.get("name"), str)
        _check(ok and isinstance(end.get("label", ""), str), fail, "ends need a name and label")
        elements.append(End(end["name"], end.get("label", "")))
    for key, spec in block.get("end_targets", {}).items():
        ok = isinstance(spec, dict) and isinstance(spec.get("target"), str)
        _check(ok, fail, f"end target {key!r} needs a target name")
        connector = Connector(spec["target"], bool(spec.get("goto", False)))
        if key == "start":
            first = connector.target
            continue
        elements = [_connect(e, key, connector, fail) for e in elements]
    order = block.get("order")
    if order is not None:
        names = [e.name for e in elements]
        _check(sorted(order) == sorted(names), fail, f"order {order} does not list {names}")
        by_name = {e.name: e for e in elements}
        elements = [by_name[n] for n in order]
    labels = block.get("labels", [])
    _check(isinstance(labels, list), fail, "labels is not a list")
    if labels:
        elements = [_relabel(e, set(labels)) for e in elements]
    notes, timeouts = block.get("notifications", {}), block.get("timeouts", {})
    if notes or timeouts:
        elements = [_step_extras(e, notes, timeouts, fail) for e in elements]
    extra: dict[str, Any] = {}
    if "" in labels:
        extra["label_is_name"] = True
    if "version" in block:
        _check(type(block["version"]) is int, fail, "version is not a whole number")
        extra["version"] = block["version"]
    if "source_template" in block:
        extra["source_template"] = str(block["source_template"])
    if "screens" in block:
        try:
            extra["screens"] = from_dict(
                {"name": "x", "elements": [], "screens": block["screens"]}
            ).screens
        except DefinitionError as error:
            raise fail(f"the orchlab block's screens: {error}") from None
    defaults = block.get("defaults", {})
    for i, v in enumerate(variables):
        if v.name in defaults:
            try:
                value = decode_value(defaults[v.name], f"variable {v.name!r} default")
            except DefinitionError as error:
                raise fail(f"the orchlab block's defaults: {error}") from None
            variables[i] = replace(v, default=value)
    return elements, first, extra


def _connect(e: Element, key: str, connector: Connector, fail: Any) -> Element:
    """`e` with the connector named `key` set, if `key` names one of its connectors."""
    if isinstance(e, Stage) and key in (f"stage:{e.name}/next", f"stage:{e.name}/on_fault"):
        field = "next" if key.endswith("/next") else "on_fault"
        _check(getattr(e, field) is None, fail, f"end target {key!r} clashes with a connector")
        return replace(e, **{field: connector})
    if isinstance(e, Decision):
        if key == f"decision:{e.name}/default":
            _check(e.default is None, fail, f"end target {key!r} clashes with a connector")
            return replace(e, default=connector)
        outcomes = list(e.outcomes)
        for i, o in enumerate(outcomes):
            if key == f"outcome:{o.name}":
                _check(o.next is None, fail, f"end target {key!r} clashes with a connector")
                outcomes[i] = replace(o, next=connector)
                return replace(e, outcomes=tuple(outcomes))
    return e


def _step_extras(e: Element, notes: dict[str, Any], timeouts: dict[str, Any], fail: Any) -> Element:
    if not isinstance(e, Stage):
        return e
    steps = list(e.steps)
    for i, step in enumerate(steps):
        if step.name in notes:
            note = notes[step.name]
            ok = isinstance(step, InteractiveStep) and isinstance(note, dict)
            _check(ok, fail, f"notification for {step.name!r} is not for an interactive step")
            subject, body = note.get("subject", ""), note.get("body", "")
            steps[i] = replace(step, notification=Notification(str(subject), str(body)))
        if step.name in timeouts:
            seconds = timeouts[step.name]
            ok = isinstance(step, ExternalStep) and type(seconds) in (int, float)
            _check(ok, fail, f"timeout for {step.name!r} is not a number for an external step")
            steps[i] = replace(step, timeout=seconds)
    return replace(e, steps=tuple(steps))


def encode(block: Block) -> str:
    return json.dumps(block, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
