"""A history's report: stalled runs, throughput and bottlenecks, as text or as one HTML page.

The text report is what `orchlab report` prints; the HTML page adds, per orchestration, the
diagram painted with its statistics and the plots. Everything comes from `orchlab.analysis`.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
from pathlib import Path
from typing import Any

import pandas as pd

import orchlab.analysis as oa
from orchlab.analysis.diagram import diagram_stats
from orchlab.definition.serialize import from_dict
from orchlab.render.stats import duration_text, heatmap
from orchlab.store.history import HistoryStore

__all__ = ["Report", "build_report", "text_report", "html_report"]


class Report:
    """The tables of a report (pandas), computed once for both outputs."""

    def __init__(self, store: HistoryStore, stalled_after: dt.timedelta) -> None:
        self.store = store
        self.stalled_after = stalled_after
        self.runs = store.sql(
            "SELECT orchestration_name AS orchestration, status, count(*) AS runs FROM runs "
            "GROUP BY ALL ORDER BY ALL"
        )
        self.stalled = oa.stalled_runs(store, idle=stalled_after)
        self.throughput = oa.throughput(store, period="week")
        self.bottlenecks = oa.bottlenecks(store)
        self.backlog = oa.backlog(store)


def build_report(store: HistoryStore, stalled_after: dt.timedelta) -> Report:
    return Report(store, stalled_after)


def _stalled_table(report: Report, limit: int = 15) -> pd.DataFrame:
    df = report.stalled.head(limit)
    if df.empty:
        return df
    return pd.DataFrame(
        {
            "run": df["id"],
            "orchestration": df["orchestration_name"],
            "stage": df["current_stage"],
            "idle": df["idle_seconds"].map(duration_text),
            "waiting on": df["waiting_on"],
        }
    )


def _throughput_table(report: Report) -> pd.DataFrame:
    df = report.throughput
    if df.empty:
        return df
    grouped = df.groupby("period")[["started", "completed", "canceled", "errored"]].sum()
    grouped.index = [p.strftime("%Y-%m-%d") for p in pd.to_datetime(grouped.index)]
    grouped.index.name = "week"
    return grouped.reset_index()


def _bottleneck_table(report: Report, limit: int = 10) -> pd.DataFrame:
    df = report.bottlenecks.sort_values("share", ascending=False).head(limit)
    if df.empty:
        return df
    return pd.DataFrame(
        {
            "orchestration": df["orchestration_name"],
            "stage": df["stage_name"],
            "share of time": (df["share"] * 100).round().astype(int).astype(str) + "%",
            "median": df["median"].map(duration_text),
            "p90": df["p90"].map(duration_text),
            "in progress": df["wip"],
        }
    )


def _backlog_table(report: Report, limit: int = 10) -> pd.DataFrame:
    df = report.backlog.sort_values("open", ascending=False).head(limit)
    if df.empty:
        return df
    return pd.DataFrame(
        {
            "assignee": df["assignee_type"] + " " + df["assignee_id"],
            "open": df["open"],
            "oldest": df["oldest_open_seconds"].map(duration_text),
            "completed": df["completed"],
        }
    )


def _text(title: str, df: pd.DataFrame, empty: str) -> str:
    body = df.to_string(index=False) if not df.empty else f"  ({empty})"
    return f"{title}\n{body}"


def text_report(report: Report) -> str:
    """The report as terminal tables."""
    after = duration_text(report.stalled_after.total_seconds())
    parts = [
        _text("Runs", report.runs, "no runs"),
        _text(
            f"Stalled runs (no progress for {after}): {len(report.stalled)}",
            _stalled_table(report),
            "none",
        ),
        _text("Throughput per week", _throughput_table(report), "no runs"),
        _text("Bottlenecks: stages by share of elapsed time", _bottleneck_table(report), "none"),
        _text("Backlog: open work items per assignee", _backlog_table(report), "none"),
    ]
    return "\n\n".join(parts)


def _figure_png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode()


def html_report(report: Report, path: str | Path) -> Path:
    """The report as one self-contained HTML page (diagrams as SVG, plots as PNG)."""
    from orchlab.render import plots

    store = report.store
    sections = [
        "<h2>Runs</h2>" + _html_table(report.runs),
        f"<h2>Stalled runs ({len(report.stalled)})</h2>" + _html_table(_stalled_table(report)),
        "<h2>Throughput per week</h2>" + _html_table(_throughput_table(report)),
        "<h2>Bottlenecks</h2>" + _html_table(_bottleneck_table(report)),
        "<h2>Backlog</h2>" + _html_table(_backlog_table(report)),
    ]
    if not report.throughput.empty:
        sections.append(_img(_figure_png(plots.plot_throughput(report.throughput)), "throughput"))
    if not report.backlog.empty:
        sections.append(_img(_figure_png(plots.plot_backlog(report.backlog)), "backlog"))
    active = store.execute(
        "SELECT name, definition FROM definitions WHERE status = 'Active' ORDER BY name"
    )
    for name, definition in active:
        orch = from_dict(json.loads(definition))
        stats = diagram_stats(store, name, stalled_after=report.stalled_after)
        try:
            svg = heatmap(orch, stats).svg()
        except Exception as error:
            svg = f"<p>diagram not drawn: {html.escape(str(error))}</p>"
        sections.append(f"<h2>{html.escape(name)}</h2>{svg}")
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>orchlab report</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 8px}th{background:#f3f3f3}</style></head>"
        f"<body><h1>orchlab report: {html.escape(str(store.path or 'memory'))}</h1>"
        + "".join(sections)
        + "</body></html>"
    )
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out


def _html_table(df: pd.DataFrame) -> str:
    return "<p>(none)</p>" if df.empty else df.to_html(index=False, border=0)


def _img(data: str, alt: str) -> str:
    return f"<p><img alt='{alt}' src='data:image/png;base64,{data}'></p>"
