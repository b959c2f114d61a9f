"""Reading a `.flow-meta.xml` (or mdapi `.flow`) orchestration into an `Orchestration`.

`load(path)` gives an `Imported`: the orchestration, warnings about what was kept aside
(everything orchlab does not model is kept in `Orchestration.kept` and written back by
`save`), and a registry of placeholder flows for the flows the file only names.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

from orchlab.definition.conditions import Conditions
from orchlab.definition.model import (
    Autolaunched,
    Element,
    KeptPart,
    Orchestration,
    RecordTrigger,
    Stage,
    TriggerEvent,
    Variable,
)
from orchlab.definition.ref import RECORD, Ref
from orchlab.definition.registry import Registry
from orchlab.definition.values import ValueType
from orchlab.salesforce.block import apply_block, decode_block
from orchlab.salesforce.placeholders import placeholder_registry, placeholder_screens
from orchlab.salesforce.read_elements import read_decision, read_stage
from orchlab.salesforce.read_parts import label_or_blank, read_condition, read_connector
from orchlab.salesforce.reader import Fields, MetadataWarning, Reader
from orchlab.salesforce.shape import (
    BLOCK_NAME,
    BUILDER_VALUES,
    DEFAULT_API_VERSION,
    DEFAULT_STATUS,
    ORCHESTRATION_TYPES,
    natural_order,
)
from orchlab.salesforce.values import TYPE_NAMES, Unmodelled, data_type, read_value
from orchlab.salesforce.xml_read import XNode, parse_bytes, read_file
from orchlab.salesforce.xml_write import canonical, leaf, node

__all__ = ["Imported", "MetadataWarning", "api_name", "load", "loads", "read_flow"]

TRIGGERS = {
    "Create": TriggerEvent.CREATE,
    "Update": TriggerEvent.UPDATE,
    "CreateAndUpdate": TriggerEvent.CREATE_OR_UPDATE,
}
AFTER_SAVE = "RecordAfterSave"
RESOURCES = ("formulas", "constants", "textTemplates")  # referenced by name, like variables
_BUILDER = {
    canonical(node("processMetadataValues", leaf("name", k), node("value", leaf("stringValue", v))))
    for k, v in BUILDER_VALUES
}
_SUFFIXES = (".flow-meta.xml", ".flow")
_API_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


class Imported(NamedTuple):
    """What `load` read: unpack as ``orch, warnings, registry = load(path)``.

    Attributes:
        orchestration: the definition, with what it does not model in `kept`.
        warnings: what was kept aside or read with a caveat, one per finding.
        registry: a `Placeholder` for every flow, action and evaluation flow it names.
    """

    orchestration: Orchestration
    warnings: list[MetadataWarning]
    registry: Registry


def api_name(path: str | os.PathLike[str]) -> tuple[str, str | None]:
    """The flow's API name from its file name, and a warning when it had to be guessed.

    Salesforce names a flow by its file. API names cannot hold two underscores in a row, so
    a name such as ``owner__repo__My_Flow`` (a renamed copy) is read as its last part.
    """
    base = Path(path).name
    for suffix in _SUFFIXES:
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    if "__" in base:
        guess = base.rsplit("__", 1)[1]
        if _API_NAME.fullmatch(guess):
            return guess, f"{base!r} is not an API name (it holds '__'); read as {guess!r}"
    return base, None


def load(path: str | os.PathLike[str], *, name: str | None = None) -> Imported:
    """Read an orchestration file.

    Args:
        path: a `.flow-meta.xml` (source format) or `.flow` (metadata API format) file.
        name: the API name; by default the file name without its suffix (Salesforce's rule).

    Raises:
        MetadataError: the file is not an orchestration, is malformed or hostile; the message
            names the file, the line and the element.
    """
    guessed, note = api_name(path) if name is None else (name, None)
    imported = read_flow(read_file(path), guessed, str(path))
    if note:
        imported.warnings.insert(0, MetadataWarning(f"file {Path(path).name!r}", "name", note))
    return imported


def loads(data: bytes | str, name: str, *, source: str = "<metadata>") -> Imported:
    """Read an orchestration from XML text or bytes; `name` is its API name."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return read_flow(parse_bytes(raw, source), name, source)


def read_flow(root: XNode, name: str, source: str) -> Imported:
    """The `Imported` for a parsed `<Flow>`."""
    r = Reader(source)
    if root.tag != "Flow":
        raise r.fail(root, "not a flow: the root element must be <Flow>")
    f = Fields(r, root, "")
    process = f.take("processType")
    if process is None:
        raise r.fail(root, "no <processType>; an orchestration says <processType>Orchestrator")
    if process.text.strip() not in ORCHESTRATION_TYPES:
        raise r.fail(
            process,
            f"processType {process.text.strip()!r} is not an orchestration; expected "
            f"{' or '.join(ORCHESTRATION_TYPES)}",
        )
    if process.text.strip() != "Orchestrator":
        r.keep("", process)
    f.default("apiVersion", DEFAULT_API_VERSION)
    f.default("status", DEFAULT_STATUS)
    label = label_or_blank(f.text("label"), name)
    description = f.text("description") or ""
    is_template = f.flag("isTemplate")
    block: dict[str, Any] = {}
    for pmv in f.take_all("processMetadataValues"):
        if pmv.value("name") == BLOCK_NAME:
            text = pmv.first("value").value("stringValue") if pmv.first("value") else None
            block = decode_block(text or "", lambda m, pmv=pmv: r.fail(pmv, m))
        elif canonical(pmv) not in _BUILDER:
            r.keep("", pmv)
    nodes = [*f.take_all("decisions"), *f.take_all("orchestratedStages")]
    elements: list[Element] = [
        read_decision(r, n) if n.tag == "decisions" else read_stage(r, n) for n in nodes
    ]
    _check_names(r, elements, nodes)
    variables = [read_variable(r, v) for v in f.take_all("variables")]
    for tag in RESOURCES:
        for resource in f.take_all(tag):
            variables.append(_stand_in(r, resource))
    start_node = f.take("start")
    start, first = read_start(r, start_node) if start_node is not None else (Autolaunched(), None)
    others = {c.value("name"): c for c in f.left if c.value("name")}
    f.keep_rest()
    fail = lambda message: r.fail(root, message)  # noqa: E731 - the block's errors
    elements, first, extra = apply_block(block, elements, first, variables, fail)
    _check_targets(r, {e.name for e in elements}, others)
    if "order" not in block:
        by_name = {e.name: e for e in elements}
        elements = [by_name[n] for n in natural_order(first, elements)]
    label = name if extra.pop("label_is_name", False) else label
    screens = extra.pop("screens", None)
    orch = Orchestration(
        name, tuple(elements), label, description, start=start, variables=tuple(variables),
        first=first, is_template=is_template,
        kept=_in_order(r.kept),
        **extra,
    )  # fmt: skip
    # Forms come from the block (a native orchestration) or from what the steps read.
    orch = replace(orch, screens=placeholder_screens(orch) if screens is None else screens)
    warnings = [*r.layout_warnings(), *r.warnings]
    for line in root.comments:
        note = "an XML comment; comments are not kept (save writes none)"
        warnings.append(MetadataWarning("file", "<!-- -->", note, line))
    if start_node is not None and first is None and elements:
        warnings.append(MetadataWarning("start", "connector", "the start connects to nothing"))
    return Imported(orch, warnings, placeholder_registry(orch))


def _in_order(kept: list[KeptPart]) -> tuple[KeptPart, ...]:
    """Kept parts by owner and tag; repeats of one tag stay in file order (the first counts).

    Saving writes each element's children in XSD order, so this order survives any number of
    round trips, whatever order the file had.
    """
    return tuple(sorted(kept, key=lambda k: (k.owner, k.text[1:].split(">", 1)[0])))


def _check_names(r: Reader, elements: list[Element], nodes: list[XNode]) -> None:
    """Names own kept parts and are targets, so an exact duplicate is refused here."""
    seen: dict[str, tuple[str, int]] = {}
    for e, n in zip(elements, nodes, strict=True):
        parts = n.all("stageSteps") or n.all("rules")
        names = [(e.name, e.element_type, n)]
        kind = "step" if isinstance(e, Stage) else "outcome"
        names += [(p.value("name") or "", kind, p) for p in parts]
        for found, what, where in names:
            found = found.strip()
            if found in seen:
                other, line = seen[found]
                message = f"{what} {found!r} has the name of the {other} on line {line}; "
                raise r.fail(where, message + "expected unique names")
            seen[found] = (what, where.line)


def _check_targets(r: Reader, names: set[str], others: dict[str | None, XNode]) -> None:
    for target, where, owner in r.targets:
        if target in names:
            continue
        if target in others:
            message = f"{owner} connects to {target!r}, a <{others[target].tag}> element, "
            raise r.fail(where, message + "which orchestrations cannot run", owner)
        known = ", ".join(sorted(names)) or "none"
        message = f"{owner} connects to {target!r}, which is not an element; expected one of: "
        raise r.fail(where, message + known, owner)


def read_start(r: Reader, start: XNode) -> tuple[RecordTrigger | Autolaunched, str | None]:
    f = Fields(r, start, "start")
    connector = read_connector(r, f.take("connector"), "the start")
    f.default("locationX", "0")
    f.default("locationY", "0")
    if f.peek("object") is None:
        f.keep_rest({"filters": "an autolaunched orchestration has no start filters"})
        return Autolaunched(), connector.target if connector else None
    obj = f.required("object")
    kind = f.take("recordTriggerType")
    if kind is None or kind.text.strip() not in TRIGGERS:
        shown = repr(kind.text.strip()) if kind is not None else "missing"
        raise r.fail(
            kind or start,
            f"record trigger type {shown}; expected Create, Update or CreateAndUpdate",
        )
    trigger = f.take("triggerType")
    if trigger is not None and trigger.text.strip() != AFTER_SAVE:
        r.keep("start", trigger, "orchlab starts runs after the record is saved")
    filters = f.take_all("filters")
    logic = f.take("filterLogic") if filters else None
    items = [read_condition(r, n, f"start/filters[{i}]", "field") for i, n in enumerate(filters, 1)]
    items = [type(c)(Ref(f"{RECORD}.{c.left.path}"), c.operator, c.right) for c in items]
    conditions = None
    if items:
        text = logic.text.strip() if logic is not None and logic.text.strip() else "and"
        conditions = Conditions(tuple(items), text)
    changed = f.flag("doesRequireRecordChangedToMeetCriteria")
    f.keep_rest({"filterFormula": "orchlab does not evaluate formulas: runs start without it"})
    trigger_start = RecordTrigger(obj, TRIGGERS[kind.text.strip()], conditions, changed)
    return trigger_start, connector.target if connector else None


def read_variable(r: Reader, n: XNode) -> Variable:
    f = Fields(r, n, "")
    name = f.required("name")
    f.owner = f"variable:{name}"
    type_node = f.take("dataType")
    type_name = type_node.text.strip() if type_node is not None else "String"
    vtype = data_type(type_name)
    if type_node is not None and TYPE_NAMES[vtype] != type_name:
        r.keep(f.owner, type_node, f"read as {vtype.value}")
    collection, is_input, is_output = (f.flag(t) for t in ("isCollection", "isInput", "isOutput"))
    obj = f.text("objectType")
    description = f.text("description") or ""
    default = None
    value = f.take("value")
    try:
        default = read_value(value, r.source)
    except Unmodelled as problem:
        r.keep(f.owner, value, f"a <{problem.tag}> default is not modelled")  # type: ignore[arg-type]
    if isinstance(default, Ref):
        r.keep(f.owner, value, "a default read from another resource is not modelled")  # type: ignore[arg-type]
        default = None
    f.keep_rest()
    return Variable(name, vtype, collection, is_input, is_output, obj, default, description)


def _stand_in(r: Reader, n: XNode) -> Variable:
    """A formula, constant or text template: kept whole, seen by references as a variable."""
    name = n.value("name")
    if not name:
        raise r.fail(n, "has no <name>")
    vtype = ValueType.TEXT if n.tag == "textTemplates" else data_type(n.value("dataType") or "")
    default = None
    if n.tag == "constants":
        try:
            default = read_value(n.first("value"), r.source)
        except Unmodelled:
            default = None
        default = None if isinstance(default, Ref) else default
    why = {
        "formulas": "orchlab does not evaluate formulas; references to it read null",
        "textTemplates": "orchlab does not fill text templates; references to it read null",
        "constants": "read as a variable holding the constant",
    }[n.tag]
    r.keep("", n, why)
    return Variable(name.strip(), vtype, default=default)
