"""The train stage on a tiny Llama with SmolLM2's tokenizer: outputs, determinism, resume, NaN."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import replace
from pathlib import Path

import pytest
from transformers import TrainerCallback

from cbt_schema.student import ANSWER_FORMAT, StudentTask
from cbt_schema.timings import read_timings
from cbt_testing.training import SYSTEM
from cbt_train.callbacks import NonFiniteLoss
from cbt_train.train import run_training


class StopAtSave(TrainerCallback):
    """Simulate a crash (Ctrl-C) right after the checkpoint of `step` is written."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_save(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            raise KeyboardInterrupt


class PoisonAfter(TrainerCallback):
    """Turn the LoRA weights to NaN after `step`, as a diverging run would."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if state.global_step == self.step:
            for name, param in model.named_parameters():
                if "lora_B" in name:
                    param.data.fill_(float("nan"))


def test_adapter_config_lists_target_modules_in_one_order(tmp_path: Path) -> None:
    """peft writes them from a set, in a per-process order; the saved folder must not vary."""
    from cbt_train.card import stable_adapter_config

    path = tmp_path / "adapter_config.json"
    path.write_text(json.dumps({"target_modules": ["v_proj", "o_proj", "q_proj"], "r": 4}))
    stable_adapter_config(path)
    saved = json.loads(path.read_text())
    assert saved == {"r": 4, "target_modules": ["o_proj", "q_proj", "v_proj"]}


def _elsewhere(paths, folder: Path):
    """The same data, every output in another folder."""
    return replace(paths, out=folder / "adapter", metrics=folder / "train.json",
                   live=folder / "live", checkpoints=folder / "ck")


def test_writes_adapter_card_metrics_and_loss_curves(tiny_params, train_paths) -> None:
    metrics = run_training(tiny_params(), seed=7, paths=train_paths)
    out = train_paths.out
    assert {"adapter_model.safetensors", "adapter_config.json", "tokenizer.json",
            "chat_template.jinja", "README.md"} <= {p.name for p in out.iterdir()}
    adapter = json.loads((out / "adapter_config.json").read_text())
    assert adapter["target_modules"] == ["q_proj", "v_proj"] and adapter["r"] == 4
    assert "{% generation %}" not in (out / "chat_template.jinja").read_text()
    # the task travels with the student: the prompt it was trained with, from any folder
    task = StudentTask.from_folder(out)
    assert task is not None and task.system_prompt == SYSTEM
    assert task.answer_format == ANSWER_FORMAT
    assert task.chat_template == (out / "chat_template.jinja").read_text()
    card = (out / "README.md").read_text()
    assert hashlib.sha256(train_paths.train.read_bytes()).hexdigest() in card
    assert f"base_model: {tiny_params().base_model}" in card
    assert "not a substitute for a therapist" in card
    saved = json.loads(train_paths.metrics.read_text())
    assert saved == json.loads(json.dumps(metrics))
    assert metrics["steps"] == 3 and metrics["backend"] == "hf" and metrics["device"] == "cpu"
    for key in ("initial_train_loss", "final_train_loss", "initial_test_loss",
                "final_test_loss"):
        assert math.isfinite(metrics[key]) and metrics[key] > 0, key
    # speed and memory are timings, not results: in timings/train.json, nowhere in the outputs
    timings = read_timings("train")
    for key in ("tokens_per_s", "s_per_step", "train_s", "wall_s", "peak_rss_mb"):
        assert math.isfinite(timings[key]) and timings[key] > 0, key
        assert key not in metrics, key
    summary = (train_paths.live / "metrics.json").read_text()
    for text in ("per_s", "s_per_step", "train_s", "wall_s", "rss", "timestamp"):
        assert text not in summary and text not in card, text
    assert "s/step" not in card and "tokens/s" not in card
    assert metrics["final_train_loss"] < metrics["initial_train_loss"]
    assert metrics["loss_on"] == "assistant" and "loss on the assistant's reply only." in card
    for key in ("initial_train", "final_train", "initial_test", "final_test"):
        trained = metrics["losses"]["assistant"][key]
        assert trained == pytest.approx(metrics[f"{key}_loss"], abs=1e-5), key
        assert metrics["losses"]["all"][key] > 0, key
    assert "| test loss on the whole sequence (before -> after) |" in card
    curve = (train_paths.live / "plots/metrics/train/loss.tsv").read_text().splitlines()
    assert curve[0].split("\t") == ["step", "loss"]
    assert [int(line.split("\t")[0]) for line in curve[1:]] == [1, 2, 3]
    evals = (train_paths.live / "plots/metrics/eval/loss.tsv").read_text().splitlines()
    # the untrained model at step 0, the trained one at the end
    assert [int(line.split("\t")[0]) for line in evals[1:]] == [0, 3]
    assert not train_paths.checkpoints.exists()


@pytest.mark.slow
def test_interrupted_run_resumes_and_runs_are_reproducible(tiny_params, train_paths,
                                                           tmp_path: Path) -> None:
    """Same params twice -> same loss (1e-6); a crash after checkpoint 2 resumes to the same."""
    params = tiny_params(max_steps=4, save_steps=2)
    straight = run_training(params, seed=3, paths=_elsewhere(train_paths, tmp_path / "s"))
    assert straight["resumed_from_step"] is None

    with pytest.raises(KeyboardInterrupt):
        run_training(params, seed=3, paths=train_paths, callbacks=[StopAtSave(2)])
    assert (train_paths.checkpoints / "checkpoint-2").is_dir()
    assert not train_paths.out.exists() and not train_paths.metrics.exists()

    resumed = run_training(params, seed=3, paths=train_paths)
    assert resumed["resumed_from_step"] == 2 and resumed["steps"] == 4
    curve = (train_paths.live / "plots/metrics/train/loss.tsv").read_text().splitlines()
    assert [int(line.split("\t")[0]) for line in curve[1:]] == [1, 2, 3, 4]
    assert abs(straight["final_train_loss"] - resumed["final_train_loss"]) < 1e-6
    assert abs(straight["final_test_loss"] - resumed["final_test_loss"]) < 1e-6

    other_seed = run_training(tiny_params(max_steps=1), seed=4,
                              paths=_elsewhere(train_paths, tmp_path / "o"))
    same_seed = run_training(tiny_params(max_steps=1), seed=3,
                             paths=_elsewhere(train_paths, tmp_path / "p"))
    assert abs(other_seed["final_train_loss"] - same_seed["final_train_loss"]) > 1e-6


@pytest.mark.slow
def test_changed_params_do_not_resume_a_stale_checkpoint(tiny_params, train_paths) -> None:
    with pytest.raises(KeyboardInterrupt):
        run_training(tiny_params(max_steps=2, save_steps=1), seed=3, paths=train_paths,
                     callbacks=[StopAtSave(1)])
    metrics = run_training(tiny_params(max_steps=2, save_steps=1, learning_rate=5e-3),
                           seed=3, paths=train_paths)
    assert metrics["resumed_from_step"] is None and metrics["steps"] == 2


def test_nan_loss_stops_with_a_clear_error_and_writes_nothing(tiny_params,
                                                              train_paths) -> None:
    with pytest.raises(NonFiniteLoss, match=r"loss became nan at step 2; stopped before"):
        run_training(tiny_params(max_steps=3), seed=0, paths=train_paths,
                     callbacks=[PoisonAfter(1)])
    assert not train_paths.out.exists() and not train_paths.metrics.exists()
