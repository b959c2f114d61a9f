"""What the diagram shows, as plain data: an orchestration (+ a run's state) -> `Markup`.

This layer knows the model and the run statuses but nothing of Graphviz: it decides
which nodes, stage boxes and edges there are, their kind (a key of `STYLES`), their
state, and their text. `orchlab.render.graph` turns a `Markup` into a Digraph.

Node ids are derived from element and step names only, so the DOT text is the same
on every call; names that are not plain identifiers get a short hash so two names
never share an id.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from orchlab.definition.conditions import describe
from orchlab.definition.model import (
    AfterSteps,
    Autolaunched,
    Connector,
    Decision,
    EvaluationFlow,
    ExternalStep,
    InteractiveStep,
    Orchestration,
    RecordTrigger,
    Requirements,
    Stage,
    Step,
    label_of,
)

__all__ = [
    "IMPLICIT_END",
    "START",
    "RunPicture",
    "NodeMarkup",
    "StageMarkup",
    "EdgeMarkup",
    "Markup",
    "markup",
    "node_id",
    "step_kind",
]

START = "$Start"  # the start element's name in `RunPicture.taken`: ("$Start", first element)
IMPLICIT_END = "$End"  # where a path without a connector goes: (element, "$End") in `taken`
_END_ID = "end__implicit"  # the one End node all connector-less paths share


@dataclass(frozen=True)
class RunPicture:
    """A run's state, as the diagram paints it (built by the engine from its tables)."""

    run_status: str  # InProgress, Completed, Canceled, Suspended, Error
    element_status: Mapping[str, str]  # stage/decision/end name -> status; decisions once taken
    step_status: Mapping[str, str]  # step name -> NotStarted/InProgress/Completed/Error/...
    waiting_on: Mapping[str, str]  # interactive step name -> "queue: Engineering", "user: ada"
    taken: frozenset[tuple[str, str]]  # (from element, to element) the run went along
    title: str = ""  # e.g. "Run R-0001 · InProgress"


@dataclass(frozen=True)
class NodeMarkup:
    """A box, diamond or circle: `kind` and `state` pick its style, the texts its label."""

    id: str
    kind: str
    title: str
    icon: str = ""  # a key of styles.ICONS when not the kind's own icon
    lines: tuple[str, ...] = ()  # smaller lines under the title (assignee, flow)
    notes: tuple[str, ...] = ()  # italic notes (entry/exit rules)
    state: str = "default"
    stage: str | None = None  # id of the stage box it sits in
    tooltip: str = ""
    badge: str = ""  # a warning line in the badge colour (e.g. "⚠ 3 stalled")


@dataclass(frozen=True)
class StageMarkup:
    """A stage drawn as a box around its steps; `rows` are the steps by chain depth."""

    id: str  # "cluster_<name>": Graphviz draws subgraphs named cluster_* as boxes
    name: str
    title: str
    notes: tuple[str, ...]
    state: str
    rows: tuple[tuple[str, ...], ...]
    entry: str  # the node edges into the stage point at (clipped at the box's border)
    exit: str  # the node edges out of the stage leave from
    tooltip: str = ""


@dataclass(frozen=True)
class EdgeMarkup:
    tail: str
    head: str
    kind: str  # next, chain, outcome, default, goto, fault
    label: str = ""
    detail: str = ""  # a smaller second line (an outcome's conditions)
    state: str = "default"  # default, taken, untaken
    ltail: str | None = None  # stage box the edge leaves from
    lhead: str | None = None  # stage box the edge goes into
    source: str = ""  # element names it joins (START, IMPLICIT_END or a missing target too)
    target: str = ""
    outcome: str | None = None  # the outcome's name on an outcome edge


@dataclass(frozen=True)
class Markup:
    name: str
    title: str
    subtitle: str
    nodes: tuple[NodeMarkup, ...]
    stages: tuple[StageMarkup, ...]
    edges: tuple[EdgeMarkup, ...]
    painted: bool = False
    kinds: frozenset[str] = field(default_factory=frozenset)  # node and edge kinds used
    heat: tuple[tuple[str, str], ...] = ()  # (state, text) rows of a statistics legend


# --- ids ------------------------------------------------------------------------------------------

_PLAIN = re.compile(r"[A-Za-z0-9_]+")


def _safe(name: str) -> str:
    if _PLAIN.fullmatch(name) and "__" not in name:  # "__" joins the parts of an id
        return name
    digest = hashlib.sha1(name.encode("utf-8")).hexdigest()[:6]
    return f"{re.sub(r'[^A-Za-z0-9_]+', '_', name).strip('_')}_{digest}"


def node_id(prefix: str, *names: str) -> str:
    """A stable DOT id such as `step__Triage__Score` (no colons: DOT reads them as ports)."""
    return "__".join((prefix, *(_safe(n) for n in names)))


def step_kind(step: Step) -> str:
    if isinstance(step, InteractiveStep):
        return "interactive"
    if isinstance(step, ExternalStep):
        return "external"
    return "background"


# --- texts ----------------------------------------------------------------------------------------


def _rule(rule: object, verb: str) -> str | None:
    """'starts when: ...' for requirement and evaluation rules; None for the defaults."""
    if isinstance(rule, Requirements):
        return f"{verb}: {describe(rule.conditions)}"
    if isinstance(rule, EvaluationFlow):
        return f"{verb}: evaluation flow {rule.flow}"
    return None


def _assignee(step: InteractiveStep) -> str:
    if step.assignee is None:
        return "no assignee"
    kind = "from" if step.assignee.kind.value == "reference" else step.assignee.kind.value
    return f"{kind}: {step.assignee.name}"


def _start_node(orch: Orchestration, state: str) -> NodeMarkup:
    start = orch.start
    if isinstance(start, RecordTrigger):
        lines = [f"record-triggered on {start.on.value.replace('_', ' ')}"]
        notes = []
        if start.conditions is not None:
            notes.append(f"if {describe(start.conditions)}")
        if start.only_when_changed:
            notes.append("only when changed to meet the conditions")
        return NodeMarkup(
            "start", "start", start.object, "record", tuple(lines), tuple(notes), state,
            tooltip=f"Record-triggered: {start.object}",
        )  # fmt: skip
    inputs = [v.name for v in orch.variables if v.is_input]
    lines = (f"inputs: {', '.join(inputs)}",) if inputs else ()
    kind = "Autolaunched" if isinstance(start, Autolaunched) else type(start).__name__
    return NodeMarkup("start", "start", kind, "autolaunched", lines, (), state, tooltip=kind)


# --- the walk -------------------------------------------------------------------------------------


def _path_order(orch: Orchestration) -> list[str]:
    """Element names along the path from `first` (outcomes in order), then fault paths, then
    the rest in definition order: the order clusters are emitted is the order dot lays out."""
    names = {e.name for e in orch.elements}
    seen: list[str] = []
    stack = [orch.first] if orch.first in names else []
    later: list[str] = []
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.append(name)
        element = orch.element(name)
        targets: list[Connector | None] = []
        if isinstance(element, Stage):
            targets = [element.next]
            if element.on_fault is not None:
                later.append(element.on_fault.target)
        elif isinstance(element, Decision):
            targets = [o.next for o in element.outcomes] + [element.default]
        for connector in reversed(targets):
            if connector is not None and not connector.goto and connector.target in names:
                stack.append(connector.target)
        if not stack and later:
            stack.extend(reversed([n for n in later if n not in seen]))
            later = []
    return seen + [e.name for e in orch.elements if e.name not in seen]


def _rows(stage: Stage) -> list[list[Step]]:
    """Steps by chain depth: parallel steps share a row, a chained step sits below its
    predecessors. Unknown names and cycles are left to validation (depth stops growing)."""
    by_name = {s.name: s for s in stage.steps}
    depth: dict[str, int] = {}

    def visit(step: Step, trail: frozenset[str]) -> int:
        if step.name in depth:
            return depth[step.name]
        before = step.entry.steps if isinstance(step.entry, AfterSteps) else ()
        known = [by_name[n] for n in before if n in by_name and n not in trail]
        d = 1 + max((visit(p, trail | {step.name}) for p in known), default=-1)
        depth[step.name] = d
        return d

    for step in stage.steps:
        visit(step, frozenset())
    rows: list[list[Step]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for step in stage.steps:
        rows[depth[step.name]].append(step)
    return rows


def _step_node(stage: Stage, step: Step, sid: str, picture: RunPicture | None) -> NodeMarkup:
    kind = step_kind(step)
    notes = [n for n in (_rule(step.entry, "starts when"),) if n]
    if isinstance(step, InteractiveStep):
        lines = [_assignee(step)]
        notes += [n for n in (_rule(step.exit, "done when"),) if n]
        tip = f"Interactive step {step.name}: screen {step.screen}, {_assignee(step)}"
    elif isinstance(step, ExternalStep):
        lines = [f"action: {step.action}"]
        tip = f"External step {step.name}: action {step.action}, timeout {step.timeout:g} s"
    else:
        lines = [f"flow: {step.flow}"]
        tip = f"Background step {step.name}: flow {step.flow}"
    state = "default"
    if picture is not None:
        state = picture.step_status.get(step.name, "NotStarted")
        waiting = picture.waiting_on.get(step.name)
        if kind == "interactive" and waiting and state in ("InProgress", "NotStarted"):
            state, lines = "Waiting", [f"waiting on {waiting}"]
    if step.description:
        tip += f" — {step.description}"
    nid = node_id("step", stage.name, step.name)
    return NodeMarkup(nid, kind, label_of(step), "", tuple(lines), tuple(notes), state, sid, tip)


def _stage(
    stage: Stage, state: str, picture: RunPicture | None
) -> tuple[StageMarkup, list[NodeMarkup], list[EdgeMarkup]]:
    """A stage's box, its step nodes (row by row) and the chain edges between them."""
    sid = f"cluster_{_safe(stage.name)}"
    rows = _rows(stage)
    nodes = [_step_node(stage, step, sid, picture) for row in rows for step in row]
    ids = [[node_id("step", stage.name, step.name) for step in row] for row in rows]
    if not ids:  # an empty stage still needs something inside its box
        empty = node_id("empty", stage.name)
        nodes.append(NodeMarkup(empty, "missing", "(no steps)", stage=sid, tooltip="no steps"))
        ids = [[empty]]
    names = {s.name for s in stage.steps}
    chains = [
        EdgeMarkup(
            node_id("step", stage.name, before), node_id("step", stage.name, step.name), "chain"
        )
        for row in rows
        for step in row
        if isinstance(step.entry, AfterSteps)
        for before in step.entry.steps
        if before in names
    ]
    exit_note = _rule(stage.exit, "exits when")
    box = StageMarkup(
        sid,
        stage.name,
        label_of(stage),
        (exit_note,) if exit_note else (),
        state,
        tuple(tuple(r) for r in ids),
        ids[0][len(ids[0]) // 2],  # middle of the first row: edges come in at the centre
        ids[-1][len(ids[-1]) // 2],
        f"Stage {stage.name}" + (f" — {stage.description}" if stage.description else ""),
    )
    return box, nodes, chains


def _chain_state(edge: EdgeMarkup, by_id: Mapping[str, NodeMarkup]) -> EdgeMarkup:
    """A chain edge was taken once the step before completed and the next one started."""
    went = by_id[edge.tail].state == "Completed" and by_id[edge.head].state != "NotStarted"
    return replace(edge, state="taken" if went else "untaken")


def markup(orch: Orchestration, picture: RunPicture | None = None) -> Markup:
    """The diagram of `orch` as plain data; with `picture`, painted with that run's state."""
    painted = picture is not None
    nodes: list[NodeMarkup] = [_start_node(orch, "Completed" if painted else "default")]
    stages: list[StageMarkup] = []
    edges: list[EdgeMarkup] = []
    # Where edges into / out of each element attach: (node id, stage box id or None).
    inlet: dict[str, tuple[str, str | None]] = {}
    outlet: dict[str, tuple[str, str | None]] = {}

    def state_of(name: str) -> str:
        return picture.element_status.get(name, "NotStarted") if picture else "default"

    order = _path_order(orch)
    for name in order:
        element = orch.element(name)
        if isinstance(element, Stage):
            box, step_nodes, chains = _stage(element, state_of(name), picture)
            stages.append(box)
            nodes += step_nodes
            edges += chains
            inlet[name], outlet[name] = (box.entry, box.id), (box.exit, box.id)
        else:
            kind = "decision" if isinstance(element, Decision) else "end"
            nid = node_id(kind, name)
            tip = f"{kind.capitalize()} {name}"
            nodes.append(
                NodeMarkup(nid, kind, label_of(element), state=state_of(name), tooltip=tip)
            )
            inlet[name] = outlet[name] = (nid, None)

    taken = picture.taken if picture else frozenset()
    missing: dict[str, str] = {}  # connector targets that are not elements -> node id

    def connect(
        source: str,
        to: Connector | None,
        kind: str,
        label: str = "",
        detail: str = "",
        outcome: str | None = None,
    ) -> None:
        tail, ltail = outlet.get(source, ("start", None))
        target = IMPLICIT_END if to is None else to.target
        if to is None:
            head, lhead = _END_ID, None
        elif target in inlet:
            head, lhead = inlet[target]
        else:
            head, lhead = missing.setdefault(target, node_id("missing", target)), None
        if to is not None and to.goto:
            kind, label = "goto", "Go To" + (f": {label}" if label else "")
        if ltail is not None and ltail == lhead:  # a stage back to itself: a plain loop
            ltail = lhead = None
        state = "default"
        if picture is not None:
            went = source == START or (source, target) in taken
            # A stage that completed with nowhere to go is where a completed run ended.
            went = went or (
                to is None
                and source in inlet
                and isinstance(orch.element(source), Stage)
                and picture.run_status == "Completed"
                and picture.element_status.get(source) == "Completed"
            )
            state = "taken" if went else "untaken"
        edges.append(
            EdgeMarkup(
                tail, head, kind, label, detail, state, ltail, lhead, source, target, outcome
            )
        )

    if orch.first is not None:
        connect(START, Connector(orch.first), "next")
    for name in order:
        element = orch.element(name)
        if isinstance(element, Stage):
            connect(name, element.next, "next")
            if element.on_fault is not None:
                connect(name, element.on_fault, "fault", "fault")
        elif isinstance(element, Decision):
            for out in element.outcomes:
                connect(
                    name, out.next, "outcome", label_of(out), describe(out.conditions), out.name
                )
            connect(name, element.default, "default", element.default_label or "Default Outcome")

    for target, mid in missing.items():
        nodes.append(NodeMarkup(mid, "missing", target, "", ("no such element",), tooltip=target))
    if any(e.head == _END_ID for e in edges):
        reached = any(e.head == _END_ID and e.state == "taken" for e in edges)
        state = ("Completed" if reached else "NotStarted") if painted else "default"
        nodes.append(NodeMarkup(_END_ID, "end", "End", state=state, tooltip="End"))
    if painted:
        by_id = {n.id: n for n in nodes}
        edges = [_chain_state(e, by_id) if e.kind == "chain" else e for e in edges]

    subtitle = f"{orch.name} · v{orch.version}" + (" · template" if orch.is_template else "")
    if picture is not None and picture.title:
        subtitle += f"\n{picture.title}"
    kinds = frozenset(n.kind for n in nodes) | frozenset(e.kind for e in edges)
    return Markup(
        orch.name, orch.display_label, subtitle, tuple(nodes), tuple(stages), tuple(edges),
        painted, kinds,
    )  # fmt: skip
