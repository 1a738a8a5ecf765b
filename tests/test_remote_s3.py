"""The team workflow against a real S3 server (SeaweedFS on loopback): repro, push, pull back
byte-identical data into a wiped repo and into a teammate's fresh clone; bad keys fail clearly.

The s3 remote is the one in the committed .dvc/config, pointed at the test server with the
documented `dvc remote modify` commands; the keys travel only in AWS_* environment variables.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from cbt_testing.remote_cycle import (
    FAST_STAGES,
    cached_outs,
    checksums,
    repro_fast,
    run,
    use_committed_config,
    wipe,
)
from cbt_testing.repo import make_pipeline_repo
from cbt_testing.s3server import S3Server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def s3_template(tmp_path_factory: pytest.TempPathFactory, s3_server: S3Server) -> Path:
    """The pipeline repo with the committed config, its s3 remote aimed at the test server,
    and the fast stages reproduced and committed (built once, copied by each test)."""
    repo = make_pipeline_repo(tmp_path_factory.mktemp("s3") / "repo")
    use_committed_config(repo)
    run(repo, "dvc", "remote", "modify", "s3", "endpointurl", s3_server.endpoint)
    repro_fast(repo)
    return repo


@pytest.fixture
def s3_repo(s3_template: Path, s3_server: S3Server, tmp_path: Path,
            request: pytest.FixtureRequest) -> Path:
    """A copy of the template whose s3 remote url is a prefix of its own in the bucket."""
    repo = tmp_path / "repo"
    shutil.copytree(s3_template, repo, symlinks=True)
    run(repo, "dvc", "remote", "modify", "s3", "url",
        f"s3://{s3_server.bucket}/{request.node.name}")
    run(repo, "git", "commit", "-qam", "the team's bucket")
    return repo


def test_push_pull_cycle_gives_byte_identical_outputs_here_and_in_a_clone(
        s3_repo: Path, s3_server: S3Server) -> None:
    outs = cached_outs(s3_repo)
    assert outs, "no cached outputs to push"
    before = checksums(s3_repo, outs)
    pushed = run(s3_repo, "dvc", "push", "-r", "s3", aws=s3_server.env())
    assert f"{len(before)} file" in pushed.stdout, pushed.stdout

    # wipe the cache and the outputs, pull them back
    wipe(s3_repo, outs)
    assert not any((s3_repo / p).exists() for p in outs)
    run(s3_repo, "dvc", "pull", "-r", "s3", *FAST_STAGES, aws=s3_server.env())
    assert checksums(s3_repo, outs) == before
    status = run(s3_repo, "dvc", "status", "-c", "-r", "s3", aws=s3_server.env())
    assert "Cache and remote 's3' are in sync." in status.stdout

    # a teammate clones the git repo and pulls: same bytes, nothing to reproduce
    mate = s3_repo.parent / "teammate"
    subprocess.run(["git", "clone", "-q", str(s3_repo), str(mate)], check=True)
    assert not any((mate / p).exists() for p in outs)
    run(mate, "dvc", "pull", "-r", "s3", *FAST_STAGES, aws=s3_server.env())
    assert checksums(mate, outs) == before
    assert "Data and pipelines are up to date." in run(mate, "dvc", "repro", *FAST_STAGES).stdout
    assert run(mate, "dvc", "status", "--json", *FAST_STAGES).stdout.strip() in ("{}", "")


def test_wrong_secret_key_gives_dvcs_access_error(s3_repo: Path, s3_server: S3Server) -> None:
    wrong = {**s3_server.env(), "AWS_SECRET_ACCESS_KEY": "not-the-secret"}
    proc = run(s3_repo, "dvc", "push", "-r", "s3", aws=wrong, check=False)
    assert proc.returncode != 0
    assert "ERROR" in proc.stderr and "Forbidden" in proc.stderr and "403" in proc.stderr, \
        proc.stderr
    # nothing reached the bucket: with the right keys everything is still to be pushed
    status = run(s3_repo, "dvc", "status", "-c", "-r", "s3", aws=s3_server.env())
    assert "new:" in status.stdout


def test_missing_credentials_say_so(s3_repo: Path) -> None:
    proc = run(s3_repo, "dvc", "push", "-r", "s3", check=False)
    assert proc.returncode != 0
    assert "Unable to locate credentials" in proc.stderr, proc.stderr


def test_keys_in_config_local_work_and_stay_out_of_git(s3_repo: Path,
                                                       s3_server: S3Server) -> None:
    run(s3_repo, "dvc", "remote", "modify", "--local", "s3", "access_key_id",
        s3_server.access_key_id)
    run(s3_repo, "dvc", "remote", "modify", "--local", "s3", "secret_access_key",
        s3_server.secret_access_key)
    run(s3_repo, "dvc", "push", "-r", "s3")  # no AWS_* in the environment at all
    assert "in sync" in run(s3_repo, "dvc", "status", "-c", "-r", "s3").stdout
    tracked = run(s3_repo, "git", "status", "--porcelain", "--ignored", ".dvc").stdout
    assert "!! .dvc/config.local" in tracked
    assert s3_server.secret_access_key not in (s3_repo / ".dvc/config").read_text()
