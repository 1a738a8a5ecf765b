"""`cbt-datagen fetch-release` and `cbt-datagen columns`, with the real huggingface_hub reading
an offline cache laid out as the Hub leaves it (the Hub itself is not reachable from here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cbt_datagen.commands.fetch_release import RELEASE
from cbt_testing.import_files import pair_rows, write_pairs

SHA = "0123456789abcdef0123456789abcdef01234567"


def _cache(root: Path, files: dict[str, dict[str, str]]) -> Path:
    """An HF hub cache holding each dataset repo at commit SHA, with `main` pointing at it."""
    for repo, content in files.items():
        folder = root / ("datasets--" + repo.replace("/", "--"))
        (folder / "refs").mkdir(parents=True)
        (folder / "refs/main").write_text(SHA)
        for name, text in content.items():
            path = folder / "snapshots" / SHA / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    return root


def _cli(cwd: Path, cache: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1"}
    cli = Path(sys.executable).parent / "cbt-datagen"
    return subprocess.run([str(cli), *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def release_cache(tmp_path: Path) -> Path:
    pytest.importorskip("huggingface_hub")
    csv_path = write_pairs(tmp_path / "src.csv", pair_rows(6), "csv")
    events = "Scenario,Emotion\nI missed the bus again.,anxious\n"
    return _cache(tmp_path / "hub", {
        RELEASE["assessments"]: {"README.md": "# card\n",
                                 "data/analysis.csv": csv_path.read_text()},
        RELEASE["events"]: {"events.csv": events}})


def test_fetch_pins_the_commit_copies_and_describes(tmp_path: Path, release_cache: Path) -> None:
    proc = _cli(tmp_path, release_cache, "fetch-release", "--revision", "main")
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "data/import/paper-release"
    record = json.loads((out / "RELEASE.json").read_text())
    analysis = record["datasets"]["assessments"]
    assert (analysis["commit"], analysis["file"]) == (SHA, "data/analysis.csv")
    assert analysis["columns"] == ["id", "situation", "analysis", "emotion", "age"]
    assert analysis["suggested_columns"]["situation"] == "situation"
    assert analysis["suggested_columns"]["assessment"] == "analysis"
    assert (out / "assessments.csv").read_text() == (
        release_cache / "datasets--epsilon3--cbt-cognitive-distortions-analysis/snapshots"
        / SHA / "data/analysis.csv").read_text()
    assert record["datasets"]["events"]["suggested_columns"]["situation"] == "Scenario"
    assert "pin the files with: dvc add" in proc.stdout


def test_fetch_of_an_unknown_revision_is_one_line(tmp_path: Path, release_cache: Path) -> None:
    proc = _cli(tmp_path, release_cache, "fetch-release", "--revision", "f" * 40)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "cannot download" in proc.stderr


def test_columns_shows_columns_a_sample_and_a_guess(tmp_path: Path) -> None:
    path = write_pairs(tmp_path / "p.jsonl", pair_rows(2), "jsonl")
    proc = _cli(tmp_path, tmp_path, "columns", str(path))
    assert proc.returncode == 0, proc.stderr
    assert "6 columns" in proc.stdout and "  messages: [{" in proc.stdout
    assert "  situation: situation\n  assessment: analysis" in proc.stdout
