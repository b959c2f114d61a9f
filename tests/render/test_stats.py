"""The statistics diagram and the plots: plain data in, pictures out (PNG checked to exist)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

import orchlab.analysis as oa
from orchlab.analysis.diagram import DiagramStats, ElementStats, diagram_stats
from orchlab.definition.examples import case_escalation, loan
from orchlab.errors import RenderError
from orchlab.render.markup import node_id
from orchlab.render.plots import plot_backlog, plot_cycle_times, plot_throughput, plot_wip
from orchlab.render.stats import duration_text, heatmap, stats_markup
from orchlab.store import HistoryStore
from tests.analysis.conftest import build

HAS_DOT = shutil.which("dot") is not None


@pytest.fixture(scope="module")
def history() -> HistoryStore:
    return build(HistoryStore())


def test_diagram_stats_from_the_analyses(history: HistoryStore) -> None:
    stats = diagram_stats(history, "Case_Escalation", stalled_after=dt.timedelta(hours=1))
    assert stats.runs == 4  # A, B, C and the imported run
    assert stats.edges[("$Start", "Triage")] == 4
    assert stats.outcomes == {("Amount_check", "Large_amount"): 1, ("Amount_check", None): 1}
    work = stats.steps[("Work", "Engineering_fix")]
    # A's 4 h and B's 22.5 h so far: nearest-rank median is the lower one.
    assert (work.count, work.median, work.wip, work.stalled) == (2, 4 * 3600.0, 1, 1)
    assert stats.stages["Work"].stalled == 2  # B waits on two items there


def test_heatmap_markup_paints_time_counts_and_badges(history: HistoryStore) -> None:
    stats = diagram_stats(history, "Case_Escalation", stalled_after=dt.timedelta(hours=1))
    m = stats_markup(case_escalation(), stats)
    by_id = {n.id: n for n in m.nodes}
    eng = by_id[node_id("step", "Work", "Engineering_fix")]
    assert eng.state == "heat5" and eng.badge == "⚠ 1 stalled"  # the slowest step
    assert "median 4h 00m · p90 22h 30m" in eng.lines
    assert by_id[node_id("step", "Triage", "Score")].state == "heat0"  # automated: no time
    large = [e for e in m.edges if e.outcome == "Large_amount"]
    assert [e.label for e in large] == ["Amount over 1000 · 1"]
    assert any(state == "badge" for state, _ in m.heat)
    with pytest.raises(RenderError, match="expected one of median, p90"):
        stats_markup(case_escalation(), stats, metric="mean")


def test_heatmap_of_plain_data_without_any_history() -> None:
    stats = DiagramStats(
        "Loan", 10,
        stages={"Intake": ElementStats(10, 3600.0, 7200.0)},
        steps={("Intake", "Collect_documents"): ElementStats(10, 3600.0, 7200.0, 2, 1)},
        edges={("$Start", "Intake"): 10},
    )  # fmt: skip
    dot = heatmap(loan(), stats).source()
    assert "10 runs" in dot and "no runs" in dot and "⚠ 1 stalled" in dot


@pytest.mark.needs_dot
@pytest.mark.skipif(not HAS_DOT, reason="Graphviz 'dot' program not installed")
def test_heatmap_renders_png(history: HistoryStore, tmp_path: Path) -> None:
    stats = diagram_stats(history, "Loan")
    out = heatmap(loan(), stats, metric="p90").render(tmp_path / "loan.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plots_draw_each_analysis(history: HistoryStore, tmp_path: Path) -> None:
    figures = {
        "throughput": plot_throughput(oa.throughput(history, period="day")),
        "cycle": plot_cycle_times(oa.durations(history, level="stage")),
        "wip": plot_wip(oa.work_in_progress(history)),
        "backlog": plot_backlog(oa.backlog(history, by="owner")),
    }
    for name, fig in figures.items():
        path = tmp_path / f"{name}.png"
        fig.savefig(path)
        assert path.stat().st_size > 5000, name
    labels = [t.get_text() for t in figures["backlog"].axes[0].get_yticklabels()]
    assert labels == ["Group Customer_Success", "Queue Engineering → vic"]
    with pytest.raises(RenderError, match="expected a DataFrame with columns"):
        plot_wip(oa.backlog(history))


def test_durations_read_as_people_do() -> None:
    assert [duration_text(s) for s in (0, 45, 1500, 11040, 200000, None)] == [
        "0s", "45s", "25m", "3h 04m", "2d 7h", "-",
    ]  # fmt: skip
