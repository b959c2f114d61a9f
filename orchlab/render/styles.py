"""How the diagram looks: one table of Graphviz attributes, by kind and state.

`STYLES[kind][state]` holds the Graphviz attributes of a node kind (start, stage,
background, interactive, external, decision, end, missing, legend) or an edge kind
(next, chain, outcome, default, goto, fault, taken) in a state. Node states are
"default" (a definition without a run) and the Salesforce statuses a run paints
(NotStarted, InProgress, Completed, Error, Discontinued, Waiting); edge states are
"default", "taken" and "untaken". The table is built once from a few small pieces
below, so a colour is changed in one place; everything else reads the table.

The glyphs are all in DejaVu Sans, the font Debian's Graphviz falls back to, so PNGs
show them too (emoji such as U+1F464 are not, so they are not used).
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "FONT",
    "GRAPH_ATTRS",
    "NODE_ATTRS",
    "EDGE_ATTRS",
    "ICONS",
    "STATUS_ICONS",
    "NODE_KINDS",
    "EDGE_KINDS",
    "NODE_STATES",
    "EDGE_STATES",
    "STYLES",
    "node_style",
    "edge_style",
    "DETAIL_SIZE",
    "TITLE_SIZE",
    "HEAT",
    "FLOW_WIDTHS",
    "BADGE_COLOR",
]

# Helvetica first for SVG in browsers; fontconfig maps it to Liberation/DejaVu on Debian.
FONT = "Helvetica,Arial,sans-serif"
TITLE_SIZE = 16
DETAIL_SIZE = 10  # the small second lines: assignee, flow, entry notes

GRAPH_ATTRS: dict[str, str] = {
    "rankdir": "TB",
    "compound": "true",  # edges may end at a stage's border (lhead/ltail)
    "nodesep": "0.4",
    "ranksep": "0.5",
    "fontname": FONT,
    "fontsize": "12",
    "bgcolor": "white",  # readable on JupyterLab's dark theme too
    "pad": "0.25",
    "labelloc": "t",
    "labeljust": "c",
    "margin": "0",
}
NODE_ATTRS: dict[str, str] = {"fontname": FONT, "fontsize": "12", "margin": "0.14,0.06"}
EDGE_ATTRS: dict[str, str] = {"fontname": FONT, "fontsize": "10", "arrowsize": "0.8"}

ICONS: dict[str, str] = {
    "record": "⚡",  # record-triggered start
    "autolaunched": "▶",
    "background": "⚙",
    "interactive": "☺",
    "external": "⇄",
    "decision": "◆",  # legend only: the diamond shape says it on the diagram
    "goto": "↺",
    "fault": "⚠",
    "missing": "?",
}
STATUS_ICONS: dict[str, str] = {
    "Completed": "✔",
    "InProgress": "●",
    "Waiting": "…",
    "Error": "✖",
    "Discontinued": "⊘",
    "NotStarted": "",
    "default": "",
}

NODE_KINDS = (
    "start",
    "stage",
    "background",
    "interactive",
    "external",
    "decision",
    "end",
    "missing",
    "legend",
)
EDGE_KINDS = ("next", "chain", "outcome", "default", "goto", "fault", "taken")
NODE_STATES = (
    "default",
    "NotStarted",
    "InProgress",
    "Completed",
    "Error",
    "Discontinued",
    "Waiting",
    *(f"heat{i}" for i in range(6)),
)
# Statistics diagrams: time as heat (heat0 = no time, heat5 = the slowest fifth), edge counts
# as width (flow0 = never taken), stalled work as a badge.
HEAT = ("#f5f5f5", "#fff3c4", "#fdd98a", "#fbb061", "#f3784c", "#d7301f")
FLOW_WIDTHS = ("1", "1.4", "2.2", "3.2", "4.6")
BADGE_COLOR = "#c62828"
HEAT_STATES = tuple(f"heat{i}" for i in range(len(HEAT)))
FLOW_STATES = tuple(f"flow{i}" for i in range(len(FLOW_WIDTHS)))
EDGE_STATES = ("default", "taken", "untaken", *FLOW_STATES)

# --- the pieces the table is made of -----------------------------------------------------------

_NODE_BASE: dict[str, dict[str, str]] = {
    "start": {
        "shape": "box",
        "style": "rounded,filled",
        "fillcolor": "#f1f8e9",
        "color": "#7cb342",
        "penwidth": "1.4",
    },
    # A stage is a cluster: these are subgraph attributes.
    "stage": {
        "style": "rounded,filled",
        "fillcolor": "#f7f9fc",
        "color": "#90a4ae",
        "penwidth": "1.2",
        "fontsize": "13",
        "labeljust": "l",
        "margin": "10",
    },
    "background": {
        "shape": "box",
        "style": "filled",
        "fillcolor": "#eef3fb",
        "color": "#5c7fa8",
        "penwidth": "1.2",
    },
    "interactive": {
        "shape": "box",
        "style": "rounded,filled",
        "fillcolor": "#f5effb",
        "color": "#7e57c2",
        "penwidth": "1.2",
    },
    "external": {
        "shape": "component",
        "style": "filled",
        "fillcolor": "#e8f6f4",
        "color": "#00897b",
        "penwidth": "1.2",
    },
    "decision": {
        "shape": "diamond",
        "style": "filled",
        "fillcolor": "#fff3e0",
        "color": "#e08a00",
        "penwidth": "1.4",
        "margin": "0.04,0.02",
    },
    "end": {
        "shape": "doublecircle",
        "style": "filled",
        "fillcolor": "#eceff1",
        "color": "#455a64",
        "fontsize": "11",
        "margin": "0.02",
        "width": "0.5",
    },
    "missing": {
        "shape": "box",
        "style": "dashed",
        "color": "#c62828",
        "fontcolor": "#c62828",
    },
    "legend": {"shape": "plaintext", "margin": "0"},
}

# Run states, laid over any node kind; "+style" is added to the kind's style.
_STATE_OVERLAY: dict[str, dict[str, str]] = {
    "default": {},
    "NotStarted": {"fillcolor": "#f5f5f5", "color": "#bdbdbd", "fontcolor": "#9e9e9e"},
    "InProgress": {
        "fillcolor": "#bbdefb",
        "color": "#1565c0",
        "penwidth": "2.6",
        "fontcolor": "#0d47a1",
    },
    "Completed": {"fillcolor": "#c8e6c9", "color": "#2e7d32", "penwidth": "1.6"},
    "Waiting": {
        "fillcolor": "#ffe0b2",
        "color": "#ef6c00",
        "penwidth": "2.6",
        "fontcolor": "#8a3c00",
    },
    "Error": {
        "fillcolor": "#ffcdd2",
        "color": "#c62828",
        "penwidth": "2.6",
        "fontcolor": "#b71c1c",
    },
    "Discontinued": {
        "fillcolor": "#eeeeee",
        "color": "#9e9e9e",
        "fontcolor": "#757575",
        "+style": "dashed",
    },
}
# Stages are big boxes around the steps: paler fills than a step in the same state.
for _i, _fill in enumerate(HEAT):
    _STATE_OVERLAY[f"heat{_i}"] = {
        "fillcolor": _fill,
        "color": "#8d6e63" if _i else "#bdbdbd",
        "penwidth": "1.4",
        "fontcolor": "white" if _i == len(HEAT) - 1 else "#212121",
    }
_STAGE_FILLS = {
    "NotStarted": "#fafafa",
    "InProgress": "#eef5fd",
    "Completed": "#f1f8f1",
    "Waiting": "#fff7ec",
    "Error": "#fdeeee",
    "Discontinued": "#f5f5f5",
}
_NO_STATES = ("missing", "legend")  # drawn the same whatever the run did

_EDGE_BASE: dict[str, dict[str, str]] = {
    "next": {"color": "#607d8b", "penwidth": "1.4"},
    "chain": {"color": "#78909c", "penwidth": "1.2", "arrowsize": "0.7"},
    "outcome": {"color": "#e08a00", "fontcolor": "#8d5a00", "penwidth": "1.4"},
    "default": {"color": "#b0855a", "fontcolor": "#6d4c41", "penwidth": "1.4"},
    # Go To edges are jumps, not flow: they must not pull the layout around.
    "goto": {
        "color": "#8e24aa",
        "fontcolor": "#8e24aa",
        "style": "dashed",
        "penwidth": "1.6",
        "constraint": "false",
        "tailport": "e",  # loop round the right-hand side, clear of the forward edges
        "headport": "e",
    },
    "fault": {"color": "#c62828", "fontcolor": "#c62828", "style": "dotted", "penwidth": "1.8"},
    # Laid over any edge kind the run went along (see `edge_style`).
    "taken": {"color": "#2e7d32", "fontcolor": "#1b5e20", "penwidth": "3"},
}
_EDGE_TAKEN_OWN = {  # kinds that keep their own colour when taken
    "goto": {"color": "#8e24aa", "fontcolor": "#8e24aa"},
    "fault": {"color": "#c62828", "fontcolor": "#c62828"},
}
_EDGE_UNTAKEN = {"color": "#cfd8dc", "fontcolor": "#b0bec5", "penwidth": "1"}


def _overlay(base: Mapping[str, str], overlay: Mapping[str, str]) -> dict[str, str]:
    attrs = dict(base)
    for key, value in overlay.items():
        if key == "+style":
            attrs["style"] = ",".join(s for s in (attrs.get("style", ""), value) if s)
        else:
            attrs[key] = value
    return attrs


def _build() -> dict[str, dict[str, dict[str, str]]]:
    table: dict[str, dict[str, dict[str, str]]] = {}
    for kind, base in _NODE_BASE.items():
        table[kind] = {}
        for state, overlay in _STATE_OVERLAY.items():
            if kind in _NO_STATES:
                table[kind][state] = dict(base)
                continue
            attrs = _overlay(base, overlay)
            if kind == "stage" and state in _STAGE_FILLS:
                attrs["fillcolor"] = _STAGE_FILLS[state]
                attrs["penwidth"] = str(min(float(attrs.get("penwidth", "1")), 2.0))
            elif kind == "stage" and state.startswith("heat"):
                # A stage box is big: its heat is its border, its fill stays pale.
                attrs.update(fillcolor="#fbfbfb", color=attrs["fillcolor"], penwidth="3",
                             fontcolor="#212121")  # fmt: skip
                if state == "heat0":
                    attrs["color"] = "#bdbdbd"
            table[kind][state] = attrs
    for kind, base in _EDGE_BASE.items():
        taken = _overlay(base, _EDGE_BASE["taken"]) | _EDGE_TAKEN_OWN.get(kind, {})
        table[kind] = {"default": dict(base), "taken": taken, "untaken": base | _EDGE_UNTAKEN}
        for i, width in enumerate(FLOW_WIDTHS):
            table[kind][f"flow{i}"] = base | ({"penwidth": width} if i else _EDGE_UNTAKEN)
    return table


STYLES: dict[str, dict[str, dict[str, str]]] = _build()


def node_style(kind: str, state: str = "default") -> dict[str, str]:
    """Graphviz attributes of a node kind in a state (unknown states fall back to default)."""
    states = STYLES[kind]
    return dict(states.get(state, states["default"]))


def edge_style(kind: str, state: str = "default") -> dict[str, str]:
    """Graphviz attributes of an edge kind in a state: default, taken or untaken."""
    states = STYLES[kind]
    return dict(states.get(state, states["default"]))
