"""Shared steps of the remote-storage tests: a repo with the committed .dvc/config, the fast
stages reproduced, checksums of what DVC caches, and a runner with chosen AWS settings."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

from cbt_testing import ROOT
from cbt_testing.dvc_stages import load_stages
from cbt_testing.repo import env as _env

FAST_STAGES = ("seeds",)  # stages quick enough to run for real in these tests
NO_AWS_FILES = {"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/cbt-tests/credentials",
                "AWS_CONFIG_FILE": "/nonexistent/cbt-tests/config",
                "AWS_EC2_METADATA_DISABLED": "true"}


def run(repo: Path, *cmd: str, aws: dict[str, str] | None = None,
        check: bool = True) -> subprocess.CompletedProcess:
    """Run cmd in repo with only the AWS settings given (none from the host's env or ~/.aws)."""
    env = {k: v for k, v in _env().items() if not k.startswith("AWS_")}
    env.update(NO_AWS_FILES)
    env.update(aws or {})
    proc = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True)
    if check and proc.returncode:
        raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n"
                             f"{proc.stdout}\n{proc.stderr}")
    return proc


def use_committed_config(repo: Path) -> None:
    """Replace the temp repo's .dvc/config by the project's committed one, and commit it."""
    shutil.copy2(ROOT / ".dvc/config", repo / ".dvc/config")
    run(repo, "git", "add", ".dvc/config")
    run(repo, "git", "commit", "-qm", "project dvc config")


def repro_fast(repo: Path) -> list[str]:
    """Reproduce the fast stages; commit dvc.lock and git-tracked outputs. Cached outs back."""
    run(repo, "dvc", "repro", *FAST_STAGES)
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "repro")
    return cached_outs(repo)


def cached_outs(repo: Path) -> list[str]:
    """Outputs of the fast stages that DVC caches and pushes (not `cache: false` metrics)."""
    stages = load_stages(repo)
    return sorted(out for name in FAST_STAGES if name in stages for out in stages[name].outs)


def checksums(repo: Path, paths: list[str]) -> dict[str, str]:
    result = {}
    for rel in paths:
        target = repo / rel
        files = sorted(p for p in target.rglob("*") if p.is_file()) if target.is_dir() else [target]
        for f in files:
            result[str(f.relative_to(repo))] = hashlib.sha256(f.read_bytes()).hexdigest()
    return result


def wipe(repo: Path, paths: list[str]) -> None:
    """Remove the DVC cache and the cached outputs, as on a machine that never ran anything."""
    shutil.rmtree(repo / ".dvc/cache", ignore_errors=True)
    for rel in paths:
        target = repo / rel
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink()
