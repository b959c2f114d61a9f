"""The orchestration diagram painted with statistics: a heatmap of time, counts, stalled work.

    stats = orchlab.analysis.diagram.diagram_stats(store, "Case_Escalation")
    heatmap(case_escalation(), stats)            # shows itself in JupyterLab
    heatmap(case_escalation(), stats).render("case.png")

Steps and stages are filled by their median (or p90) time relative to the slowest step;
edges carry how often runs went along them (wider when more often), outcomes how often they
were taken; stalled work items are a red badge on their step. Plain data in, no SQL here.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

from orchlab.analysis.diagram import DiagramStats, ElementStats
from orchlab.definition.model import Orchestration
from orchlab.errors import RenderError
from orchlab.render.markup import IMPLICIT_END, START, Markup, markup, node_id
from orchlab.render.styles import FLOW_WIDTHS, HEAT

__all__ = ["stats_markup", "heatmap", "Heatmap", "duration_text"]

_METRICS = ("median", "p90")


def duration_text(seconds: float | None) -> str:
    """A duration for people: '0s', '45s', '25m', '3h 04m', '2d 5h'."""
    if seconds is None or seconds != seconds:
        return "-"
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 86400}d {s % 86400 // 3600}h"


def _heat(value: float | None, slowest: float) -> str:
    if not value or slowest <= 0:
        return "heat0"
    top = len(HEAT) - 1
    return f"heat{min(top, max(1, math.ceil(top * value / slowest)))}"


def _flow(count: int, most: int) -> str:
    if count <= 0 or most <= 0:
        return "flow0"
    top = len(FLOW_WIDTHS) - 1
    return f"flow{min(top, max(1, math.ceil(top * count / most)))}"


def _line(s: ElementStats) -> str:
    return f"median {duration_text(s.median)} · p90 {duration_text(s.p90)}"


def _count(s: ElementStats) -> str:
    return f"{s.count:,} runs" + (f" · {s.wip:,} open" if s.wip else "")


def stats_markup(orch: Orchestration, stats: DiagramStats, *, metric: str = "median") -> Markup:
    """The diagram of `orch` with `stats` painted on it, as plain `Markup`."""
    if metric not in _METRICS:
        raise RenderError(f"heatmap metric {metric!r}: expected one of {', '.join(_METRICS)}")
    base = markup(orch)
    step_ids = {
        node_id("step", st.name, step.name): (st.name, step.name)
        for st in orch.stages
        for step in st.steps
    }
    values = [getattr(s, metric) or 0.0 for s in stats.steps.values()]
    slowest = max(values, default=0.0)
    nodes = []
    for node in base.nodes:
        key = step_ids.get(node.id)
        found = stats.steps.get(key) if key else None
        if key is None:
            nodes.append(node)
        elif found is None:
            nodes.append(replace(node, state="heat0", notes=("no runs",)))
        else:
            badge = f"⚠ {found.stalled} stalled" if found.stalled else ""
            lines = (*node.lines[:1], _line(found), _count(found))
            nodes.append(
                replace(node, state=_heat(getattr(found, metric), slowest), lines=lines,
                        notes=(), badge=badge)
            )  # fmt: skip
    stage_values = [getattr(s, metric) or 0.0 for s in stats.stages.values()]
    slowest_stage = max(stage_values, default=0.0)
    stages = []
    for box in base.stages:
        found = stats.stages.get(box.name)
        if found is None:
            stages.append(replace(box, state="heat0", notes=("no runs",)))
            continue
        count = _count(found) + (f" · ⚠ {found.stalled} stalled" if found.stalled else "")
        stages.append(
            replace(
                box, state=_heat(getattr(found, metric), slowest_stage),
                notes=(_line(found), count),
            )
        )  # fmt: skip
    counts = dict(stats.edges)
    most = max(counts.values(), default=0)
    edges = []
    for edge in base.edges:
        if edge.kind == "chain":
            edges.append(edge)
            continue
        if edge.kind in ("outcome", "default"):
            n = stats.outcomes.get((edge.source, edge.outcome), 0)
        else:
            target = edge.target if edge.target != IMPLICIT_END else "$End"
            n = counts.get((START if edge.source == START else edge.source, target), 0)
        label = f"{edge.label} · {n:,}" if edge.label else f"{n:,}"
        edges.append(replace(edge, label=label, state=_flow(n, most)))
    heat = tuple(
        (
            f"heat{i}",
            "no time"
            if i == 0
            else f"{metric} up to {duration_text(slowest * i / (len(HEAT) - 1))}",
        )
        for i in range(len(HEAT))
    )
    days = stats.stalled_after.total_seconds() / 86400
    heat += (("badge", f"stalled: work items of runs idle {days:g} days or more"),)
    subtitle = f"{base.subtitle}\n{stats.title} · fill: {metric} time · edges: runs"
    return replace(
        base, nodes=tuple(nodes), stages=tuple(stages), edges=tuple(edges),
        subtitle=subtitle, heat=heat,
    )  # fmt: skip


class Heatmap:
    """A statistics diagram that shows itself in JupyterLab and saves as SVG, PNG or PDF."""

    def __init__(self, m: Markup) -> None:
        self.markup = m

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from orchlab.render.jupyter import mimebundle

        return mimebundle(self.markup, include, exclude, legend=True)

    def source(self) -> str:
        from orchlab.render.graph import to_dot

        return to_dot(self.markup, legend=True)

    def render(self, path: str | Path, format: str | None = None) -> Path:
        from orchlab.render.graph import render

        return render(self.markup, path, format, legend=True)

    def svg(self) -> str:
        """The drawing as SVG text (needs Graphviz's `dot`)."""
        from orchlab.render.graph import pipe, to_graph

        return pipe(to_graph(self.markup, legend=True), "svg").decode("utf-8")


def heatmap(orch: Orchestration, stats: DiagramStats, *, metric: str = "median") -> Heatmap:
    """The orchestration painted with statistics (see the module docstring)."""
    return Heatmap(stats_markup(orch, stats, metric=metric))
