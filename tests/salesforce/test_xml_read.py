"""Hostile and malformed XML is refused fast, with the file, line and element, reading nothing."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from orchlab.errors import MetadataError, OrchlabError
from orchlab.salesforce import load, loads
from orchlab.salesforce.xml_read import MAX_BYTES, MAX_DEPTH, MAX_ELEMENTS, parse_bytes, read_file
from tests.salesforce.conftest import CORPUS_FILES, flow_xml

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Flow xmlns="http://soap.sforce.com/2006/04/metadata"><label>&lol9;</label></Flow>
"""


def _refused(data: bytes | str, name: str = "x.flow-meta.xml") -> MetadataError:
    started = time.perf_counter()
    with pytest.raises(MetadataError) as caught:
        loads(data, "x", source=name)
    assert time.perf_counter() - started < 10.0  # never hangs (its speed is in bench/)
    return caught.value


def test_entity_expansion_is_refused_at_the_doctype() -> None:
    error = _refused(BILLION_LAUGHS)
    assert (error.path, error.line, error.element) == ("x.flow-meta.xml", 2, "<!DOCTYPE>")
    assert "DOCTYPE" in str(error) and isinstance(error, OrchlabError | ValueError)


def test_an_external_entity_never_reads_the_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    for decl in (f'SYSTEM "file://{secret}"', f'PUBLIC "-//x//y" "file://{secret}"'):
        doctype = f"<!DOCTYPE Flow [<!ENTITY x {decl}>]>"
        xml = f'<?xml version="1.0"?>\n{doctype}<Flow><label>&x;</label></Flow>'
        error = _refused(xml)
        assert "TOP-SECRET" not in str(error) and error.line == 2


def test_an_external_dtd_and_a_parameter_entity_are_refused(tmp_path: Path) -> None:
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY leak SYSTEM "file:///etc/hostname">')
    for doctype in (
        f'<!DOCTYPE Flow SYSTEM "file://{dtd}">',
        f'<!DOCTYPE Flow [<!ENTITY % p SYSTEM "file://{dtd}"> %p;]>',
    ):
        assert _refused(f"{doctype}<Flow/>").element == "<!DOCTYPE>"


def test_an_undeclared_entity_is_malformed_xml_with_its_line() -> None:
    error = _refused("<Flow>\n<label>&nbsp;</label></Flow>")
    assert error.line == 2 and "undefined entity" in str(error)


def test_a_50_mb_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "Big.flow-meta.xml"
    with open(big, "w") as out:  # a real 50 MB of plausible content, not a sparse file
        out.write('<Flow xmlns="http://soap.sforce.com/2006/04/metadata"><description>')
        chunk = "x" * (1 << 20)
        for _ in range(50):
            out.write(chunk)
        out.write("</description></Flow>")
    started = time.perf_counter()
    with pytest.raises(MetadataError, match="more than the") as caught:
        load(big)
    assert time.perf_counter() - started < 5.0  # a hang guard; the 0.2 ms it takes is in bench
    assert caught.value.path == str(big)


def test_oversized_bytes_are_refused_too() -> None:
    assert "bytes is more than" in str(_refused(b" " * (MAX_BYTES + 1)))


def test_deep_nesting_is_refused_with_the_line() -> None:
    depth = MAX_DEPTH + 5
    xml = (
        "<Flow>"
        + "".join(f"\n<a{i}>" for i in range(depth))
        + "".join(f"</a{i}>" for i in reversed(range(depth)))
        + "</Flow>"
    )
    error = _refused(xml)
    assert "nest more than" in str(error) and error.line == MAX_DEPTH + 1


def test_malformed_xml_names_line_and_column() -> None:
    error = _refused("<Flow>\n  <label>x</lable>\n</Flow>")
    assert error.line == 2 and "mismatched tag" in str(error) and "column" in str(error)


@pytest.mark.parametrize(
    ("xml", "expected"),
    [
        ("<html><body/></html>", "the root element is <html>"),
        ('<Flow xmlns="urn:not-salesforce"/>', "the root element is <{urn:not-salesforce}Flow>"),
        ('<CustomObject xmlns="http://soap.sforce.com/2006/04/metadata"/>', "<CustomObject>"),
        ("", "no element found"),
        ("just text", "syntax error"),
    ],
)
def test_foreign_documents_are_not_flows(xml: str, expected: str) -> None:
    assert expected in str(_refused(xml))


def test_another_process_type_is_refused_naming_it() -> None:
    error = _refused(flow_xml(process="AutoLaunchedFlow"))
    assert "processType 'AutoLaunchedFlow' is not an orchestration" in str(error)
    assert error.element == "<processType>" and error.line == 11


def test_a_flow_without_process_type_is_refused() -> None:
    xml = '<Flow xmlns="http://soap.sforce.com/2006/04/metadata"><label>x</label></Flow>'
    assert "no <processType>" in str(_refused(xml))


def test_text_beside_elements_is_refused() -> None:
    xml = flow_xml().replace("<label>Demo</label>", "<label>Demo<b>x</b></label>")
    assert "beside child elements" in str(_refused(xml))


def test_a_folder_and_a_missing_file_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(MetadataError, match="not a regular file"):
        read_file(tmp_path)
    with pytest.raises(MetadataError, match="cannot read the file"):
        read_file(tmp_path / "nope.flow-meta.xml")


def test_every_element_knows_its_line() -> None:
    root = read_file(CORPUS_FILES[0])
    lines = [n.line for n in root.walk()]
    assert lines == sorted(lines) and lines[0] == 2 and len(set(lines)) > 100


def test_parse_keeps_leaf_text_exactly() -> None:
    root = parse_bytes(b"<Flow><a>  two\tspaces </a><b>x &amp; &lt;y&gt;</b><c/></Flow>")
    assert [c.text for c in root.children] == ["  two\tspaces ", "x & <y>", ""]


@pytest.mark.parametrize("unit", [b"<a/>", b"<a>t</a>\n", b"<!-- -->"])
def test_a_flood_of_elements_is_refused_fast(unit: bytes) -> None:
    flood = b"<Flow>" + unit * ((MAX_BYTES - 20) // len(unit)) + b"</Flow>"
    assert "tags, more than" in str(_refused(flood))


def test_just_under_the_element_cap_is_refused_while_parsing() -> None:
    flood = b"<Flow>" + b"<a/>" * (MAX_ELEMENTS + 1) + b"</Flow>"
    assert "more than 20000 elements" in str(_refused(flood))
