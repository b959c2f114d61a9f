"""Markup -> graphviz.Digraph -> DOT text, SVG, PNG or PDF.

graphviz is imported inside the functions that need it, so `import orchlab` never
loads it. Labels are HTML-like (bold titles, small detail lines); every piece of
user text is escaped, so names and labels may hold quotes, `<`, `&` and the like.
"""

from __future__ import annotations

import html
import itertools
import shutil
import sys
import textwrap
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from orchlab.definition.model import Orchestration
from orchlab.errors import RenderError
from orchlab.render.markup import EdgeMarkup, Markup, NodeMarkup, RunPicture, markup
from orchlab.render.styles import (
    BADGE_COLOR,
    DETAIL_SIZE,
    EDGE_ATTRS,
    GRAPH_ATTRS,
    ICONS,
    NODE_ATTRS,
    STATUS_ICONS,
    TITLE_SIZE,
    edge_style,
    node_style,
)

if TYPE_CHECKING:
    import graphviz

__all__ = [
    "FORMATS",
    "INSTALL_HINT",
    "DOT_MISSING",
    "RenderError",
    "DotNotFoundError",
    "DotMissingWarning",
    "dot_available",
    "require_dot",
    "warn_dot_missing",
    "to_graph",
    "to_dot",
    "pipe",
    "render",
]

FORMATS = ("svg", "png", "pdf")
PNG_DPI = "110"  # the default 72/96 dpi makes small print blurry in PNGs
INSTALL_HINT = (
    "Install it with: sudo apt-get install graphviz (Debian/Ubuntu)"
    " or brew install graphviz (macOS)"
)
DOT_MISSING = f"Graphviz 'dot' program not found: showing DOT text instead. {INSTALL_HINT}"
_WRAP = 42  # characters per line of detail text


class DotNotFoundError(RenderError):
    """Graphviz's `dot` program is not installed (or not on PATH)."""

    def __init__(self) -> None:
        super().__init__(f"Graphviz 'dot' program not found on PATH. {INSTALL_HINT}")


class DotMissingWarning(UserWarning):
    """Graphviz's `dot` program is missing: diagrams are shown as DOT text."""


_dot_warned = False  # warn once per process, not on every cell that shows an orchestration


def dot_available() -> bool:
    """Whether Graphviz's `dot` program is on PATH."""
    return shutil.which("dot") is not None


def require_dot() -> str:
    """The path of `dot`; raises RenderError with the install hint when it is missing."""
    path = shutil.which("dot")
    if path is None:
        raise DotNotFoundError
    return path


def warn_dot_missing() -> bool:
    """Emit the one-line DotMissingWarning, once per process; True if it was emitted now."""
    global _dot_warned
    if _dot_warned:
        return False
    _dot_warned = True
    try:
        warnings.warn(DOT_MISSING, DotMissingWarning, stacklevel=3)
    except Warning:  # warnings turned into errors: still say it, but never break display
        print(f"DotMissingWarning: {DOT_MISSING}", file=sys.stderr)
    return True


# --- labels -----------------------------------------------------------------------------------


def _esc(text: str) -> str:
    return html.escape(text, quote=False)  # quotes are plain text inside <...> labels


def _wrapped(text: str, width: int = _WRAP) -> list[str]:
    return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False) or [""]


def _small(lines: list[str], italic: bool = False) -> list[str]:
    out = []
    for line in lines:
        body = "<BR/>".join(_esc(part) for part in _wrapped(line))
        body = f"<I>{body}</I>" if italic else body
        out.append(f'<FONT POINT-SIZE="{DETAIL_SIZE}">{body}</FONT>')
    return out


def _node_label(node: NodeMarkup) -> str:
    # A decision's diamond is its icon; the start is always done, so no status mark.
    icon = ICONS.get(node.icon or node.kind, "") if node.kind != "decision" else ""
    status = STATUS_ICONS.get(node.state, "") if node.kind != "start" else ""
    # A title being typed may be empty: "<B></B>" is a syntax error to dot.
    title = "<BR/>".join(f"<B>{_esc(t)}</B>" for t in _wrapped(node.title, 28) if t)
    head = " ".join(p for p in (_esc(icon), title, _esc(status)) if p)
    parts = [head, *_small(list(node.lines)), *_small(list(node.notes), italic=True)]
    if node.badge:
        # On the darkest fills the badge is white: red on red cannot be read.
        dark = node_style(node.kind, node.state).get("fontcolor") == "white"
        parts.append(
            f'<FONT COLOR="{"white" if dark else BADGE_COLOR}" POINT-SIZE="{DETAIL_SIZE + 1}">'
            f"<B>{_esc(node.badge)}</B></FONT>"
        )
    return "<" + "<BR/>".join(parts) + ">"


def _edge_label(edge: EdgeMarkup) -> str | None:
    if not edge.label:
        return None
    icon = ICONS.get(edge.kind, "")
    parts = [" ".join(p for p in (_esc(icon), _esc(edge.label)) if p)]
    if edge.detail:
        parts += _small([edge.detail], italic=True)
    return "<" + "<BR/>".join(parts) + ">"


def _stage_label(title: str, notes: tuple[str, ...], state: str) -> str:
    status = STATUS_ICONS.get(state, "")
    head = " ".join(p for p in (f"<B>{_esc(title)}</B>", _esc(status)) if p)
    left = '<BR ALIGN="LEFT"/>'  # stage titles sit top left, notes under them
    return "<" + left.join([head, *_small(list(notes), True)]) + left + ">"


def _title(m: Markup) -> str:
    lines = [f'<FONT POINT-SIZE="{TITLE_SIZE}"><B>{_esc(m.title)}</B></FONT>']
    lines += [f'<FONT POINT-SIZE="11">{_esc(line)}</FONT>' for line in m.subtitle.splitlines()]
    return "<" + "<BR/>".join(lines) + ">"


def _legend(m: Markup) -> str:
    """One HTML table: the node kinds, the edge kinds and (painted) the run states."""
    rows: list[tuple[dict[str, str], str, str]] = []
    names = {
        "background": "background step",
        "interactive": "interactive step",
        "external": "external step",
        "decision": "decision",
        "end": "end",
    }
    for kind, text in names.items():
        rows.append((node_style(kind), ICONS.get(kind, ""), text))
    if m.painted:
        for state, text in (
            ("Completed", "completed"),
            ("InProgress", "in progress"),
            ("Waiting", "waiting on a person"),
            ("NotStarted", "not started"),
            ("Error", "error"),
            ("Discontinued", "discontinued"),
        ):
            rows.append((node_style("background", state), STATUS_ICONS.get(state, ""), text))
    cells = []
    for attrs, icon, text in rows:
        fill, color = attrs.get("fillcolor", "white"), attrs.get("color", "black")
        cells.append(
            f'<TR><TD BGCOLOR="{fill}" COLOR="{color}" BORDER="1" WIDTH="26">{_esc(icon)}</TD>'
            f'<TD ALIGN="LEFT">{_esc(text)}</TD></TR>'
        )
    for kind, text in (("next", "next"), ("goto", "Go To"), ("fault", "fault path")):
        attrs = edge_style(kind)
        arrow = {"dashed": "- - →", "dotted": "· · · →"}.get(attrs.get("style", ""), "——→")
        cells.append(
            f'<TR><TD><FONT COLOR="{attrs["color"]}">{_esc(arrow)}</FONT></TD>'
            f'<TD ALIGN="LEFT">{_esc(text)}</TD></TR>'
        )
    for state, text in m.heat:
        if state == "badge":
            cells.append(
                f'<TR><TD><FONT COLOR="{BADGE_COLOR}"><B>⚠</B></FONT></TD>'
                f'<TD ALIGN="LEFT">{_esc(text)}</TD></TR>'
            )
            continue
        attrs = node_style("background", state)
        cells.append(
            f'<TR><TD BGCOLOR="{attrs["fillcolor"]}" COLOR="{attrs["color"]}" BORDER="1">'
            f'</TD><TD ALIGN="LEFT">{_esc(text)}</TD></TR>'
        )
    if m.painted:
        attrs = edge_style("next", "taken")
        cells.append(
            f'<TR><TD><FONT COLOR="{attrs["color"]}"><B>━━→</B></FONT></TD>'
            '<TD ALIGN="LEFT">taken by the run</TD></TR>'
        )
    return (
        '<<TABLE BORDER="1" COLOR="#b0bec5" CELLBORDER="0" CELLSPACING="3" CELLPADDING="2">'
        '<TR><TD COLSPAN="2"><B>Legend</B></TD></TR>' + "".join(cells) + "</TABLE>>"
    )


# --- the graph ----------------------------------------------------------------------------------


def _markup_of(obj: Orchestration | Markup, picture: RunPicture | None) -> Markup:
    if isinstance(obj, Markup):
        return obj
    if isinstance(obj, Orchestration):
        return markup(obj, picture)
    raise TypeError(f"cannot draw {type(obj).__name__}: expected an Orchestration or a Markup")


def _node_attrs(node: NodeMarkup) -> dict[str, str]:
    attrs = node_style(node.kind, node.state)
    attrs["label"] = _node_label(node)
    if node.tooltip:
        attrs["tooltip"] = node.tooltip
    return attrs


def to_graph(
    obj: Orchestration | Markup, picture: RunPicture | None = None, *, legend: bool = False
) -> graphviz.Digraph:
    """The diagram as a graphviz.Digraph (top to bottom, one box per stage)."""
    import graphviz

    m = _markup_of(obj, picture)
    g = graphviz.Digraph(
        name=m.name,
        graph_attr=GRAPH_ATTRS | {"label": _title(m)},
        node_attr=NODE_ATTRS,
        edge_attr=EDGE_ATTRS,
    )

    def quoted(attrs: dict[str, str]) -> dict[str, str]:
        # Tooltips are plain text even when they look like <html>.
        return {k: graphviz.nohtml(v) if k == "tooltip" else v for k, v in attrs.items()}

    by_stage: dict[str | None, list[NodeMarkup]] = {}
    for node in m.nodes:
        by_stage.setdefault(node.stage, []).append(node)
    for node in by_stage.get(None, []):
        if node.kind == "start":
            g.node(node.id, **quoted(_node_attrs(node)))
    for stage in m.stages:
        inside = {n.id: n for n in by_stage.get(stage.id, [])}
        with g.subgraph(name=stage.id) as c:
            style = node_style("stage", stage.state)
            c.attr(label=_stage_label(stage.title, stage.notes, stage.state), **style)
            if stage.tooltip:
                c.attr(tooltip=graphviz.nohtml(stage.tooltip))
            for row in stage.rows:
                with c.subgraph() as r:
                    if len(row) > 1:
                        r.attr(rank="same")  # parallel steps side by side
                    for nid in row:
                        r.node(nid, **quoted(_node_attrs(inside[nid])))
                    for left, right in itertools.pairwise(row):
                        r.edge(left, right, style="invis")  # keep definition order left to right
    for node in by_stage.get(None, []):
        if node.kind != "start":
            g.node(node.id, **quoted(_node_attrs(node)))
    # Without edge labels dot leaves no room between a node and a stage box's title: an
    # edge into or out of a stage then spans two ranks (with labels, dot doubles them itself).
    roomy = not any(e.label for e in m.edges)
    for edge in m.edges:
        attrs = edge_style(edge.kind, edge.state)
        if roomy and (edge.ltail or edge.lhead) and attrs.get("constraint") != "false":
            attrs["minlen"] = "2"
        label = _edge_label(edge)
        if label:
            attrs["label"] = label
        if edge.ltail:
            attrs["ltail"] = edge.ltail
        if edge.lhead:
            attrs["lhead"] = edge.lhead
        g.edge(edge.tail, edge.head, **attrs)
    if legend:
        # Below the ends: at the top it would share the start's rank and push everything down.
        g.node("legend", label=_legend(m), **node_style("legend"))
        for node in m.nodes:
            if node.kind == "end":
                g.edge(node.id, "legend", style="invis", weight="0")
    return g


def to_dot(
    obj: Orchestration | Markup, picture: RunPicture | None = None, *, legend: bool = False
) -> str:
    """The DOT source of the diagram (deterministic: the same definition gives the same text)."""
    return to_graph(obj, picture, legend=legend).source


def pipe(graph: graphviz.Digraph, format: str) -> bytes:
    """Run `dot` on a graph; RenderError (with the install hint) when it cannot run."""
    import graphviz

    if format not in FORMATS:
        raise ValueError(f"format {format!r}: expected one of {', '.join(FORMATS)}")
    require_dot()
    if format == "png":
        graph = graph.copy()
        graph.attr(dpi=PNG_DPI)
    try:
        return graph.pipe(format=format, quiet=True)
    except graphviz.ExecutableNotFound:  # on PATH for `which`, yet it would not run
        raise DotNotFoundError from None
    except graphviz.CalledProcessError as error:
        detail = (error.stderr or b"").decode("utf-8", "replace").strip()
        raise RenderError(f"Graphviz 'dot' failed to draw {graph.name!r}: {detail}") from None


def render(
    obj: Orchestration | Markup,
    path: str | Path,
    format: str | None = None,
    *,
    picture: RunPicture | None = None,
    legend: bool = False,
) -> Path:
    """Save the diagram as SVG, PNG or PDF (format from the file's suffix unless given).

    Missing parent folders are created; the file is written only once the picture is drawn.
    """
    path = Path(path)
    fmt = (format or path.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise ValueError(
            f"render: cannot tell the format of {str(path)!r}: expected a suffix or "
            f"format= of {', '.join(FORMATS)}, got {fmt or 'none'!r}"
        )
    data = pipe(to_graph(obj, picture, legend=legend), fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
