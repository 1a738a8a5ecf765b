"""Bad input stops the train stage before any training, with one line naming what to fix."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cbt_schema.errors import UserError
from cbt_schema.jsonl import write_jsonl
from cbt_schema.records import ChatExample, ChatMessage
from cbt_train.data import response_markers
from cbt_train.preflight import resolve_backend
from cbt_train.train import run_training


def _fails(params, paths, match: str) -> None:
    with pytest.raises(UserError, match=match):
        run_training(params, seed=0, paths=paths)
    assert not paths.out.exists() and not paths.metrics.exists()
    assert not paths.checkpoints.exists()


def test_unknown_base_model_path(tiny_params, train_paths, tmp_path: Path,
                                 monkeypatch) -> None:
    _fails(tiny_params(base_model=str(tmp_path / "nope")), train_paths,
           r"train.base_model: .*nope is not a model folder \(no config.json\)")
    monkeypatch.chdir(tmp_path)  # a checkout that has run the pipeline has models/base
    _fails(tiny_params(base_model="models/base"), train_paths,
           r"run the base_model stage: cbt-train base-model")


def test_target_module_not_in_model_lists_the_valid_names(tiny_params, train_paths) -> None:
    _fails(tiny_params(lora={"target_modules": ["q_proj", "query_key_value"]}), train_paths,
           r"train.lora.target_modules: query_key_value not in the model \(its linear layers: "
           r"down_proj, gate_proj, k_proj, o_proj, q_proj, up_proj, v_proj; or use "
           r"\[all-linear\]\)")


def test_impossible_batch_length_and_optimizer(tiny_params, train_paths) -> None:
    _fails(tiny_params(batch_size=4, grad_accum=2), train_paths,
           r"train.batch_size x train.grad_accum = 8 is more than the 6 training examples")
    _fails(tiny_params(max_length=4096), train_paths,
           r"train.max_length: 4096 is more than the model's 1024 positions")
    _fails(tiny_params(optim="adamw_fast"), train_paths,
           r"train.optim: unknown optimizer 'adamw_fast' \(allowed: adamw_torch")
    _fails(tiny_params(load_in_4bit=True), train_paths, r"train.load_in_4bit: ")


def test_prompt_longer_than_max_length_leaves_no_assistant_tokens(tiny_params,
                                                                  train_paths) -> None:
    _fails(tiny_params(max_length=40), train_paths,
           r"train.jsonl:1: example ex-0 has no assistant tokens to train on \(the prompt "
           r"alone is \d+ tokens, more than train.max_length=40\); its loss would be zero")


def test_data_without_replies_or_records(tiny_params, train_paths) -> None:
    no_reply = ChatExample(id="q-1", messages=[ChatMessage(role="user", content="hi"),
                                               ChatMessage(role="assistant", content=" ")])
    write_jsonl(train_paths.train, [no_reply])
    _fails(tiny_params(), train_paths, r"train.jsonl:1: example q-1 has no assistant reply")
    write_jsonl(train_paths.train, [])
    _fails(tiny_params(), train_paths, r"train.jsonl: the train split is empty")
    train_paths.train.write_text('{"id": "x", "messages": "oops"}\n')
    _fails(tiny_params(), train_paths, r"train.jsonl:1: messages: ")


def test_backend_choice(monkeypatch) -> None:
    assert resolve_backend("hf") == "hf"
    monkeypatch.setattr("cbt_train.preflight.cuda_available", lambda: False)
    assert resolve_backend("auto") == "hf"
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    with pytest.raises(UserError, match=r"unsloth is not installed; install the extra"):
        resolve_backend("unsloth")


def test_turn_markers_for_unsloth_masking(tiny_base: Path) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_base)
    template = (tiny_base / "chat_template.train.jinja").read_text()
    assert response_markers(tok, template) == ("<|im_start|>user\n", "<|im_start|>assistant\n")


def test_cli_exits_2_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_text("train:\n  lora:\n    r: 0\n")
    proc = subprocess.run([sys.executable, "-c", "from cbt_train.cli import main; main()",
                           "train", "--params", "params.yaml"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr == ("cbt-train: error: params.yaml: train.lora.r: Input should be "
                           "greater than or equal to 1 (got 0)\n")
    (tmp_path / "params.yaml").write_text("train:\n  base_model: models/base\n")
    (tmp_path / "train.jsonl").write_text("")
    proc = subprocess.run([sys.executable, "-c", "from cbt_train.cli import main; main()",
                           "train", "--train", "missing.jsonl"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr == "cbt-train: error: missing.jsonl: file not found\n"
