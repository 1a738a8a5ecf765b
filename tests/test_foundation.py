"""The pipeline skeleton: params composition, the seeds stage under real DVC, bad params."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from cbt_schema.params import load_params

ROOT = Path(__file__).resolve().parent.parent


def _compose(tmp_path: Path, *overrides: str) -> dict:
    out = tmp_path / "composed.yaml"
    subprocess.run([sys.executable, str(ROOT / "scripts/compose_params.py"), "--out", str(out),
                    *overrides], check=True, capture_output=True)
    return yaml.safe_load(out.read_text())


def test_committed_params_equal_the_composed_local_profile(tmp_path: Path) -> None:
    committed = yaml.safe_load((ROOT / "params.yaml").read_text())
    assert _compose(tmp_path) == committed
    load_params(ROOT / "params.yaml")


def test_paper_profile_is_one_switch_away(tmp_path: Path) -> None:
    paper = _compose(tmp_path, "profile=paper")
    out = tmp_path / "paper.yaml"
    out.write_text(yaml.safe_dump(paper))
    params = load_params(out)
    assert params.profile == "paper"
    assert params.seeds.n == 621 and params.dataset.test_size == 100
    assert params.teacher.provider == "anthropic"
    assert params.train.base_model == "unsloth/llama-3-8b-Instruct-bnb-4bit"
    assert params.train.lora.r == 16 and params.train.lora.alpha == 16
    assert params.train.lora.target_modules == ["q_proj", "k_proj", "v_proj", "o_proj"]
    assert (params.train.batch_size, params.train.grad_accum) == (2, 4)
    assert params.train.learning_rate == 2e-4 and params.train.optim == "adamw_8bit"
    assert params.train.epochs == 5 and params.train.warmup_steps == 5
    assert params.train.max_length == 2048 and params.train.load_in_4bit


def test_seeds_stage_runs_once_and_ignores_unrelated_params(pipeline_repo: Path, run_in) -> None:
    run_in("dvc", "repro", "seeds")
    seeds = pipeline_repo / "data/seeds.jsonl"
    assert len(seeds.read_text().splitlines()) == load_params(pipeline_repo / "params.yaml").seeds.n
    first = seeds.read_bytes()

    again = run_in("dvc", "repro", "seeds")
    assert "didn't change, skipping" in again.stdout

    params = pipeline_repo / "params.yaml"
    text = params.read_text()
    assert "learning_rate: 0.001" in text
    params.write_text(text.replace("learning_rate: 0.001", "learning_rate: 0.002"))
    assert "didn't change, skipping" in run_in("dvc", "repro", "seeds").stdout

    params.write_text(params.read_text().replace("seed: 42", "seed: 43"))
    rerun = run_in("dvc", "repro", "seeds")
    assert "Running stage 'seeds'" in rerun.stdout
    assert seeds.read_bytes() != first


def test_dvc_repro_with_bad_params_fails_before_work(pipeline_repo: Path, run_in) -> None:
    params = pipeline_repo / "params.yaml"
    text = params.read_text()
    n = load_params(params).seeds.n
    assert f"'n': {n}" in text
    params.write_text(text.replace(f"'n': {n}", "'n': -3"))
    proc = run_in("dvc", "repro", "seeds", check=False)
    assert proc.returncode != 0
    assert "cbt-seeds: error: params.yaml: seeds.n: Input should be greater than or equal to 1" \
        in proc.stderr + proc.stdout
    assert not (pipeline_repo / "data/seeds.jsonl").exists()
