"""The `orchlab` command line, end to end on real files."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from orchlab.cli import main
from orchlab.definition.examples import case_escalation, loan
from orchlab.definition.model import Connector
from orchlab.definition.serialize import save


@pytest.fixture
def loan_yaml(tmp_path: Path) -> Path:
    return save(loan(), tmp_path / "loan.yaml")


def test_validate_accepts_a_valid_file(loan_yaml: Path, capsys) -> None:
    assert main(["validate", str(loan_yaml)]) == 0
    assert "Loan v1 is valid" in capsys.readouterr().out


def test_validate_lists_problems_and_exits_1(tmp_path: Path, capsys) -> None:
    broken = case_escalation()
    triage = broken.element("Triage")
    broken = replace(
        broken,
        elements=tuple(
            replace(e, next=Connector("Nowhere", goto=True)) if e is triage else e
            for e in broken.elements
        ),
    )
    path = save(broken, tmp_path / "broken.json")
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr()
    assert "stage 'Triage'" in out.out and "Nowhere" in out.out
    assert "error(s)" in out.err


def test_validate_reports_unreadable_files(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: X\nelements: [\n")
    assert main(["validate", str(bad)]) == 1
    assert "line" in capsys.readouterr().err


@pytest.mark.needs_dot
@pytest.mark.parametrize(
    ("suffix", "magic"), [(".svg", b"<?xml"), (".png", b"\x89PNG"), (".pdf", b"%PDF")]
)
def test_render_writes_each_format(
    loan_yaml: Path, tmp_path: Path, suffix: str, magic: bytes
) -> None:
    out = tmp_path / f"loan{suffix}"
    assert main(["render", str(loan_yaml), "-o", str(out)]) == 0
    assert out.read_bytes().startswith(magic)


def test_demo_builds_examples_and_a_history(tmp_path: Path, capsys) -> None:
    db = tmp_path / "demo.duckdb"
    assert (
        main(
            [
                "demo",
                "--out",
                str(tmp_path / "yaml"),
                "--history",
                str(db),
                "--runs",
                "3",
                "--days",
                "5",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert out.count("built ") == 4 and "0 problems" in out
    assert sorted(p.name for p in (tmp_path / "yaml").iterdir()) == [
        "case_escalation.yaml",
        "customer_qa_survey.yaml",
        "employee_onboarding.yaml",
        "loan.yaml",
    ]
    assert "wrote demo history" in out and db.exists()
    assert main(["runs", "--history", str(db)]) == 0
    listing = capsys.readouterr().out
    assert "Case_Escalation" in listing and "Loan" in listing


def test_run_work_items_complete_round_trip(loan_yaml: Path, tmp_path: Path, capsys) -> None:
    from orchlab.engine import Engine
    from orchlab.simulate.demo import setup_directory
    from orchlab.store import HistoryStore

    db = tmp_path / "h.duckdb"
    engine = Engine(HistoryStore(db))
    setup_directory(engine)
    engine.store.close()
    args = ["--history", str(db)]
    assert (
        main(
            [
                "run",
                str(loan_yaml),
                *args,
                "--input",
                "application_id=A9",
                "--input",
                "applicant=Kim",
                "--input",
                "amount=1200",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "run R000001: Loan v1 InProgress" in out and "Collect documents" in out
    assert main(["work-items", "--user", "sam", *args]) == 0
    assert "R000001-W1" in capsys.readouterr().out
    assert (
        main(
            ["complete", "R000001-W1", "--user", "bob", *args, "--value", "documents_complete=true"]
        )
        == 1
    )
    assert "may not complete" in capsys.readouterr().err
    assert (
        main(
            ["complete", "R000001-W1", "--user", "sam", *args, "--value", "documents_complete=true"]
        )
        == 0
    )
    assert "completed R000001-W1; run R000001 is InProgress" in capsys.readouterr().out
    assert main(["work-items", "--user", "uma", *args]) == 0
    assert "Approve loan" in capsys.readouterr().out


def test_console_script_is_installed() -> None:
    exe = shutil.which("orchlab", path=str(Path(sys.executable).parent))
    assert exe, "the orchlab console script is not installed in this environment"
    out = subprocess.run([exe, "--help"], capture_output=True, text=True, check=True)
    assert "validate" in out.stdout and "render" in out.stdout


def test_snapshot_copies_a_history(tmp_path: Path, capsys) -> None:
    db = tmp_path / "h.duckdb"
    assert main(["demo", "--history", str(db), "--runs", "2", "--days", "3"]) == 0
    capsys.readouterr()
    assert main(["snapshot", "--history", str(db), str(tmp_path / "copy.duckdb")]) == 0
    assert "with 8 runs" in capsys.readouterr().out
    assert main(["snapshot", "--history", str(db), str(tmp_path / "copy.duckdb")]) == 1
    assert "already exists" in capsys.readouterr().err
