"""Diagrams of orchestrations: definition (+ a run's state) -> markup -> Graphviz -> SVG/PNG/PDF.

    >>> from orchlab.definition.examples import loan
    >>> from orchlab.render import to_dot
    >>> "cluster_Intake" in to_dot(loan())
    True

graphviz is imported only when a diagram is drawn, so `import orchlab` stays light.
Imports definition and engine state (to paint a run); nothing imports render but display hooks.
"""

from __future__ import annotations

from orchlab.render.graph import (
    DotMissingWarning,
    DotNotFoundError,
    RenderError,
    dot_available,
    render,
    require_dot,
    to_dot,
    to_graph,
)
from orchlab.render.jupyter import get_format, mimebundle, set_format
from orchlab.render.markup import IMPLICIT_END, START, Markup, RunPicture, markup
from orchlab.render.styles import STYLES

__all__ = [
    "IMPLICIT_END",
    "START",
    "STYLES",
    "DotMissingWarning",
    "DotNotFoundError",
    "Markup",
    "RenderError",
    "RunPicture",
    "dot_available",
    "get_format",
    "markup",
    "mimebundle",
    "render",
    "require_dot",
    "set_format",
    "to_dot",
    "to_graph",
]
