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
from dataclasses import dataclass, field

from orchlab.conditions import Conditions, describe
from orchlab.model import (
    AfterSteps,
    Autolaunched,
    BackgroundStep,
    Connector,
    Decision,
    End,
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

_TRIGGER_WORDS = {"create": "create", "update": "update", "create_or_update": "create or update"}


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


# --- ids ------------------------------------------------------------------------------------------

_PLAIN = re.compile(r"[A-Za-z0-9_]+")


def _safe(name: str) -> str:
    if _PLAIN.fullmatch(name):
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
        lines = [f"record-triggered on {_TRIGGER_WORDS.get(start.on.value, start.on.value)}"]
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
    lines: list[str] = []
    notes = [n for n in (_rule(step.entry, "starts when"),) if n]
    if isinstance(step, InteractiveStep):
        lines.append(_assignee(step))
        if exit_note := _rule(step.exit, "done when"):
            notes.append(exit_note)
        tip = f"Interactive step {step.name}: screen {step.screen}, {_assignee(step)}"
    elif isinstance(step, ExternalStep):
        lines.append(f"action: {step.action}")
        tip = f"External step {step.name}: action {step.action}, timeout {step.timeout:g} s"
    else:
        assert isinstance(step, BackgroundStep)
        lines.append(f"flow: {step.flow}")
        tip = f"Background step {step.name}: flow {step.flow}"
    state = "default"
    if picture is not None:
        state = picture.step_status.get(step.name, "NotStarted")
        waiting = picture.waiting_on.get(step.name)
        if kind == "interactive" and waiting and state in ("InProgress", "NotStarted"):
            state = "Waiting"
            lines = [f"waiting on {waiting}"]
    return NodeMarkup(
        node_id("step", stage.name, step.name),
        kind,
        label_of(step),
        "",
        tuple(lines),
        tuple(notes),
        state,
        sid,
        tip + (f" — {step.description}" if step.description else ""),
    )


def _conditions_text(conditions: Conditions) -> str:
    return describe(conditions)


def markup(orch: Orchestration, picture: RunPicture | None = None) -> Markup:
    """The diagram of `orch` as plain data; with `picture`, painted with that run's state."""
    painted = picture is not None
    nodes: list[NodeMarkup] = []
    stages: list[StageMarkup] = []
    edges: list[EdgeMarkup] = []
    names = {e.name for e in orch.elements}
    # Where edges into / out of each element attach: (node id, stage box id or None).
    inlet: dict[str, tuple[str, str | None]] = {}
    outlet: dict[str, tuple[str, str | None]] = {}

    def element_state(name: str) -> str:
        return picture.element_status.get(name, "NotStarted") if picture else "default"

    nodes.append(_start_node(orch, "Completed" if painted else "default"))
    order = _path_order(orch)
    for name in order:
        element = orch.element(name)
        if isinstance(element, Stage):
            sid = f"cluster_{_safe(element.name)}"
            rows = _rows(element)
            ids: list[list[str]] = []
            for row in rows:
                ids.append([])
                for step in row:
                    node = _step_node(element, step, sid, picture)
                    nodes.append(node)
                    ids[-1].append(node.id)
            if not ids:  # an empty stage still needs something inside its box
                empty = node_id("empty", element.name)
                nodes.append(
                    NodeMarkup(empty, "missing", "(no steps)", stage=sid, tooltip="no steps")
                )
                ids = [[empty]]
            for row_steps in rows:
                for step in row_steps:
                    if isinstance(step.entry, AfterSteps):
                        head = node_id("step", element.name, step.name)
                        for before in step.entry.steps:
                            if any(s.name == before for s in element.steps):
                                tail = node_id("step", element.name, before)
                                edges.append(EdgeMarkup(tail, head, "chain"))
            exit_note = _rule(element.exit, "exits when")
            stages.append(
                StageMarkup(
                    sid,
                    element.name,
                    label_of(element),
                    (exit_note,) if exit_note else (),
                    element_state(element.name),
                    tuple(tuple(r) for r in ids),
                    ids[0][len(ids[0]) // 2],
                    ids[-1][len(ids[-1]) // 2],
                    f"Stage {element.name}" + (f" — {element.description}" * bool(element.description)),
                )
            )
            inlet[name] = (stages[-1].entry, sid)
            outlet[name] = (stages[-1].exit, sid)
        elif isinstance(element, Decision):
            did = node_id("decision", element.name)
            tip = f"Decision {element.name}"
            nodes.append(NodeMarkup(did, "decision", label_of(element), "", (), (), element_state(name), tooltip=tip))  # noqa: E501
            inlet[name] = outlet[name] = (did, None)
        else:
            assert isinstance(element, End)
            eid = node_id("end", element.name)
            nodes.append(NodeMarkup(eid, "end", label_of(element), "", (), (), element_state(name), tooltip=f"End {element.name}"))  # noqa: E501
            inlet[name] = outlet[name] = (eid, None)

    # --- edges between elements ---------------------------------------------------------------
    taken = picture.taken if picture else frozenset()
    implicit_end_used = False
    missing: dict[str, str] = {}

    def connect(
        source: str, connector: Connector | None, kind: str, label: str = "", detail: str = ""
    ) -> None:
        nonlocal implicit_end_used
        tail, ltail = outlet[source] if source in outlet else ("start", None)
        if connector is None:
            implicit_end_used = True
            target, head, lhead = IMPLICIT_END, "end__implicit", None
        elif connector.target in names:
            target = connector.target
            head, lhead = inlet[target]
        else:
            target = connector.target
            head, lhead = missing.setdefault(target, node_id("missing", target)), None
        if connector is not None and connector.goto:
            kind, label = "goto", "Go To" + (f": {label}" if label else "")
        if ltail is not None and ltail == lhead:  # a stage back to itself: plain edge
            ltail = lhead = None
        state = "default"
        if painted:
            went = (source, target) in taken
            if not went and connector is None and source in names and picture is not None:
                # A stage that completed with nowhere to go ended the run.
                went = (
                    isinstance(orch.element(source), Stage)
                    and picture.run_status == "Completed"
                    and picture.element_status.get(source) == "Completed"
                )
            state = "taken" if went or source == START else "untaken"
        edges.append(EdgeMarkup(tail, head, kind, label, detail, state, ltail, lhead))

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
                connect(name, out.next, "outcome", label_of(out), _conditions_text(out.conditions))
            connect(name, element.default, "default", element.default_label or "Default Outcome")

    for target, mid in missing.items():
        nodes.append(NodeMarkup(mid, "missing", target, "?", ("no such element",), tooltip=target))
    if implicit_end_used:
        reached = any(e.head == "end__implicit" and e.state == "taken" for e in edges)
        end_state = ("Completed" if reached else "NotStarted") if painted else "default"
        nodes.append(NodeMarkup("end__implicit", "end", "End", "", (), (), end_state, tooltip="End"))

    if painted:  # chain edges: taken once the step before completed and the next one started
        status = picture.step_status if picture else {}
        by_id = {n.id: n for n in nodes}
        edges = [
            _paint_chain(e, by_id, status) if e.kind == "chain" else e for e in edges
        ]

    kinds = frozenset(n.kind for n in nodes) | frozenset(e.kind for e in edges)
    title = orch.display_label
    subtitle = f"{orch.name} · v{orch.version}" + (" · template" if orch.is_template else "")
    if picture is not None and picture.title:
        subtitle += f"\n{picture.title}"
    return Markup(orch.name, title, subtitle, tuple(nodes), tuple(stages), tuple(edges), painted, kinds)


def _paint_chain(
    edge: EdgeMarkup, by_id: Mapping[str, NodeMarkup], status: Mapping[str, str]
) -> EdgeMarkup:
    from dataclasses import replace

    tail, head = by_id[edge.tail], by_id[edge.head]
    went = tail.state == "Completed" and head.state not in ("NotStarted", "default")
    return replace(edge, state="taken" if went else "untaken")
