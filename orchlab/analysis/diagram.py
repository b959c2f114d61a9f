"""The numbers a statistics diagram paints, gathered from the analyses as plain data.

`orchlab.render.stats` draws a `DiagramStats`; it never runs SQL itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from orchlab.analysis._sql import Source
from orchlab.analysis.bottlenecks import bottlenecks
from orchlab.analysis.filters import Filters
from orchlab.analysis.paths import outcomes, transitions
from orchlab.analysis.stalled import stalled_work_items

__all__ = ["ElementStats", "DiagramStats", "diagram_stats"]


@dataclass(frozen=True)
class ElementStats:
    """A stage's or step's numbers: runs through it, median and p90 seconds, open, stalled."""

    count: int
    median: float | None
    p90: float | None
    wip: int = 0
    stalled: int = 0


@dataclass(frozen=True)
class DiagramStats:
    """Everything a statistics diagram of one orchestration shows."""

    orchestration: str
    runs: int
    stages: Mapping[str, ElementStats] = field(default_factory=dict)
    steps: Mapping[tuple[str, str], ElementStats] = field(default_factory=dict)  # (stage, step)
    edges: Mapping[tuple[str, str], int] = field(default_factory=dict)  # (from, to) -> times
    outcomes: Mapping[tuple[str, str | None], int] = field(default_factory=dict)  # None: default
    stalled_after: dt.timedelta = dt.timedelta(days=3)
    title: str = ""


def _stats(row: Mapping[str, object], stalled: int) -> ElementStats:
    def num(v: object) -> float | None:
        return None if v is None or v != v else float(v)  # type: ignore[arg-type]

    return ElementStats(
        int(row["runs"]),  # type: ignore[call-overload]
        num(row["median"]),
        num(row["p90"]),
        int(row["wip"]),  # type: ignore[call-overload]
        stalled,
    )


def diagram_stats(
    source: Source,
    orchestration: str,
    filters: Filters | None = None,
    *,
    stalled_after: dt.timedelta = dt.timedelta(days=3),
) -> DiagramStats:
    """Time per stage and step (median, p90, over all runs, open ones so far), counts on
    edges and outcomes, and stalled work items per step, for one orchestration."""
    f = (filters or Filters()) & Filters(orchestration=orchestration)
    stuck = stalled_work_items(source, f, idle=stalled_after)
    per_step = stuck.groupby(["stage_name", "step_name"]).size().to_dict()
    per_stage = stuck.groupby("stage_name").size().to_dict()
    stages = {
        r["stage_name"]: _stats(r, int(per_stage.get(r["stage_name"], 0)))
        for r in bottlenecks(source, f, level="stage").to_dict("records")
    }
    steps = {
        (r["stage_name"], r["step_name"]): _stats(
            r, int(per_step.get((r["stage_name"], r["step_name"]), 0))
        )
        for r in bottlenecks(source, f, level="step").to_dict("records")
    }
    moves = transitions(source, f)
    edges = {(r["source"], r["target"]): int(r["count"]) for r in moves.to_dict("records")}
    taken = {
        (r["decision"], None if r["is_default"] else r["outcome"]): int(r["count"])
        for r in outcomes(source, f).to_dict("records")
    }
    runs = int(moves.loc[moves["source"] == "$Start", "count"].sum())
    return DiagramStats(
        orchestration, runs, stages, steps, edges, taken, stalled_after,
        title=f"{runs:,} runs",
    )  # fmt: skip
