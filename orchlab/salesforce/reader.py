"""The bookkeeping of one file being read: errors that say where, kept parts and warnings.

Every child element of a modelled element is either taken (`Fields.take`) into the model
or kept aside (`Fields.keep_rest`), so nothing in a file is dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchlab.definition.model import KeptPart
from orchlab.errors import MetadataError
from orchlab.salesforce.xml_read import XNode
from orchlab.salesforce.xml_write import canonical

__all__ = ["Fields", "MetadataWarning", "Reader", "label_of_owner"]

# Kept parts that only concern Flow Builder's canvas or bookkeeping: reported once, grouped.
_LAYOUT = {
    "locationX": "canvas positions (orchlab lays diagrams out itself)",
    "locationY": "canvas positions (orchlab lays diagrams out itself)",
    "processMetadataValues": "Flow Builder settings",
    "stepSubtype": "the step subtype Flow Builder writes beside the action type",
    "elementSubtype": "the element subtype Flow Builder writes",
    "environments": "the environments the flow runs in",
    "interviewLabel": "the label of flow interviews",
    "apiVersion": "the API version, written back as it was",
    "status": "the version status, written back as it was",
    "requiresAsyncProcessing": "the 'contains callouts' checkbox, unchecked",
}


@dataclass(frozen=True, slots=True)
class MetadataWarning:
    """Something in the file orchlab keeps but does not use, or reads with a caveat."""

    element: str
    field: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f" (line {self.line})" if self.line else ""
        return f"{self.element}{where}: {self.field}: {self.message}"


def label_of_owner(owner: str) -> str:
    """ "stage:Review" -> "stage 'Review'"; "" -> "orchestration"."""
    if not owner:
        return "orchestration"
    if ":" not in owner:
        return owner
    kind, _, name = owner.partition(":")
    name, _, inner = name.partition("/")
    return f"{kind} {name!r}" + (f" <{inner}>" if inner else "")


class Reader:
    """What reading one file has found so far besides the model itself."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.kept: list[KeptPart] = []
        self.warnings: list[MetadataWarning] = []
        self._layout: dict[str, list[str]] = {}
        # (target name, connector node, who points there): checked once all names are known.
        self.targets: list[tuple[str, XNode, str]] = []

    def fail(self, node: XNode, message: str, element: str | None = None) -> MetadataError:
        return MetadataError(
            message, path=self.source, line=node.line, element=element or node.label
        )

    def warn(self, owner: str, node: XNode, message: str, field: str | None = None) -> None:
        field = field or f"<{node.tag}>"
        self.warnings.append(MetadataWarning(label_of_owner(owner), field, message, node.line))

    def keep(self, owner: str, node: XNode, why: str = "") -> None:
        """Keep `node` aside for `owner`, to be written back, and say so."""
        self.kept.append(KeptPart(owner, canonical(node)))
        if node.tag in _LAYOUT and not why:
            self._layout.setdefault(node.tag, []).append(label_of_owner(owner))
            return
        shown = canonical(node)
        shown = shown if len(shown) <= 90 else shown[:87] + "..."
        if why:
            self.warn(owner, node, f"kept aside and written back on save: {shown}; {why}")
        else:
            self.warn(owner, node, f"kept aside and written back; orchlab does not use it: {shown}")

    def layout_warnings(self) -> list[MetadataWarning]:
        """One warning per kind of canvas or bookkeeping part kept aside."""
        found = []
        for tag, owners in self._layout.items():
            shown = ", ".join(dict.fromkeys(owners))
            shown = shown if len(shown) <= 100 else shown[:97] + "..."
            count = len(owners)
            message = f"kept aside {count} time{'s' * (count != 1)} and written back on save "
            found.append(MetadataWarning(shown, f"<{tag}>", message + f"({_LAYOUT[tag]})"))
        return found


class Fields:
    """The children of one element, taken one by one; what is left is kept aside."""

    def __init__(self, reader: Reader, node: XNode, owner: str) -> None:
        self.reader, self.node, self.owner = reader, node, owner
        self.left = list(node.children)

    def _single(self, tag: str) -> None:
        """The fields taken one by one occur at most once (the XSD says so)."""
        found = [c for c in self.left if c.tag == tag]
        if len(found) > 1:
            message = f"<{tag}> appears {len(found)} times in {self.node.label}; expected one"
            raise self.reader.fail(found[1], message)

    def take(self, tag: str) -> XNode | None:
        """The child `tag`, of which there is at most one."""
        self._single(tag)
        for i, child in enumerate(self.left):
            if child.tag == tag:
                if child.children and child.tag in _LEAF_TAGS:
                    raise self.reader.fail(child, "expected text, not child elements")
                return self.left.pop(i)
        return None

    def take_all(self, tag: str) -> list[XNode]:
        found = [c for c in self.left if c.tag == tag]
        self.left = [c for c in self.left if c.tag != tag]
        return found

    def peek(self, tag: str) -> str | None:
        """The text of the first child `tag`, leaving it to be taken or kept."""
        return next((c.text for c in self.left if c.tag == tag), None)

    def text(self, tag: str) -> str | None:
        child = self.take(tag)
        return None if child is None else child.text

    def required(self, tag: str) -> str:
        child = self.take(tag)
        if child is None or not child.text.strip():
            what = "is empty" if child is not None else f"has no <{tag}>"
            raise self.reader.fail(child or self.node, f"{what}; expected one", self.node.label)
        return child.text.strip()

    def flag(self, tag: str) -> bool:
        child = self.take(tag)
        if child is None:
            return False
        word = child.text.strip().lower()
        if word not in ("true", "false", "1", "0"):
            raise self.reader.fail(child, f"{child.text!r} is not true or false")
        return word in ("true", "1")

    def default(self, tag: str, default: str) -> None:
        """Take `tag` if it holds what writing produces anyway; else leave it to be kept."""
        self._single(tag)
        for i, child in enumerate(self.left):
            if child.tag == tag and not child.children and child.text.strip() == default:
                del self.left[i]
                return

    def keep_rest(self, why: dict[str, str] | None = None) -> None:
        for child in self.left:
            self.reader.keep(self.owner, child, (why or {}).get(child.tag, ""))
        self.left = []


# Tags that hold text; a file giving them children is refused rather than misread.
_LEAF_TAGS = frozenset(
    {
        "name",
        "label",
        "description",
        "actionName",
        "actionType",
        "object",
        "recordTriggerType",
        "triggerType",
        "filterLogic",
        "processType",
        "dataType",
        "objectType",
        "targetReference",
        "leftValueReference",
        "operator",
        "field",
        "assigneeType",
        "assignToReference",
        "defaultConnectorLabel",
        "conditionLogic",
        "entryConditionLogic",
        "exitConditionLogic",
        "entryActionName",
        "exitActionName",
        "entryActionType",
        "exitActionType",
    }
)
