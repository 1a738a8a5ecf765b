"""The README's generated figure blocks match the committed result files they come from."""

from __future__ import annotations

import subprocess
import sys

from cbt_testing import ROOT


def test_readme_figure_blocks_are_rendered_from_committed_results() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "scripts/render_readme.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
