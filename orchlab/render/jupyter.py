"""Showing an orchestration in JupyterLab: `Orchestration._repr_mimebundle_` calls `mimebundle`.

Like the graphviz package's Jupyter mixin, but it never raises for a missing `dot`:
it shows the DOT text and warns once with the install hint.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from orchlab.definition.model import Orchestration
from orchlab.render import graph as _graph
from orchlab.render.markup import Markup, RunPicture, markup

__all__ = ["MIME_TYPES", "get_format", "set_format", "summary", "mimebundle"]

MIME_TYPES = {"svg": "image/svg+xml", "png": "image/png"}
_format = "svg"


def get_format() -> str:
    """The image format notebooks show diagrams in ("svg" or "png")."""
    return _format


def set_format(format: str) -> str:
    """Show diagrams as "svg" (default) or "png"; returns the previous format."""
    global _format
    if format not in MIME_TYPES:
        raise ValueError(f"set_format: format {format!r}: expected one of {', '.join(MIME_TYPES)}")
    old, _format = _format, format
    return old


def summary(obj: Orchestration | Markup) -> str:
    """A one-line text for text/plain, e.g. `Orchestration 'Loan' (Loan v1): 5 stages, ...`."""
    if isinstance(obj, Markup):
        return f"Diagram {obj.title!r} ({len(obj.stages)} stages)"

    def count(n: int, word: str) -> str:
        return f"{n} {word}{'s' * (n != 1)}"

    steps = sum(len(s.steps) for s in obj.stages)
    return (
        f"Orchestration {obj.display_label!r} ({obj.name} v{obj.version}): "
        f"{count(len(obj.stages), 'stage')}, {count(steps, 'step')}, "
        f"{count(len(obj.decisions), 'decision')}"
    )


def mimebundle(
    obj: Orchestration | Markup,
    include: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
    *,
    picture: RunPicture | None = None,
    legend: bool = False,
) -> dict[str, Any]:
    """{"image/svg+xml": svg, "text/plain": summary}; never raises for a missing `dot`.

    Without `dot` (or when it fails) the bundle is {"text/plain": warning + DOT text},
    and a DotMissingWarning is emitted once per process.
    """
    m = obj if isinstance(obj, Markup) else markup(obj, picture)
    wanted = set(include) if include is not None else {MIME_TYPES[_format], "text/plain"}
    wanted -= set(exclude or ())
    images = [(fmt, mime) for fmt, mime in MIME_TYPES.items() if mime in wanted]
    bundle: dict[str, Any] = {}
    if images:
        g = _graph.to_graph(m, legend=legend)
        try:
            for fmt, mime in images:
                data = _graph.pipe(g, fmt)
                bundle[mime] = data.decode("utf-8") if fmt == "svg" else data
        except _graph.DotNotFoundError:
            _graph.warn_dot_missing()
            return {"text/plain": f"// {_graph.DOT_MISSING}\n{g.source}"}
        except _graph.RenderError as error:  # dot ran but failed: still show something
            return {"text/plain": f"// {str(error).splitlines()[0]}\n{g.source}"}
    if "text/plain" in wanted:
        bundle["text/plain"] = summary(obj)
    return bundle
