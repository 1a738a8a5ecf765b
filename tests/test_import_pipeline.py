"""Existing (situation, assessment) pairs through the real pipeline on this machine: import
(teacher.provider: file), dataset with verbatim targets, train the local student, evaluate.

Slow (a fresh DVC repo builds the local model and trains for two steps on the CPU).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from cbt_schema import ChatExample
from cbt_schema.jsonl import read_jsonl
from cbt_testing.import_files import pair_rows, write_pairs
from cbt_testing.repo import run_own_sources as _run

pytestmark = pytest.mark.slow

IMPORT = ("teacher.provider=file", "+teacher.file.path=data/import/pairs.csv",
          "+teacher.file.columns.situation=situation",
          "+teacher.file.columns.assessment=analysis", "+teacher.file.columns.emotion=emotion",
          "dataset.target=verbatim", "dataset.test_size=4", "train.max_steps=2",
          "train.batch_size=1", "train.grad_accum=1", "train.save_steps=2",
          "evaluate.max_new_tokens=32")


def test_imported_pairs_train_verbatim_and_evaluate(pipeline_repo: Path) -> None:
    rows = pair_rows(16, seed=7)  # rows 5, 10 and 15 are free text the parser cannot read
    write_pairs(pipeline_repo / "data/import/pairs.csv", rows, "csv")
    _run(pipeline_repo, sys.executable, "scripts/compose_params.py", *IMPORT)

    repro = _run(pipeline_repo, "dvc", "repro", "evaluate")
    for stage in ("events", "assessments", "dataset", "train", "evaluate"):
        assert f"Running stage '{stage}'" in repro.stdout, repro.stdout[-4000:]
    assert "Running stage 'crisis_probe'" not in repro.stdout  # evaluate does not need it

    datagen = json.loads((pipeline_repo / "metrics/datagen.json").read_text())
    assert datagen["events"]["import"]["rows"] == 16
    assert datagen["assessments"]["parse"] | {"read": 13, "unread": 3} \
        == datagen["assessments"]["parse"]
    splits = pipeline_repo / "data/splits"
    examples = (read_jsonl(splits / "train.jsonl", ChatExample)
                + read_jsonl(splits / "test.jsonl", ChatExample))
    own_text = {r["situation"]: r["analysis"] for r in rows}
    assert len(examples) == 16
    assert all(ex.messages[-1].content == own_text[ex.messages[1].content] for ex in examples)

    train = json.loads((pipeline_repo / "metrics/train.json").read_text())
    assert train["steps"] == 2
    for way in ("assistant", "all"):
        assert train["losses"][way]["final_test"] > 0, train["losses"]
    evaluation = json.loads((pipeline_repo / "metrics/eval.json").read_text())
    assert evaluation["n"] == 4  # the labelled test examples, every one scored
    assert evaluation["student"]["test_loss_all_tokens"] > 0
    caveat = (pipeline_repo / "reports/eval.md").read_text()
    assert "trained on imported assessments" in caveat

    again = _run(pipeline_repo, "dvc", "status", "evaluate")
    assert "up to date" in again.stdout, again.stdout
