"""What each side loads: the service no widget library, the Work Guide's and monitor's kernels
no DuckDB or pandas (they talk to the service; pandas alone takes seconds to import)."""

from __future__ import annotations

import subprocess
import sys


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(out.stdout.split())


def test_the_service_imports_no_widget_library() -> None:
    loaded = _modules_after("import orchlab.service.api, orchlab.service.server")
    assert not {"ipywidgets", "IPython"} & loaded


def test_the_work_guide_and_monitor_kernels_need_no_database() -> None:
    loaded = _modules_after(
        "import orchlab.ui, orchlab.ui.views.work_guide, orchlab.ui.views.monitor, orchlab.service"
    )
    assert "ipywidgets" in loaded
    assert not {"duckdb", "pandas", "pyarrow", "orchlab.engine.engine"} & loaded
