"""Shared fixtures for the pipeline tests: a throwaway copy of the repo with real git and DVC."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cbt_testing.repo import make_pipeline_repo, runner
from cbt_testing.s3server import S3Server, seaweed_s3


@pytest.fixture
def pipeline_repo(tmp_path: Path) -> Path:
    """A fresh git + DVC repo holding this project's pipeline files (no data, no cache)."""
    return make_pipeline_repo(tmp_path / "repo")


@pytest.fixture
def run_in(pipeline_repo: Path) -> Callable[..., subprocess.CompletedProcess]:
    return runner(pipeline_repo)


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A real S3 server (SeaweedFS `weed mini`) on loopback with its own keys and a bucket."""
    with seaweed_s3(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server
