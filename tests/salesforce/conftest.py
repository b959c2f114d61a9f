"""The Salesforce corpus (real files, see corpus/SOURCES.md) and hand-written fixtures."""

from __future__ import annotations

from pathlib import Path

CORPUS = Path(__file__).with_name("corpus")
FIXTURES = Path(__file__).with_name("fixtures")
CORPUS_FILES = sorted(CORPUS.glob("*.flow-meta.xml"))
SHORT_NAMES = [p.name.removesuffix(".flow-meta.xml").rsplit("__", 1)[1] for p in CORPUS_FILES]


def corpus(short: str) -> Path:
    """The corpus file whose API name is `short`, e.g. "Test_Orch3"."""
    (found,) = [p for p in CORPUS_FILES if p.name.endswith(f"__{short}.flow-meta.xml")]
    return found


SKELETON = """<?xml version="1.0" encoding="UTF-8"?>
<Flow xmlns="http://soap.sforce.com/2006/04/metadata">
    <apiVersion>62.0</apiVersion>
    <label>Demo</label>
    {body}
    <processType>{process}</processType>
    <start>
        <locationX>0</locationX>
        <locationY>0</locationY>
        <connector><targetReference>{first}</targetReference></connector>
    </start>
    <status>Active</status>
</Flow>
"""
STAGE = """<orchestratedStages>
        <name>{name}</name><label>{name}</label><locationX>0</locationX><locationY>0</locationY>
        {extra}
        <exitConditionLogic>and</exitConditionLogic>
        {steps}
    </orchestratedStages>"""


def flow_xml(
    body: str | None = None, *, process: str = "Orchestrator", first: str = "Review"
) -> str:
    """A small orchestration file; `body` replaces its one stage "Review"."""
    if body is None:
        body = STAGE.format(name="Review", extra="", steps="")
    return SKELETON.format(body=body, process=process, first=first)
