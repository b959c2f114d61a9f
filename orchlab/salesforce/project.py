"""A whole SFDX project (or metadata API folder) at once: every orchestration under it.

Flows that are not orchestrations (screen flows, autolaunched and evaluation flows) are
skipped with a note; their inputs and outputs do give the placeholders of the flows that
orchestrations call their types.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from orchlab.definition.registry import Registry
from orchlab.definition.values import ValueType
from orchlab.errors import MetadataError
from orchlab.salesforce.metadata_load import Imported, api_name, load
from orchlab.salesforce.placeholders import Placeholder, placeholder_registry
from orchlab.salesforce.shape import ORCHESTRATION_TYPES
from orchlab.salesforce.values import data_type
from orchlab.salesforce.xml_read import MAX_BYTES, XNode, read_file

__all__ = ["Project", "find_flows", "load_project"]

_PROCESS_TYPE = re.compile(rb"<processType>\s*([A-Za-z]+)\s*</processType>")
_SNIFF_BYTES = 64 * 1024 * 1024
_SKIP_DIRS = {"node_modules", ".git", ".sfdx", ".sf", ".venv", "__pycache__"}


@dataclass(frozen=True)
class Project:
    """What `load_project` found.

    Attributes:
        orchestrations: API name -> what `load` read, in file name order.
        registry: placeholders for every flow any of them names.
        skipped: (file, why) for flows that are not orchestrations.
        failed: (file, error) for orchestration files that could not be read.
    """

    orchestrations: dict[str, Imported]
    registry: Registry
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    failed: list[tuple[Path, MetadataError]] = field(default_factory=list)


def find_flows(folder: str | os.PathLike[str]) -> list[Path]:
    """Every `flows/*.flow-meta.xml` (and mdapi `flows/*.flow`) under `folder`, sorted.

    That covers `force-app/main/default/flows/` and any other package directory of an
    SFDX project, and the `flows/` folder of a metadata API retrieve.
    """
    root = Path(folder)
    found = []
    for here, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
        if Path(here).name != "flows":
            continue
        for name in files:
            if name.endswith((".flow-meta.xml", ".flow")):
                found.append(Path(here) / name)
    return sorted(found)


def load_project(folder: str | os.PathLike[str]) -> Project:
    """Read every orchestration of a project; a bad file is reported, not fatal.

    Raises:
        MetadataError: `folder` is not a folder.
    """
    root = Path(folder)
    if not root.is_dir():
        raise MetadataError("not a folder; expected an SFDX project folder", path=str(folder))
    orchestrations: dict[str, Imported] = {}
    skipped: list[tuple[Path, str]] = []
    failed: list[tuple[Path, MetadataError]] = []
    signatures: dict[str, tuple[dict[str, ValueType], dict[str, ValueType]]] = {}
    for path in find_flows(root):
        try:
            flow = read_file(path)
        except MetadataError as error:
            process = _sniff(path) if path.stat().st_size > MAX_BYTES else None
            if process is not None and process not in ORCHESTRATION_TYPES:
                size = f"{path.stat().st_size:,} bytes, too big to read"
                skipped.append((path, f"not an orchestration: processType {process} ({size})"))
            else:
                failed.append((path, error))
            continue
        process = (flow.value("processType") or "").strip()
        if process not in ORCHESTRATION_TYPES:
            kind = process or "none (a screen flow)"
            skipped.append((path, f"not an orchestration: processType {kind}"))
            signatures[api_name(path)[0]] = _signature(flow)
            continue
        name, _ = api_name(path)
        if name in orchestrations:
            message = f"a second orchestration named {name!r}; the first one read is kept"
            failed.append((path, MetadataError(message, path=str(path))))
            continue
        try:
            orchestrations[name] = load(path)
        except MetadataError as error:
            failed.append((path, error))
    registry = placeholder_registry(*(i.orchestration for i in orchestrations.values()))
    for spec in list(registry):
        if spec.name in signatures:  # the flow's own file says the types: use them
            inputs, outputs = signatures[spec.name]
            fn = Placeholder(spec.name, spec.kind, tuple(outputs))
            registry.add(spec.name, fn, spec.kind, inputs=inputs, outputs=outputs)
    return Project(orchestrations, registry, skipped, failed)


def _sniff(path: Path) -> str | None:
    """The processType of a file too big to parse, found in its text (no XML is parsed)."""
    with open(path, "rb") as handle:
        found = _PROCESS_TYPE.search(handle.read(_SNIFF_BYTES))
    return found.group(1).decode("ascii") if found else None


def _signature(flow: XNode) -> tuple[dict[str, ValueType], dict[str, ValueType]]:
    """A flow's input and output variables with their types."""
    inputs: dict[str, ValueType] = {}
    outputs: dict[str, ValueType] = {}
    for variable in flow.all("variables"):
        name = (variable.value("name") or "").strip()
        vtype = data_type((variable.value("dataType") or "").strip())
        if name and (variable.value("isInput") or "").strip() == "true":
            inputs[name] = vtype
        if name and (variable.value("isOutput") or "").strip() == "true":
            outputs[name] = vtype
    return inputs, outputs
