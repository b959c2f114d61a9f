"""Writing an `Orchestration` as orchestration metadata (`.flow-meta.xml`).

Elements are written in XSD order with Salesforce's layout; what the model holds goes into
its metadata fields, what only orchlab has into the orchlab block (see `block`), and the
parts kept aside when the file was read go back where they came from.
"""

from __future__ import annotations

import os
from pathlib import Path

from orchlab.definition.model import AssigneeKind, Decision, Orchestration, Stage
from orchlab.errors import MetadataError
from orchlab.salesforce.block import block_of, encode, file_order
from orchlab.salesforce.read_parts import NEAREST
from orchlab.salesforce.shape import (
    BLOCK_NAME,
    BUILDER_VALUES,
    DEFAULT_API_VERSION,
    DEFAULT_STATUS,
    SINGULAR,
    step_class,
    subtype_class,
)
from orchlab.salesforce.values import OPERATORS, data_type
from orchlab.salesforce.write_elements import Owner, Writer, label_text
from orchlab.salesforce.xml_read import XNode
from orchlab.salesforce.xml_write import document, from_canonical, leaf, node, order_children

__all__ = ["dumps", "save", "to_tree"]

RESOURCES = ("formulas", "constants", "textTemplates")


def _resource_names(orch: Orchestration) -> set[str]:
    """Variables standing in for kept formulas, constants and text templates."""
    names = set()
    for part in orch.kept:
        if part.owner == "" and part.text.startswith(tuple(f"<{t}>" for t in RESOURCES)):
            name = from_canonical(part.text).value("name")
            names.add((name or "").strip())
    return names


def _guard(owner: Owner, kept: XNode) -> bool:
    """Whether a kept singular part still fits the element (the model may have changed)."""
    tag, text, model = kept.tag, kept.text.strip(), owner.model
    if tag == "actionType":
        return step_class(text) is type(model)
    if tag == "operator":  # an operator read as its nearest orchlab one
        nearest = NEAREST.get(text.lower())
        return nearest is not None and owner.xml.value("operator") == OPERATORS[nearest[0]]
    if tag == "stepSubtype":
        return subtype_class(text) in (None, type(model))
    if tag == "dataType":
        return data_type(text) == model.type
    if tag == "assigneeType":
        return model.assignee is not None and model.assignee.kind is AssigneeKind.REFERENCE
    if tag in ("entryActionType", "exitActionType"):
        return owner.xml.first(tag.replace("Type", "Name")) is not None
    if tag.endswith("ConditionLogic") or tag == "conditionLogic":
        return (
            owner.xml.first(
                tag.replace("ConditionLogic", "Conditions").replace("conditionLogic", "conditions")
            )
            is None
        )
    return True


def _put_back(writer: Writer, orch: Orchestration) -> None:
    replaced: set[tuple[str, str]] = set()
    for part in orch.kept:
        owner = writer.owners.get(part.owner)
        if owner is None:
            continue  # its element is gone from the model
        kept = from_canonical(part.text, f"kept part of {part.owner or 'the orchestration'}")
        if kept.tag in SINGULAR and (part.owner, kept.tag) not in replaced:
            if not _guard(owner, kept):
                continue
            existing = owner.xml.first(kept.tag)
            replaced.add((part.owner, kept.tag))
            if existing is not None:  # the file's own value, in place of the one written
                owner.xml.children[owner.xml.children.index(existing)] = kept
                continue
        owner.xml.children.append(kept)  # a repeated one goes back as a repeat


def to_tree(
    orch: Orchestration, *, api_version: str | None = None, status: str | None = None
) -> XNode:
    """The `<Flow>` element for `orch` (see `dumps`)."""
    w = Writer(orch)
    root = w.own("", node("Flow", leaf("apiVersion", DEFAULT_API_VERSION)), "flow", orch)
    for e in file_order(orch.elements):
        if isinstance(e, Decision):
            root.children.append(w.decision(e))
        elif isinstance(e, Stage):
            root.children.append(w.stage(e))
    if orch.description:
        root.children.append(leaf("description", orch.description))
    if orch.is_template:
        root.children.append(leaf("isTemplate", True))
    root.children += [leaf("label", label_text(orch)), leaf("processType", "Orchestrator")]
    block = block_of(orch)
    kept_pmv = {
        from_canonical(p.text).value("name")
        for p in orch.kept
        if p.owner == "" and p.text.startswith("<processMetadataValues>")
    }
    pmvs = [(BLOCK_NAME, encode(block))] if block else []
    pmvs += [(k, v) for k, v in BUILDER_VALUES if k not in kept_pmv]
    for name, value in pmvs:
        root.children.append(
            node(
                "processMetadataValues",
                leaf("name", name),
                node("value", leaf("stringValue", value)),
            )
        )
    root.children += [w.start(), leaf("status", DEFAULT_STATUS)]
    stand_ins = _resource_names(orch)
    root.children += [w.variable(v) for v in orch.variables if v.name not in stand_ins]
    _put_back(w, orch)
    for found, value in (("apiVersion", api_version), ("status", status)):
        if value is not None:  # what the caller asks for wins over what the file said
            root.first(found).text = value  # type: ignore[union-attr]
    for owner in w.owners.values():
        order_children(owner.xml, owner.kind)
    return root


def dumps(orch: Orchestration, *, api_version: str | None = None, status: str | None = None) -> str:
    """The orchestration as `.flow-meta.xml` text.

    Args:
        api_version, status: written instead of the file's own (or the defaults, 62.0 and
            Draft, for an orchestration that was not read from a file).

    Raises:
        MetadataError: something metadata cannot hold, e.g. a start condition that does not
            read a field of the record, or text with characters XML cannot carry.
    """
    return document(to_tree(orch, api_version=api_version, status=status))


def save(
    orch: Orchestration,
    path: str | os.PathLike[str],
    *,
    api_version: str | None = None,
    status: str | None = None,
) -> Path:
    """Write `<name>.flow-meta.xml` (into `path` if it is a folder); replaced whole or not at all.

    Salesforce reads a flow's API name from its file name, so a file name must be the
    orchestration's name followed by `.flow-meta.xml` or `.flow`.
    """
    target = Path(path)
    if target.is_dir():
        target = target / f"{orch.name}.flow-meta.xml"
    stem = next(
        (target.name[: -len(s)] for s in (".flow-meta.xml", ".flow") if target.name.endswith(s)),
        None,
    )
    if stem is None:
        raise MetadataError(
            "expected a file name ending in .flow-meta.xml or .flow", path=str(target)
        )
    if stem != orch.name:
        raise MetadataError(
            "Salesforce takes the API name from the file name, so it must be "
            f"{orch.name}{target.name[len(stem) :]} for orchestration {orch.name!r}",
            path=str(target),
        )
    text = dumps(orch, api_version=api_version, status=status)  # errors leave the file alone
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "x", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target
