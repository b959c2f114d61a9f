"""The README's Python example runs as written (in a fresh interpreter, in a temp folder)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


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
    assert "Triage" in out.stdout and "Completed" in out.stdout
