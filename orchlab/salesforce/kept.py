"""What an imported orchestration kept aside, readable: its API version, status and the rest."""

from __future__ import annotations

from orchlab.definition.model import Orchestration
from orchlab.salesforce.reader import label_of_owner
from orchlab.salesforce.shape import DEFAULT_API_VERSION, DEFAULT_STATUS
from orchlab.salesforce.xml_write import from_canonical

__all__ = ["api_version", "kept_aside", "status"]


def _top(orch: Orchestration, tag: str) -> str | None:
    for part in orch.kept:
        if part.owner == "" and part.text.startswith(f"<{tag}>"):
            return from_canonical(part.text).text.strip()
    return None


def api_version(orch: Orchestration) -> str:
    """The file's `apiVersion` (what `save` writes; 62.0 for a native orchestration)."""
    return _top(orch, "apiVersion") or DEFAULT_API_VERSION


def status(orch: Orchestration) -> str:
    """The file's `status`: Active, Draft, Obsolete, ... (Draft for a native orchestration)."""
    return _top(orch, "status") or DEFAULT_STATUS


def kept_aside(orch: Orchestration) -> list[tuple[str, str, str]]:
    """(owner, element, XML) for each kept part, e.g. ("stage 'Review'", "locationX", ...)."""
    return [(label_of_owner(p.owner), from_canonical(p.text).tag, p.text) for p in orch.kept]
