"""The README's examples run as written: the Python tour and the command-line walk-through."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
BIN = Path(sys.executable).parent


def test_readme_example_runs(tmp_path: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) >= 2
    script = tmp_path / "example.py"
    # The last expression of each block is what a notebook would show: print it here.
    script.write_text("\n".join(blocks) + "\nprint(engine.store.sql('SELECT name, status FROM "
                      "stage_runs'))\n")  # fmt: skip
    out = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert "('R000001',)" in out.stdout
    assert "Triage" in out.stdout and "Completed" in out.stdout


def _walkthrough() -> list[str]:
    text = README.read_text()
    block = re.search(r"<!-- walkthrough -->\n```bash\n(.*?)```", text, re.S)
    assert block, "the README has no walk-through block"
    lines = [line.split("  #")[0].strip() for line in block.group(1).splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def test_readme_walkthrough_runs_in_a_fresh_folder(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("ORCHLAB_HISTORY", None)
    outputs = []
    for command in _walkthrough():
        done = subprocess.run(
            shlex.split(command), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
        assert not done.stderr, f"{command}: {done.stderr}"
        outputs.append(done.stdout)
    text = "\n".join(outputs)
    assert "saved examples/people.yaml: 11 users, 2 groups, 10 queues" in text
    assert "waiting: R000001-W1 'Collect documents' for Queue Loan_Officers" in text
    assert "run R000001: Loan v1 Completed" in text
    assert "path: Intake → Amount_decision: Standard → Approval" in text
    assert "run R000002: Loan v1 Canceled" in text
    svg = tmp_path / "out" / "loan-run.svg"
    assert svg.read_text().startswith("<?xml") and "Run R000001" in svg.read_text()
    listing = outputs[-1].splitlines()
    assert listing[0].split() == ["run", "orchestration", "status", "stage", "started", "ended"]
    assert [line.split()[3] for line in listing[1:]] == ["Completed", "Canceled"]
