"""Shared fixtures for the pipeline tests: a throwaway copy of the repo with real git and DVC."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))  # helper modules next to the tests
from s3server import S3Server, seaweed_s3  # noqa: E402

COPIED = ["dvc.yaml", "params.yaml", "conf", "prompts", "packages", ".dvcignore", "scripts",
          "safety", "data/import"]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("GIT_AUTHOR_NAME", "cbt-tests")
    env.setdefault("GIT_AUTHOR_EMAIL", "tests@cbt.invalid")
    env.setdefault("GIT_COMMITTER_NAME", "cbt-tests")
    env.setdefault("GIT_COMMITTER_EMAIL", "tests@cbt.invalid")
    env["DVC_NO_ANALYTICS"] = "1"
    return env


@pytest.fixture
def pipeline_repo(tmp_path: Path) -> Path:
    """A fresh git + DVC repo holding this project's pipeline files (no data, no cache)."""
    return make_pipeline_repo(tmp_path / "repo")


def make_pipeline_repo(repo: Path) -> Path:
    """Build the repo of `pipeline_repo` at `repo` (also for module-scoped fixtures)."""
    repo.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "tests")
    for name in COPIED:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, repo / name, ignore=ignore)
        elif src.exists():
            shutil.copy2(src, repo / name)
    run = _runner(repo)
    run("git", "init", "-q")
    run("dvc", "init", "-q")
    run("dvc", "config", "hydra.enabled", "True")
    run("git", "add", "-A")
    run("git", "commit", "-qm", "pipeline")
    return repo


def _runner(repo: Path) -> Callable[..., subprocess.CompletedProcess]:
    def run(*cmd: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(cmd, cwd=repo, env=_env(), capture_output=True, text=True)
        if check and proc.returncode:
            raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n"
                                 f"{proc.stdout}\n{proc.stderr}")
        return proc

    return run


@pytest.fixture
def run_in(pipeline_repo: Path) -> Callable[..., subprocess.CompletedProcess]:
    return _runner(pipeline_repo)


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A real S3 server (SeaweedFS `weed mini`) on loopback with its own keys and a bucket."""
    with seaweed_s3(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server
