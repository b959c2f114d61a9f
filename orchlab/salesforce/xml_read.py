"""Reading metadata XML safely into a small tree that knows the line of every element.

defusedxml's expat reader refuses any DTD (so no entity expansion and no external entity can
ever read a local file or the network), and a size cap, a depth cap and an element cap are
checked before and while parsing, so a hostile file is refused quickly instead of hanging.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax import SAXParseException
from xml.sax.handler import (
    ContentHandler,
    LexicalHandler,
    feature_namespaces,
    property_lexical_handler,
)
from xml.sax.xmlreader import AttributesNSImpl, Locator

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden
from defusedxml.expatreader import DefusedExpatParser

from orchlab.errors import MetadataError

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_ELEMENTS",
    "METADATA_NS",
    "XSI_NS",
    "XNode",
    "parse_bytes",
    "read_file",
]

METADATA_NS = "http://soap.sforce.com/2006/04/metadata"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
# The largest orchestration seen is ~30 KB and ~530 elements; these caps leave ample room
# while keeping the time to refuse anything bigger well under a second.
MAX_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 40  # real metadata nests about 7 deep
MAX_ELEMENTS = 20_000


@dataclass(eq=False, slots=True)
class XNode:
    """One XML element: local tag, attributes (``xsi:nil`` style names), text, children, line."""

    tag: str
    line: int = 0
    text: str = ""
    children: list[XNode] = field(default_factory=list)
    attrs: dict[str, str] = field(default_factory=dict)
    comments: list[int] = field(default_factory=list)  # the root's: lines of XML comments

    def first(self, tag: str) -> XNode | None:
        return next((c for c in self.children if c.tag == tag), None)

    def all(self, tag: str) -> list[XNode]:
        return [c for c in self.children if c.tag == tag]

    def value(self, tag: str) -> str | None:
        """The text of the first child `tag`, or None if there is none."""
        child = self.first(tag)
        return None if child is None else child.text

    def walk(self) -> Iterator[XNode]:
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))

    @property
    def label(self) -> str:
        """How messages name the element: ``<orchestratedStages> 'Review'``."""
        name = self.value("name")
        return f"<{self.tag}> {name!r}" if name else f"<{self.tag}>"


class _Builder(ContentHandler, LexicalHandler):
    def __init__(self, source: str) -> None:
        super().__init__()
        self.source = source
        self.locator: Locator | None = None
        self.stack: list[XNode] = []
        self.texts: list[list[str]] = []
        self.root: XNode | None = None
        self.count = 0
        self.comments: list[int] = []

    def line(self) -> int:
        return self.locator.getLineNumber() if self.locator is not None else 0

    def fail(self, message: str, element: str | None = None) -> MetadataError:
        return MetadataError(message, path=self.source, line=self.line(), element=element)

    def setDocumentLocator(self, locator: Locator) -> None:
        self.locator = locator

    def startElementNS(
        self, name: tuple[str | None, str], qname: str | None, attrs: AttributesNSImpl
    ) -> None:
        uri, local = name
        self.count += 1
        if self.count > MAX_ELEMENTS:
            raise self.fail(f"more than {MAX_ELEMENTS} elements; this is not a flow", f"<{local}>")
        if len(self.stack) >= MAX_DEPTH:
            raise self.fail(f"elements nest more than {MAX_DEPTH} deep", f"<{local}>")
        if not self.stack and (uri, local) not in ((None, "Flow"), (METADATA_NS, "Flow")):
            shown = f"{{{uri}}}{local}" if uri else local
            raise self.fail(
                f"not Salesforce flow metadata: the root element is <{shown}>; expected "
                f'<Flow xmlns="{METADATA_NS}">',
                f"<{local}>",
            )
        if uri not in (None, METADATA_NS):
            raise self.fail(
                f"element from namespace {uri!r}; expected Salesforce metadata ({METADATA_NS})",
                f"<{local}>",
            )
        node = XNode(local, self.line())
        for (a_uri, a_local), value in attrs.items():
            prefix = "xsi:" if a_uri == XSI_NS else "" if a_uri is None else f"{{{a_uri}}}"
            node.attrs[prefix + a_local] = value
        if self.stack:
            self.stack[-1].children.append(node)
        else:
            self.root = node
        self.stack.append(node)
        self.texts.append([])

    def endElementNS(self, name: tuple[str | None, str], qname: str | None) -> None:
        node = self.stack.pop()
        text = "".join(self.texts.pop())
        if node.children:
            if text.strip():
                raise self.fail(
                    f"text {text.strip()[:40]!r} beside child elements; expected one or the other",
                    node.label,
                )
        else:
            node.text = text

    def characters(self, content: str) -> None:
        if self.texts:
            self.texts[-1].append(content)

    def comment(self, content: str) -> None:  # comments are not kept: the reader says so
        self.comments.append(self.line())


def parse_bytes(data: bytes, source: str = "<metadata>") -> XNode:
    """The root element of an XML document; refuses DTDs, entities and oversized input.

    Raises:
        MetadataError: malformed or hostile XML, naming `source` and the line.
    """
    if len(data) > MAX_BYTES:
        raise MetadataError(
            f"{len(data):,} bytes is more than the {MAX_BYTES:,} a flow may have", path=source
        )
    tags = data.count(b"<")  # a C-speed bound on the elements: refuse a flood before parsing
    if tags > 2 * MAX_ELEMENTS + 2:
        raise MetadataError(
            f"{tags:,} tags, more than a flow's {MAX_ELEMENTS:,} elements can have", path=source
        )
    builder = _Builder(source)
    parser = DefusedExpatParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    parser.setFeature(feature_namespaces, True)
    parser.setContentHandler(builder)
    parser.setProperty(property_lexical_handler, builder)
    try:
        parser.parse(io.BytesIO(data))
    except SAXParseException as error:
        raise MetadataError(
            f"not well-formed XML: {error.getMessage()} (column {error.getColumnNumber() + 1})",
            path=source,
            line=error.getLineNumber(),
        ) from None
    except DTDForbidden:
        raise builder.fail(
            "a document type declaration (DOCTYPE); metadata files have none, and orchlab "
            "refuses them so no entity can expand or read a file",
            "<!DOCTYPE>",
        ) from None
    except EntitiesForbidden as error:
        raise builder.fail(f"an entity declaration ({error.name}); refused", "<!ENTITY>") from None
    except DefusedXmlException as error:
        raise builder.fail(f"refused: {error}") from None
    if builder.root is None:  # pragma: no cover - expat reports an empty document itself
        raise MetadataError("no root element", path=source)
    builder.root.comments = builder.comments
    return builder.root


def read_file(path: str | os.PathLike[str]) -> XNode:
    """Read and parse one file, refusing a big one before reading it."""
    source = Path(path)
    try:
        size = source.stat().st_size
        if not source.is_file():
            raise MetadataError(
                "not a regular file; expected a .flow-meta.xml file", path=str(path)
            )
        if size > MAX_BYTES:
            raise MetadataError(
                f"the file has {size:,} bytes, more than the {MAX_BYTES:,} a flow may have",
                path=str(path),
            )
        with open(source, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)  # the file may have grown since stat
    except OSError as error:
        raise MetadataError(f"cannot read the file: {error.strerror}", path=str(path)) from None
    return parse_bytes(data, str(path))
