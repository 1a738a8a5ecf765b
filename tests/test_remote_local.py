"""The committed default remote: a folder next to the repo, no cloud account, no credentials."""

from __future__ import annotations

import configparser
import subprocess
from pathlib import Path

import pytest

from cbt_testing import ROOT
from cbt_testing.remote_cycle import FAST_STAGES, checksums, repro_fast, run, use_committed_config


def _config() -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(ROOT / ".dvc/config")
    return parser


def test_committed_config_has_a_local_default_and_an_s3_example_without_secrets() -> None:
    config = _config()
    assert config["core"]["remote"] == "local"
    assert config["'remote \"local\"'"]["url"] == "../../cbt-dvc-storage"
    s3 = config["'remote \"s3\"'"]
    assert s3["url"].startswith("s3://") and s3["endpointurl"].startswith("http")
    for section in config.sections():
        for key in config[section]:
            assert not any(w in key for w in ("secret", "access_key", "password", "token")), \
                f".dvc/config: [{section}] {key}: credentials belong in env or config.local"
    assert "/config.local" in (ROOT / ".dvc/.gitignore").read_text().split()


@pytest.mark.slow
def test_default_remote_is_a_folder_beside_the_repo_and_a_clone_pulls_from_it(
        pipeline_repo: Path) -> None:
    use_committed_config(pipeline_repo)
    outs = repro_fast(pipeline_repo)
    before = checksums(pipeline_repo, outs)
    run(pipeline_repo, "dvc", "push")  # no -r: the default remote
    storage = pipeline_repo.parent / "cbt-dvc-storage"
    assert (storage / "files/md5").is_dir()

    mate = pipeline_repo.parent / "clone"
    subprocess.run(["git", "clone", "-q", str(pipeline_repo), str(mate)], check=True)
    run(mate, "dvc", "pull", *FAST_STAGES)
    assert checksums(mate, outs) == before
    assert "Data and pipelines are up to date." in run(mate, "dvc", "repro", *FAST_STAGES).stdout
    assert "in sync" in run(mate, "dvc", "status", "-c").stdout
