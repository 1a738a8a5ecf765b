"""A throwaway copy of the pipeline in a fresh git + DVC repository, and the environment the
tests run commands in."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from cbt_testing import ROOT

COPIED = ["dvc.yaml", "params.yaml", "conf", "prompts", "packages", ".dvcignore", "scripts",
          "safety", "data/import"]


def env() -> dict[str, str]:
    """os.environ with this interpreter's bin first, a git identity and DVC analytics off."""
    out = dict(os.environ)
    out["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{out.get('PATH', '')}"
    out.setdefault("GIT_AUTHOR_NAME", "cbt-tests")
    out.setdefault("GIT_AUTHOR_EMAIL", "tests@cbt.invalid")
    out.setdefault("GIT_COMMITTER_NAME", "cbt-tests")
    out.setdefault("GIT_COMMITTER_EMAIL", "tests@cbt.invalid")
    out["DVC_NO_ANALYTICS"] = "1"
    return out


def make_pipeline_repo(repo: Path) -> Path:
    """A fresh git + DVC repo at `repo` holding this project's pipeline files (no data, no
    cache), committed."""
    repo.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "tests")
    for name in COPIED:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, repo / name, ignore=ignore)
        elif src.exists():
            shutil.copy2(src, repo / name)
    run = runner(repo)
    run("git", "init", "-q")
    run("dvc", "init", "-q")
    run("dvc", "config", "hydra.enabled", "True")
    run("git", "add", "-A")
    run("git", "commit", "-qm", "pipeline")
    return repo


def runner(repo: Path) -> Callable[..., subprocess.CompletedProcess]:
    """run(*cmd, check=True) in `repo` with env(); a failure raises with its output."""

    def run(*cmd: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(cmd, cwd=repo, env=env(), capture_output=True, text=True)
        if check and proc.returncode:
            raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n"
                                 f"{proc.stdout}\n{proc.stderr}")
        return proc

    return run


def run_own_sources(repo: Path, *cmd: str, timeout: int = 3600) -> subprocess.CompletedProcess:
    """Run cmd in `repo` with the repo copy's own package sources first on PYTHONPATH; a
    failure raises with the tail of its output."""
    environment = env()
    environment["PYTHONPATH"] = os.pathsep.join(str(p) for p in sorted(repo.glob(
        "packages/*/src")))
    proc = subprocess.run(cmd, cwd=repo, env=environment, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout[-4000:]}\n" \
                                 f"{proc.stderr[-4000:]}"
    return proc


def load_script(name: str):
    """scripts/<name>.py as a module (the scripts are run as files, not installed)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
