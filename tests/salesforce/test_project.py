"""A whole SFDX project: orchestrations read, other flows skipped with a note, bad files listed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from orchlab.definition.validate import validate
from orchlab.definition.values import ValueType
from orchlab.errors import MetadataError
from orchlab.salesforce import Placeholder, load, load_project
from tests.salesforce.conftest import corpus

SCREEN_FLOW = """<?xml version="1.0" encoding="UTF-8"?>
<Flow xmlns="http://soap.sforce.com/2006/04/metadata">
    <apiVersion>56.0</apiVersion>
    <label>AIM Get Incident Status</label>
    <processType>AutoLaunchedFlow</processType>
    <status>Active</status>
    <variables>
        <name>incidentId</name><dataType>String</dataType><isCollection>false</isCollection>
        <isInput>true</isInput><isOutput>false</isOutput>
    </variables>
    <variables>
        <name>incidentStatus</name><dataType>String</dataType><isCollection>false</isCollection>
        <isInput>false</isInput><isOutput>true</isOutput>
    </variables>
</Flow>
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    flows = root / "force-app" / "main" / "default" / "flows"
    flows.mkdir(parents=True)
    for short in ("AIM_IncidentOrchestration", "Test_Orch3"):
        shutil.copy(corpus(short), flows / f"{short}.flow-meta.xml")
    (flows / "AIM_GetIncidentStatus.flow-meta.xml").write_text(SCREEN_FLOW)
    (flows / "Broken.flow-meta.xml").write_text("<Flow><processType>Orchestrator</Flow>")
    other = root / "other-package" / "flows"
    other.mkdir(parents=True)
    shutil.copy(corpus("sampleautoorch"), other / "sampleautoorch.flow-meta.xml")
    hidden = root / ".sfdx" / "flows"
    hidden.mkdir(parents=True)
    shutil.copy(corpus("Test_Orchestration"), hidden / "Cached.flow-meta.xml")
    return root


def test_every_orchestration_of_the_project_is_read(project: Path) -> None:
    found = load_project(project)
    assert sorted(found.orchestrations) == [
        "AIM_IncidentOrchestration",
        "Test_Orch3",
        "sampleautoorch",
    ]
    alone = load(corpus("Test_Orch3"), name="Test_Orch3")
    assert found.orchestrations["Test_Orch3"].orchestration == alone.orchestration
    assert [(p.name, why) for p, why in found.skipped] == [
        (
            "AIM_GetIncidentStatus.flow-meta.xml",
            "not an orchestration: processType AutoLaunchedFlow",
        )
    ]
    ((bad, error),) = found.failed
    assert bad.name == "Broken.flow-meta.xml" and isinstance(error, MetadataError)
    assert error.line == 1 and "mismatched tag" in str(error)


def test_a_flow_file_in_the_project_types_its_placeholder(project: Path) -> None:
    found = load_project(project)
    spec = found.registry.get("AIM_GetIncidentStatus")
    assert dict(spec.inputs) == {"incidentId": ValueType.TEXT}
    assert dict(spec.outputs) == {"incidentStatus": ValueType.TEXT}
    assert isinstance(spec.fn, Placeholder) and spec.fn() == {"incidentStatus": None}
    orch = found.orchestrations["AIM_IncidentOrchestration"].orchestration
    assert [p for p in validate(orch, found.registry) if p.severity == "error"] == []
    assert "AIM_UpdateMilestone" in found.registry  # the others stay untyped placeholders


def test_two_files_with_one_name_and_a_missing_folder(project: Path, tmp_path: Path) -> None:
    again = project / "third" / "flows"
    again.mkdir(parents=True)
    shutil.copy(corpus("Test_Orch3"), again / "Test_Orch3.flow-meta.xml")
    found = load_project(project)
    assert [str(e.reason) for _, e in found.failed if "second" in str(e)] == [
        "a second orchestration named 'Test_Orch3'; the first one read is kept"
    ]
    with pytest.raises(MetadataError, match="not a folder"):
        load_project(tmp_path / "missing")


def test_a_big_flow_of_another_kind_is_skipped_unparsed(project: Path) -> None:
    flows = project / "force-app" / "main" / "default" / "flows"
    huge = SCREEN_FLOW.replace(
        "<status>", "<description>" + "z" * (5 << 20) + "</description><status>"
    )
    (flows / "Huge_Screen_Flow.flow-meta.xml").write_text(huge.replace("AutoLaunchedFlow", "Flow"))
    found = load_project(project)
    notes = dict((p.name, why) for p, why in found.skipped)
    assert notes["Huge_Screen_Flow.flow-meta.xml"].startswith(
        "not an orchestration: processType Flow ("
    )
    assert [p.name for p, _ in found.failed] == ["Broken.flow-meta.xml"]
