"""End to end on the local profile with a tiny N: every stage from a clean temp copy of the
repo, then cbt-infer answers with the trained adapter, and DVC reports everything up to date.

Slow (the local teacher and the training run on the CPU, minutes). A stage missing from
dvc.yaml fails it: a removed stage must not pass silently.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from cbt_testing.fake_pipeline import load_stages
from cbt_testing.repo import run_own_sources

pytestmark = pytest.mark.slow

NEEDED = ("seeds", "local_model", "base_model", "crisis_probe", "events", "assessments",
          "dataset", "train", "export", "evaluate")
TINY = ("seeds.n=4", "dataset.test_size=1", "train.max_steps=2", "train.batch_size=1",
        "train.grad_accum=1", "train.save_steps=2", "evaluate.max_new_tokens=32")
SITUATION = ("My manager moved my project to a colleague without telling me. I keep thinking "
             "I'm useless and everyone at work knows it.")


_run = run_own_sources


def test_local_profile_end_to_end_then_cbt_infer_answers(pipeline_repo: Path) -> None:
    stages = load_stages(pipeline_repo)
    assert [s for s in NEEDED if s not in stages] == []
    _run(pipeline_repo, sys.executable, "scripts/compose_params.py", *TINY)

    repro = _run(pipeline_repo, "dvc", "repro")
    for name in stages:
        assert f"Running stage '{name}'" in repro.stdout, repro.stdout[-4000:]
    assert (pipeline_repo / "models/adapter").is_dir()
    train = json.loads((pipeline_repo / "metrics/train.json").read_text())
    assert train["steps"] == 2 and train["final_train_loss"] > 0, train
    evaluation = json.loads((pipeline_repo / "metrics/eval.json").read_text())
    assert evaluation["n"] == 1 and {"student", "baseline"} <= set(evaluation), evaluation
    # two training steps already make the teacher's answer likelier than the untuned base does
    assert evaluation["student"]["test_loss"] < evaluation["baseline"]["test_loss"], evaluation
    assert (pipeline_repo / "reports/eval.md").read_text().startswith("# Evaluation")

    answer = _run(pipeline_repo, "cbt-infer", "--json", "--max-new-tokens", "64", SITUATION)
    assert "no adapter given" not in answer.stderr
    result = json.loads(answer.stdout)
    assert result["message"].strip() and not result["crisis"]
    # the CLI screens with the pipeline's own probe by default, and says so
    assert result["screen"] == "keywords, then the learned probe (models/crisis_probe.json)"
    assert result["tier"] in {"none", "possible"}

    again = _run(pipeline_repo, "dvc", "repro")
    assert "Data and pipelines are up to date." in again.stdout
