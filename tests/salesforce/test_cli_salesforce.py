"""`orchlab import-flow`, `import-history`, and metadata files given to validate/render/simulate."""

from __future__ import annotations

from pathlib import Path

import pytest

import orchlab.salesforce as sf
from orchlab.cli import main
from orchlab.definition.serialize import load
from orchlab.store import HistoryStore
from tests.salesforce.conftest import corpus

APPROVALS = corpus("Orchestration_Parallel_Approvals")


def test_import_flow_writes_yaml_and_lists_what_was_kept_aside(tmp_path: Path, capsys) -> None:
    out = tmp_path / "approvals.yaml"
    assert main(["import-flow", str(APPROVALS), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"wrote {out}: Orchestration_Parallel_Approvals v1" in printed
    assert "kept aside or read with a caveat" in printed and "<locationX>" in printed
    assert load(out) == sf.load(APPROVALS).orchestration  # the YAML is the same definition


def test_import_flow_names_the_file_of_a_broken_flow(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "Broken.flow-meta.xml"
    bad.write_text("<Flow><processType>Orchestrator", encoding="utf-8")
    assert main(["import-flow", str(bad), "-o", str(tmp_path / "x.yaml")]) == 1
    assert "Broken.flow-meta.xml" in capsys.readouterr().err
    assert not (tmp_path / "x.yaml").exists()


def test_validate_render_and_simulate_take_metadata_directly(tmp_path: Path, capsys) -> None:
    assert main(["validate", str(APPROVALS)]) == 0
    assert "Orchestration_Parallel_Approvals v1 is valid" in capsys.readouterr().out
    svg = tmp_path / "a.svg"
    assert main(["render", str(APPROVALS), "-o", str(svg)]) == 0
    assert svg.read_text(encoding="utf-8").lstrip().startswith(("<?xml", "<svg"))
    db = tmp_path / "sim.duckdb"
    args = ["simulate", str(APPROVALS), "--days", "3", "--per-day", "4", "--history", str(db)]
    assert main(args) == 0
    with HistoryStore(db) as store:
        assert store.execute("SELECT count(*) FROM runs")[0][0] > 0


@pytest.fixture
def exports(tmp_path: Path) -> Path:
    from orchlab.definition.examples import loan
    from orchlab.simulate import scenario_for, simulate

    sim = simulate([loan()], scenario_for([loan()], per_day=4, days=3))
    sf.sample_exports(sim.store, tmp_path / "out", formats=("csv",))
    return tmp_path / "out" / "csv"


def test_import_history_prints_the_report_and_is_idempotent(exports, tmp_path, capsys) -> None:
    db = tmp_path / "org.duckdb"
    assert main(["import-history", str(exports), "--history", str(db)]) == 0
    first = capsys.readouterr().out
    assert "rejected 0" in first and "FlowOrchestrationInstance:" in first
    assert main(["import-history", str(exports), "--history", str(db)]) == 0
    assert "added 0, updated 0, rejected 0; 0 log rows written" in capsys.readouterr().out


def test_import_history_fails_when_nothing_could_be_read(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    db = str(tmp_path / "h.duckdb")
    assert main(["import-history", str(folder), "--history", db]) == 1
    assert "no .csv or .json export files" in capsys.readouterr().err
    (folder / "FlowOrchestrationInstance.csv").write_text(
        "Id,Status,CreatedDate\nnope,Running,yesterday\n", encoding="utf-8"
    )
    assert main(["import-history", str(folder), "--history", db]) == 1
    assert "rejected 1" in capsys.readouterr().out


# Handle_User_Deactivation_auto has a real error (an entry condition names a step by a stale
# id: test_corpus lists it), so it cannot run until repaired; every other file simulates.
_SIMULATES = [
    "Recruiting_Orchestration_v6",  # assignees from $Record.Owner:User.Username, step outputs
    "AIM_IncidentOrchestration",
    "Orchestration_Case",  # a username written with a tab after it
    "Orchestration_Parallel_Approvals",
    "Test_Orch3",  # an update trigger without conditions
    "Test_Orchestration",
    "sampleautoorch",
]


@pytest.mark.parametrize("name", _SIMULATES)
def test_every_valid_corpus_file_simulates_with_placeholder_flows(
    name: str, tmp_path: Path, capsys
) -> None:
    history = tmp_path / "sim.duckdb"
    args = ["simulate", str(corpus(name)), "--days", "5", "--per-day", "6"]
    assert main([*args, "--history", str(history)]) == 0
    printed = capsys.readouterr().out
    assert " 0 errors)" in printed, printed
    with HistoryStore(history, read_only=True) as store:
        ((runs, completed),) = store.execute(
            "SELECT count(*), count(*) FILTER (WHERE status = 'Completed') FROM runs"
        )
    assert runs >= 10 and completed >= 1, (runs, completed)
