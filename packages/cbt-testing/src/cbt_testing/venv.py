"""Fresh virtual environments holding only what a user would install, for install tests.

uv installs from its cache; llama-cpp-python, which compiles from source, comes from the
wheel uv already built for the workspace from the same locked sdist (with the workspace's
build flags), so a test never compiles it a second time."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

from cbt_testing import ROOT


def uv() -> str:
    """`uv run` names itself in $UV; tasks.py installs it into .tools/ otherwise."""
    return os.environ.get("UV") or shutil.which("uv") or str(ROOT / ".tools/bin/uv")


def clean_env() -> dict[str, str]:
    """This environment without the workspace's own virtual environment."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


def built_wheel(dist: str, version: str) -> Path | None:
    """A wheel of dist==version that uv built from source into its cache, if any."""
    cache = subprocess.run([uv(), "cache", "dir"], capture_output=True, text=True,
                           check=True).stdout.strip()
    stem = dist.replace("-", "_")
    found = sorted(glob.glob(f"{cache}/sdists-v*/pypi/{dist}/{version}/*/*/"
                             f"{stem}-{version}-*.whl"), key=os.path.getmtime)
    return Path(found[-1]) if found else None


def locked_requirements(package: str, extra: str, out: Path) -> Path:
    """The locked versions of what `package[extra]` needs (not the workspace's own members),
    with any source-built distribution pointed at uv's built wheel."""
    text = subprocess.run([uv(), "export", "--frozen", "--package", package, "--extra", extra,
                           "--no-dev", "--no-emit-workspace", "--no-hashes", "-q"],
                          cwd=ROOT, capture_output=True, text=True, check=True).stdout
    lines = []
    for line in text.splitlines():
        name, _, version = line.split(";")[0].strip().partition("==")
        wheel = built_wheel(name, version) if name == "llama-cpp-python" else None
        if name == "llama-cpp-python" and wheel is None:
            raise RuntimeError(f"no built llama-cpp-python {version} wheel in uv's cache: run "
                               "`python3 tasks.py sync` with the llama extra first")
        lines.append(f"{name} @ {wheel.as_uri()}" if wheel else line)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def fresh_env(path: Path, *installs: str) -> Path:
    """A new virtual environment at `path` with `installs` (pip arguments); its python."""
    subprocess.run([uv(), "venv", "-q", "--python", sys.executable, str(path)], check=True)
    python = path / "bin" / "python"
    subprocess.run([uv(), "pip", "install", "-q", "--python", str(python), *installs],
                   check=True, cwd=ROOT)
    return python
