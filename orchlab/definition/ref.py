"""References: names that point at data in a run (`$Record.Severity`, `Review.Outputs.ok`).

A reference is kept as its text; what it points at (a stage, a step, a variable)
is decided against a definition by `orchlab.definition.validate` and the engine.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Ref", "ref", "RECORD", "PRIOR", "INSTANCE"]

RECORD = "$Record"
PRIOR = "$Record__Prior"
INSTANCE = "$Orchestration.Instance"


@dataclass(frozen=True, slots=True)
class Ref:
    """A reference such as `$Record.Severity`, `Triage.Status` or `Review.Outputs.approved`."""

    path: str

    def __post_init__(self) -> None:
        if not isinstance(self.path, str) or not self.path.strip():
            raise ValueError(f"a reference needs a non-empty text path, got {self.path!r}")
        if any(not part for part in self.path.split(".")):
            raise ValueError(f"reference {self.path!r} has an empty part between dots")

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(self.path.split("."))

    @property
    def root(self) -> str:
        return self.path.split(".", 1)[0]

    def __str__(self) -> str:
        return self.path


def ref(path: str) -> Ref:
    """Shorthand for `Ref(path)`; strips Salesforce's `{!...}` merge-field braces.

    >>> ref("{!$Record.Id}")
    Ref(path='$Record.Id')
    """
    text = path.strip()
    if text.startswith("{!") and text.endswith("}"):
        text = text[2:-1]
    return Ref(text)
