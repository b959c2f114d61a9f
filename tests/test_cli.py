"""The `orchlab` command line, end to end on real files."""

from __future__ import annotations

import re
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
    assert out.err.endswith("broken.json: 5 errors\n")


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
        "people.yaml",
        "scenario.yaml",
    ]
    assert "wrote demo history" in out and db.exists()
    assert main(["runs", "--history", str(db)]) == 0
    listing = capsys.readouterr().out
    assert "Case_Escalation" in listing and "Loan" in listing


@pytest.fixture
def world(tmp_path: Path, capsys) -> list[str]:
    """A history with the demo people and the loan deployed; returns its --history args."""
    db = tmp_path / "h.duckdb"
    assert main(["demo", "--out", str(tmp_path / "ex")]) == 0
    args = ["--history", str(db)]
    assert main(["directory", str(tmp_path / "ex" / "people.yaml"), *args]) == 0
    assert main(["deploy", str(tmp_path / "ex" / "loan.yaml"), "--as", "olivia", *args]) == 0
    capsys.readouterr()
    return args


LOAN_INPUTS = ["--input", "application_id=007", "--input", "applicant=Kim"]
LOAN_INPUTS += ["--input", "amount=1200"]


def test_start_work_items_complete_show_round_trip(world: list[str], capsys) -> None:
    assert main(["start", "Loan", "--as", "sam", *LOAN_INPUTS, *world]) == 0
    out = capsys.readouterr().out
    assert "run R000001: Loan v1 InProgress at Intake" in out
    assert "waiting: R000001-W1 'Collect documents' for Queue Loan_Officers" in out
    assert main(["work-items", "--user", "sam", *world]) == 0
    inbox = capsys.readouterr().out
    assert inbox.startswith("sam's inbox: 1 open work item\nwork item  ")
    assert "R000001-W1  Collect documents  Loan v1" in inbox
    done = ["--value", "documents_complete=true"]
    assert main(["complete", "R000001-W1", "--user", "bob", *done, *world]) == 1
    assert "may not complete" in capsys.readouterr().err
    assert main(["complete", "R000001-W1", "--user", "sam", *done, *world]) == 0
    out = capsys.readouterr().out
    assert "completed R000001-W1 'Collect documents' as sam" in out
    assert "'Approve loan' for Queue Underwriting → uma" in out
    assert main(["complete", "R000001-W2", "--as", "uma", "--value", "approved=yes", *world]) == 0
    assert "run R000001: Loan v1 Completed" in capsys.readouterr().out
    assert main(["show", "R000001", *world]) == 0
    shown = capsys.readouterr().out
    path = "Intake → Amount_decision: Standard → Approval → Approved_check: Approved → Funding"
    assert f"path: {path} → End" in shown
    assert shown.count("\n") == 2 + 1 + 24  # status, path, header, one line per log row
    from orchlab.engine import Engine
    from orchlab.store import HistoryStore

    engine = Engine(HistoryStore(world[1]))
    # --input typed by the variables: the text id stays text ("007", not 7)
    assert engine.run("R000001").variables["application_id"] == "007"
    engine.store.close()


def test_a_run_that_ends_in_error_says_why_and_exits_1(tmp_path: Path, capsys) -> None:
    args = ["--history", str(tmp_path / "empty.duckdb")]
    loan_file = save(loan(), tmp_path / "loan.yaml")
    assert main(["deploy", str(loan_file), "--as", "system", *args]) == 0
    assert main(["start", "Loan", "--as", "system", *LOAN_INPUTS, *args]) == 1
    out = capsys.readouterr().out
    assert "run R000001: Loan v1 Error at Intake" in out
    assert "error: step 'Collect_documents': assignee queue 'Loan_Officers' is not in" in out


def test_reading_commands_refuse_a_missing_history(tmp_path: Path, capsys) -> None:
    typo = str(tmp_path / "typo.duckdb")
    for command in (
        ["runs"],
        ["work-items"],
        ["show", "R000001"],
        ["complete", "X", "--user", "a"],
        ["cancel", "R1", "--as", "a"],
        ["start", "Loan", "--as", "a"],
        ["snapshot", str(tmp_path / "c.duckdb")],
    ):
        assert main([*command, "--history", typo]) == 1, command
        assert "typo.duckdb does not exist" in capsys.readouterr().err
    assert not Path(typo).exists()


def test_demo_never_overwrites_a_history_unless_told(tmp_path: Path, capsys) -> None:
    db = tmp_path / "h.duckdb"
    assert main(["demo", "--history", str(db), "--days", "2"]) == 0
    before = db.read_bytes()
    assert main(["demo", "--history", str(db), "--days", "1"]) == 1
    assert "already exists; pass --replace" in capsys.readouterr().err
    assert db.read_bytes() == before
    assert main(["demo", "--history", str(db), "--days", "1", "--replace"]) == 0
    assert "wrote demo history" in capsys.readouterr().out


def test_admin_commands_and_their_rights(world: list[str], capsys) -> None:
    for _ in range(2):
        assert main(["start", "Loan", "--as", "sam", *LOAN_INPUTS, *world]) == 0
    capsys.readouterr()
    assert main(["cancel", "R000001", "--as", "sam", *world]) == 1
    assert "user 'sam' may not cancel runs: only admins may" in capsys.readouterr().err
    assert main(["suspend", "R000002", "--as", "olivia", *world]) == 0
    assert "R000002: Loan v1 Suspended" in capsys.readouterr().out
    assert main(["resume", "R000002", "--as", "olivia", *world]) == 0
    assert main(["reassign", "R000002-W1", "--to", "wes", "--as", "olivia", *world]) == 0
    assert "reassigned R000002-W1 'Collect documents' to User wes" in capsys.readouterr().out
    assert main(["event", "R000002", "--as", "wes", *world]) == 0
    assert main(["cancel", "R000001", "--as", "olivia", *world]) == 0
    assert "run R000001: Loan v1 Canceled" in capsys.readouterr().out
    assert main(["cancel", "R000001", "--as", "olivia", *world]) == 1
    assert "it is Canceled; closed runs stay as they are" in capsys.readouterr().err
    assert main(["runs", "--status", "Canceled", *world]) == 0
    listing = capsys.readouterr().out
    assert "R000001" in listing and "R000002" not in listing


@pytest.mark.needs_dot
def test_render_draws_a_closed_run_into_a_new_folder(world: list[str], tmp_path, capsys) -> None:
    assert main(["start", "Loan", "--as", "sam", *LOAN_INPUTS, *world]) == 0
    assert main(["cancel", "R000001", "--as", "olivia", *world]) == 0
    out = tmp_path / "new" / "folder" / "run.svg"
    assert main(["render", "--run", "R000001", "-o", str(out), *world]) == 0
    assert "Run R000001 · Canceled" in capsys.readouterr().out
    assert out.read_text().startswith("<?xml") and "Run R000001" in out.read_text()


def test_record_commands_start_record_triggered_runs(world: list[str], tmp_path, capsys) -> None:
    from orchlab.definition.examples import case_escalation

    case_file = save(case_escalation(), tmp_path / "case.yaml")
    assert main(["deploy", str(case_file), "--as", "olivia", *world]) == 0
    fields = ["--field", "Severity=Low", "--field", "Amount=2500", "--field", "Owner=dana"]
    assert main(["create-record", "Case", *fields, "--as", "dana", *world]) == 0
    out = capsys.readouterr().out
    assert "created Case record REC000001" in out and "no orchestration started" in out
    high = ["--field", "Severity=High"]
    assert main(["update-record", "REC000001", *high, "--as", "dana", *world]) == 0
    out = capsys.readouterr().out
    assert "run R000001: Case_Escalation v1 InProgress at Triage" in out


def test_console_script_is_installed() -> None:
    exe = shutil.which("orchlab", path=str(Path(sys.executable).parent))
    assert exe, "the orchlab console script is not installed in this environment"
    out = subprocess.run([exe, "--help"], capture_output=True, text=True, check=True)
    assert "validate" in out.stdout and "render" in out.stdout


def test_snapshot_copies_a_history(tmp_path: Path, capsys) -> None:
    db = tmp_path / "h.duckdb"
    assert main(["demo", "--history", str(db), "--days", "3"]) == 0
    made = int(re.search(r"demo history .*: (\d+) runs", capsys.readouterr().out).group(1))
    assert made > 5
    assert main(["snapshot", "--history", str(db), str(tmp_path / "copy.duckdb")]) == 0
    assert f"with {made} runs" in capsys.readouterr().out
    assert main(["snapshot", "--history", str(db), str(tmp_path / "copy.duckdb")]) == 1
    assert "already exists" in capsys.readouterr().err


def test_simulate_then_report(tmp_path: Path, capsys) -> None:
    loan_file = save(loan(), tmp_path / "loan.yaml")
    db = str(tmp_path / "sim.duckdb")
    args = ["--per-day", "12", "--days", "10", "--seed", "3", "--history", db]
    assert main(["simulate", str(loan_file), *args]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"simulated 10 days in {db}: ") and "runs started" in out
    html = tmp_path / "report" / "index.html"
    assert main(["report", "--history", db, "--html", str(html), "--stalled-after", "2d"]) == 0
    text = capsys.readouterr().out
    for title in ("Runs", "Stalled runs (no progress for 2d 0h)", "Throughput per week",
                  "Bottlenecks", "Backlog"):  # fmt: skip
        assert title in text
    page = html.read_text()
    assert page.count("<svg") >= 1 and "data:image/png;base64," in page
    with pytest.raises(SystemExit) as usage:  # argparse refuses it, with the usage line
        main(["report", "--history", db, "--stalled-after", "soon"])
    assert usage.value.code == 2 and "expected a duration" in capsys.readouterr().err


def test_simulate_refuses_a_bad_scenario(tmp_path: Path, capsys) -> None:
    loan_file = save(loan(), tmp_path / "loan.yaml")
    bad = tmp_path / "s.yaml"
    bad.write_text("days: many\narrivals: {Loan: {per_day: 2}}\n")
    db = tmp_path / "sim.duckdb"
    assert main(["simulate", str(loan_file), "--scenario", str(bad), "--history", str(db)]) == 1
    assert "days: expected a number; got 'many'" in capsys.readouterr().err


def test_apps_is_the_launcher_with_its_own_options(capsys) -> None:
    with pytest.raises(SystemExit) as done:
        main(["apps", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "--history" in out and "--service-port" in out
    with pytest.raises(SystemExit):
        main(["runs", "--bogus"])  # other commands keep refusing what they do not know
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err
