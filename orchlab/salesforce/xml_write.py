"""Writing the XML tree back: Salesforce's layout (4 spaces, XSD element order, escaping).

Also the canonical one-line form of a kept-aside element, which is what `KeptPart.text`
holds: reading it back and writing it again gives the same text, so kept parts compare equal
after any number of round trips.
"""

from __future__ import annotations

import re

from orchlab.errors import MetadataError
from orchlab.salesforce.xml_read import METADATA_NS, XSI_NS, XNode, parse_bytes

__all__ = ["canonical", "document", "from_canonical", "leaf", "node", "order_children"]

# Characters XML 1.0 cannot carry at all (a file with them would not parse again).
_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;", "\r": "&#13;"}
_ESCAPE = re.compile("[&<>\"'\r]")

# FlowElement's own fields come first, then FlowNode's, then the subtype's in alphabetical
# order: the XSD sequences of every orchestration element follow this rule.
_ELEMENT_HEAD = ("processMetadataValues", "description", "name")
_HEADS = {
    "flow": (),  # the Flow itself: alphabetical
    "base": ("processMetadataValues",),  # FlowBaseElement: conditions, connectors, parameters
    "element": _ELEMENT_HEAD,  # FlowElement: steps, rules, variables
    "node": (*_ELEMENT_HEAD, "elementSubtype", "group", "label", "locationX", "locationY"),
}


def _escape(text: str, where: str) -> str:
    bad = _INVALID.search(text)
    if bad:
        raise MetadataError(
            f"{where}: the text {text[:40]!r} holds the character {bad.group()!r}, which XML "
            "cannot carry; expected printable text"
        )
    return _ESCAPE.sub(lambda m: _ESCAPES[m.group()], text)


def leaf(tag: str, text: object) -> XNode:
    """An element holding text (booleans as Salesforce writes them: true / false)."""
    if isinstance(text, bool):
        text = "true" if text else "false"
    return XNode(tag, text=str(text))


def node(tag: str, *children: XNode | None) -> XNode:
    """An element with children (None children are left out)."""
    return XNode(tag, children=[c for c in children if c is not None])


def order_children(parent: XNode, kind: str) -> None:
    """Sort children into XSD order: the base type's fields first, then alphabetical.

    `kind` is "flow", "base", "element" or "node" (see `_HEADS`). The sort is stable, so
    repeated elements (stages, steps, conditions) keep their order.
    """
    rank = {tag: i for i, tag in enumerate(_HEADS[kind])}
    parent.children.sort(key=lambda c: (rank.get(c.tag, len(rank)), c.tag))


def _attrs(n: XNode, where: str) -> str:
    return "".join(f' {k}="{_escape(v, where)}"' for k, v in n.attrs.items())


def _write(n: XNode, out: list[str], indent: str, step: str) -> None:
    attrs = _attrs(n, f"<{n.tag}>")
    if n.children:
        out.append(f"{indent}<{n.tag}{attrs}>")
        for child in n.children:
            _write(child, out, indent + step, step)
        out.append(f"{indent}</{n.tag}>")
    else:
        out.append(f"{indent}<{n.tag}{attrs}>{_escape(n.text, f'<{n.tag}>')}</{n.tag}>")


def _uses_xsi(root: XNode) -> bool:
    return any(k.startswith("xsi:") for n in root.walk() for k in n.attrs)


def document(root: XNode) -> str:
    """The whole file: declaration, root with the metadata namespace, 4-space indentation."""
    root.attrs.pop("xmlns", None)
    xsi = f' xmlns:xsi="{XSI_NS}"' if _uses_xsi(root) else ""
    out = ['<?xml version="1.0" encoding="UTF-8"?>', f'<{root.tag} xmlns="{METADATA_NS}"{xsi}>']
    for child in root.children:
        _write(child, out, "    ", "    ")
    out.append(f"</{root.tag}>")
    return "\n".join(out) + "\n"


def _compact(n: XNode, out: list[str]) -> None:
    attrs = _attrs(n, f"<{n.tag}>")
    if n.children:
        out.append(f"<{n.tag}{attrs}>")
        for child in n.children:
            _compact(child, out)
        out.append(f"</{n.tag}>")
    else:
        out.append(f"<{n.tag}{attrs}>{_escape(n.text, f'<{n.tag}>')}</{n.tag}>")


def canonical(n: XNode) -> str:
    """One line, no indentation, no namespace declarations: the text of a `KeptPart`."""
    out: list[str] = []
    _compact(n, out)
    return "".join(out)


def from_canonical(text: str, where: str = "kept part") -> XNode:
    """The element a `KeptPart.text` holds (parsed as safely as a file)."""
    wrapped = f'<Flow xmlns="{METADATA_NS}" xmlns:xsi="{XSI_NS}">{text}</Flow>'
    root = parse_bytes(wrapped.encode("utf-8"), where)
    if len(root.children) != 1:
        raise MetadataError(f"{where}: expected one XML element; got {len(root.children)}")
    return root.children[0]
