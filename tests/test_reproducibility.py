"""Exact reproducibility: scripts/check_repro.py reruns stages in a fresh clone and compares
them with the committed dvc.lock (bit for bit for data, within train.loss_tolerance for the
training loss)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cbt_testing import ROOT
from cbt_testing.dvc_stages import StageInfo
from cbt_testing.repo import env as _env
from cbt_testing.repo import load_script

check_repro = load_script("check_repro")

CHEAP_STAGES = ("seeds",)  # run for real here; the others are checked by the script by hand


def _check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "scripts/check_repro.py"), *args],
                          env=_env(), capture_output=True, text=True)


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, env=_env(), check=True, capture_output=True)


@pytest.mark.slow
def test_committed_lock_reproduces_for_the_cheap_stages() -> None:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: nothing committed to clone")
    locked = (yaml.safe_load((ROOT / "dvc.lock").read_text()) or {}).get("stages", {})
    stages = [s for s in CHEAP_STAGES if s in locked]
    if not stages:
        pytest.skip("no cheap stage in the committed dvc.lock yet")
    proc = _check("--stages", *stages)
    assert proc.returncode == 0, f"fresh clone does not reproduce dvc.lock:\n{proc.stdout}"
    for stage in stages:
        assert f"{stage} " in proc.stdout and "match (" in proc.stdout, proc.stdout


@pytest.mark.slow
def test_check_repro_reports_a_match_then_catches_a_changed_output(pipeline_repo: Path,
                                                                   run_in, tmp_path) -> None:
    run_in("dvc", "repro", "seeds")
    _git(pipeline_repo, "add", "-A")
    _git(pipeline_repo, "commit", "-qm", "locked")
    out = tmp_path / "result.json"
    proc = _check("--source", str(pipeline_repo), "--stages", "seeds", "--json", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "match (data/seeds.jsonl, metrics/seeds.json)" in proc.stdout
    assert "1 of 1 required stages reproduced: OK" in proc.stdout
    result = json.loads(out.read_text())
    assert result["ok"] and result["stages"]["seeds"]["wall_s"] > 0

    lock = pipeline_repo / "dvc.lock"
    data = yaml.safe_load(lock.read_text())
    data["stages"]["seeds"]["outs"][0]["md5"] = "0" * 32  # as if the run had differed
    lock.write_text(yaml.safe_dump(data, sort_keys=False))
    _git(pipeline_repo, "commit", "-qam", "a lock the code cannot reproduce")
    proc = _check("--source", str(pipeline_repo), "--stages", "seeds")
    assert proc.returncode == 1
    assert "MISMATCH: data/seeds.jsonl" in proc.stdout
    assert "0 of 1 required stages reproduced: FAILED" in proc.stdout


def test_unknown_stage_is_a_one_line_error(pipeline_repo: Path) -> None:
    proc = _check("--source", str(pipeline_repo), "--stages", "nope")
    assert proc.returncode != 0
    assert "check_repro: error: dvc.lock" in proc.stderr


def _stage(tmp_path: Path, metrics: dict, name: str = "train") -> StageInfo:
    (tmp_path / "metrics").mkdir(exist_ok=True)
    (tmp_path / f"metrics/{name}.json").write_text(json.dumps(metrics))
    return StageInfo(name=name, cmd="x", outs=["models/adapter"],
                     uncached=[f"metrics/{name}.json"], metrics=[f"metrics/{name}.json"])


def test_training_passes_within_the_loss_tolerance_and_fails_outside(tmp_path: Path) -> None:
    info = _stage(tmp_path, {"final_loss": 1.2345, "train_runtime_s": 99.0})
    old = {"metrics/train.json": {"final_loss": 1.2340, "train_runtime_s": 50.0}}
    committed = {"models/adapter": "a.dir", "metrics/train.json": "m1"}
    new = {"models/adapter": "b.dir", "metrics/train.json": "m2"}
    verdict, ok = check_repro.compare_stage(info, committed, new, old, tmp_path, True, 1e-3)
    assert ok and verdict.startswith("within tolerance: metrics/train.json:final_loss")
    verdict, ok = check_repro.compare_stage(info, committed, new, old, tmp_path, True, 1e-4)
    assert not ok and verdict.startswith("LOSS MISMATCH")


def test_data_stage_metrics_ignore_timings_but_not_counts(tmp_path: Path) -> None:
    info = _stage(tmp_path, {"records": 40, "seconds": 3.1, "rss_mb": 80}, name="events")
    committed = {"metrics/events.json": "m1"}
    new = {"metrics/events.json": "m2"}
    old = {"metrics/events.json": {"records": 40, "seconds": 2.0, "rss_mb": 70}}
    verdict, ok = check_repro.compare_stage(info, committed, new, old, tmp_path, False, 0.0)
    assert ok, verdict
    old = {"metrics/events.json": {"records": 41, "seconds": 2.0}}
    verdict, ok = check_repro.compare_stage(info, committed, new, old, tmp_path, False, 0.0)
    assert not ok and verdict == "MISMATCH: metrics/events.json (keys records)"
