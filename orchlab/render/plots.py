"""Plots of analysis results (matplotlib, imported only when a plot is drawn).

Each function takes the DataFrame an analysis returned and gives a matplotlib Figure,
which JupyterLab shows and `fig.savefig("x.png")` saves:

    plot_throughput(oa.throughput(store))
    plot_cycle_times(oa.durations(store, level="stage"))
    plot_wip(oa.work_in_progress(store))
    plot_backlog(oa.backlog(store))

Figures are made without pyplot, so no global state is touched and no window opens.
"""

from __future__ import annotations

import functools
import io
from typing import TYPE_CHECKING

import pandas as pd

from orchlab.errors import RenderError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_throughput", "plot_cycle_times", "plot_wip", "plot_backlog"]

_HOURS = 3600.0


def _figure(width: float = 8.0, height: float = 4.0) -> Figure:
    return _plot_class()(figsize=(width, height), layout="constrained", dpi=100)


@functools.cache
def _plot_class() -> type[Figure]:
    """A Figure that shows itself as a PNG in notebooks: without pyplot, nothing else would
    register a display for it (made on first use: matplotlib loads only when a plot is drawn)."""
    from matplotlib.figure import Figure

    class Plot(Figure):
        def _repr_png_(self) -> bytes:
            buffer = io.BytesIO()
            self.savefig(buffer, format="png", bbox_inches="tight")
            return buffer.getvalue()

    return Plot


def _need(df: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise RenderError(f"{what}: expected a DataFrame with columns {', '.join(missing)}")


def plot_throughput(df: pd.DataFrame, *, what: str = "completed") -> Figure:
    """Runs per period (from `throughput`), one line per orchestration; partial periods
    are drawn hollow and dashed, so a half week does not look like a slump."""
    _need(df, ("period", "orchestration_name", what, "partial"), "plot_throughput")
    fig = _figure()
    ax = fig.add_subplot()
    per = df.groupby(["period", "orchestration_name"], as_index=False).agg(
        n=(what, "sum"), partial=("partial", "max")
    )
    for name, part in per.groupby("orchestration_name"):
        part = part.sort_values("period")
        (line,) = ax.plot(part["period"], part["n"], marker="o", label=str(name))
        hollow = part[part["partial"]]
        ax.plot(hollow["period"], hollow["n"], "o", markersize=9, markerfacecolor="white",
                markeredgecolor=line.get_color())  # fmt: skip
    ax.set_title(f"Runs {what} per period (hollow: period only partly covered)")
    ax.set_ylabel(f"runs {what}")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.autofmt_xdate()
    return fig


def plot_cycle_times(df: pd.DataFrame, *, key: str = "stage_name") -> Figure:
    """Distributions of durations (from `durations`) per stage as box plots, in hours."""
    _need(df, ("orchestration_name", key, "seconds"), "plot_cycle_times")
    groups = [(f"{o} · {k}", g["seconds"] / _HOURS) for (o, k), g in
              df.groupby(["orchestration_name", key], sort=False)]  # fmt: skip
    fig = _figure(8.0, max(2.5, 0.45 * len(groups) + 1.2))
    ax = fig.add_subplot()
    if groups:
        labels, values = zip(*groups, strict=True)
        ax.boxplot(values, orientation="horizontal", tick_labels=labels, showfliers=True,
                   flierprops={"markersize": 3, "alpha": 0.5})  # fmt: skip
        ax.invert_yaxis()  # first stage on top, as in the diagram
    ax.set_xlabel("hours")
    ax.set_title("Cycle time per stage (box: middle half, line: median)")
    ax.grid(axis="x", alpha=0.3)
    ax.tick_params(axis="y", labelsize=8)
    return fig


def plot_wip(df: pd.DataFrame) -> Figure:
    """Work in progress over time (from `work_in_progress`), one step line per series."""
    _need(df, ("period", "wip"), "plot_wip")
    keys = [c for c in ("orchestration_name", "stage_name") if c in df.columns]
    fig = _figure()
    ax = fig.add_subplot()
    for name, part in df.groupby(keys):
        label = " · ".join(map(str, name if isinstance(name, tuple) else (name,)))
        ax.step(part["period"], part["wip"], where="post", label=label)
    ax.set_title("Work in progress at the end of each period")
    ax.set_ylabel("open")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.autofmt_xdate()
    return fig


def plot_backlog(df: pd.DataFrame, *, top: int = 15) -> Figure:
    """Open work items per assignee (from `backlog`), with the oldest one's age in days."""
    _need(df, ("assignee_type", "assignee_id", "open", "oldest_open_seconds"), "plot_backlog")
    rows = df[df["open"] > 0].sort_values(["open", "oldest_open_seconds"]).tail(top)
    labels = [
        f"{t} {a}" + (f" → {o}" if "owner_id" in rows and isinstance(o, str) else "")
        for t, a, o in zip(
            rows["assignee_type"], rows["assignee_id"],
            rows["owner_id"] if "owner_id" in rows else [None] * len(rows), strict=True,
        )
    ]  # fmt: skip
    fig = _figure(8.0, max(2.5, 0.4 * len(rows) + 1.2))
    ax = fig.add_subplot()
    days = rows["oldest_open_seconds"] / 86400
    bars = ax.barh(labels, rows["open"], color="#f3784c")
    for bar, d in zip(bars, days, strict=True):
        ax.annotate(f" oldest {d:.1f} d", (bar.get_width(), bar.get_y() + bar.get_height() / 2),
                    va="center", fontsize=8)  # fmt: skip
    ax.set_xlabel("open work items")
    ax.set_title("Backlog per assignee (label: age of the oldest open item)")
    ax.margins(x=0.25)
    ax.grid(axis="x", alpha=0.3)
    return fig
