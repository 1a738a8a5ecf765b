"""The paper's exact training recipe on a CUDA machine, through both backends, then evaluation
and export of the result (skipped without CUDA; the backends' extras are needed too), and the
part of it a CPU can run, everywhere.

  uv run pytest -m gpu -s tests/test_paper_gpu.py    # prints and writes bench/results/

The student is a random-weight Llama-architecture model with Llama-3-Instruct's chat template
(cbt_testing.training.make_llama3_model): a GPU machine here reaches no hub, so the real 8B cannot
be fetched. Settings are conf/profile/paper.yaml's train section, unchanged but for the base
model and a step cap: 4-bit, LoRA r16/alpha16 on q/k/v/o, adamw_8bit, gradient checkpointing,
max length 2048, batch 2 x accumulation 4, linear schedule from 2e-4, 5 warm-up steps.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from cbt_schema.timings import read_timings
from cbt_testing import ROOT
from cbt_testing.repo import env as _env


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


pytestmark = pytest.mark.slow
needs_cuda = pytest.mark.skipif(not _cuda(), reason="needs a CUDA GPU")
RESULTS = ROOT / "bench/results/paper_gpu.json"
STEPS = 12


def _paper_train(base: Path, backend: str) -> dict:
    profile = yaml.safe_load((ROOT / "conf/profile/paper.yaml").read_text())["train"]
    return {**profile, "backend": backend, "base_model": str(base), "max_steps": STEPS,
            "save_steps": STEPS, "eval_steps": 0, "logging_steps": 1}


def _cli(cwd: Path, module: str, *argv: str) -> subprocess.CompletedProcess:
    env = _env() | {"PYTHONPATH": os.pathsep.join(str(p) for p in
                                                  sorted(ROOT.glob("packages/*/src")))}
    proc = subprocess.run([sys.executable, "-c", f"from {module} import main; main()", *argv],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from cbt_testing.training import make_llama3_model
    from cbt_train.base_model import cached_base_model

    return make_llama3_model(cached_base_model(), tmp_path_factory.mktemp("m") / "llama3",
                             hidden=512, layers=4)


def _record(key: str, value: dict) -> None:
    RESULTS.parent.mkdir(exist_ok=True)
    data = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    import torch

    data["gpu"] = torch.cuda.get_device_name(0)
    data[key] = value
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")
    print(key, json.dumps(value))


def _train_evaluate_export(tmp_path: Path, llama: Path, backend: str, **change) -> None:
    from cbt_schema.jsonl import write_jsonl
    from cbt_testing.training import make_examples

    write_jsonl(tmp_path / "train.jsonl", make_examples(64, findings=2, extra_words=200))
    write_jsonl(tmp_path / "test.jsonl", make_examples(16, 64, findings=2))
    params = {"train": {**_paper_train(llama, backend), **change},
              "evaluate": {"max_new_tokens": 64, "batch_size": 8, "bootstrap": 50}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    _cli(tmp_path, "cbt_train.cli", "train", "--params", "params.yaml", "--train",
         "train.jsonl", "--test", "test.jsonl", "--out", "adapter", "--metrics", "train.json",
         "--live", "live", "--checkpoints", "ck")
    train = json.loads((tmp_path / "train.json").read_text())
    assert train["backend"] == backend and train["steps"] == change.get("max_steps", STEPS)
    assert train["final_test_loss"] < train["initial_test_loss"]
    assert train["tokens"]["train_assistant"] < train["tokens"]["train"]  # replies only
    config = json.loads((tmp_path / "adapter/adapter_config.json").read_text())
    assert (config["r"], config["lora_alpha"]) == (16, 16)
    assert set(config["target_modules"]) == {"q_proj", "k_proj", "v_proj", "o_proj"}
    if train["device"] == "cpu":
        return  # the CPU rehearsal stops here: evaluation and figures are the GPU tests'
    speed = read_timings("train", root=tmp_path)
    _record(f"train_{backend}", {"final_test_loss": train["final_test_loss"],
                                 "steps": train["steps"],
                                 **{k: speed.get(k) for k in (
                                     "tokens_per_s", "s_per_step", "peak_gpu_mb")}})

    start = time.perf_counter()
    _cli(tmp_path, "cbt_eval.cli", "evaluate", "--params", "params.yaml", "--test",
         "test.jsonl", "--base", str(llama), "--adapter", "adapter", "--metrics", "eval.json",
         "--report", "eval.md", "--plots", "plots")
    evaluation = json.loads((tmp_path / "eval.json").read_text())
    assert evaluation["n"] == 16
    _record(f"evaluate_{backend}", {
        "examples_per_s": round(
            1 / read_timings("evaluate", root=tmp_path)["student"]["seconds_per_example"], 2),
        "wall_s": round(time.perf_counter() - start, 1), "batch_size": 8,
        "max_new_tokens": 64})

    if importlib.util.find_spec("llama_cpp") is None:
        return  # export needs the cbt-infer[llama] extra; evaluated above regardless
    _cli(tmp_path, "cbt_infer.cli", "export", "--base", str(llama), "--adapter", "adapter",
         "--out", "gguf")
    assert (tmp_path / "gguf/cbt-student-f16.gguf").is_file()


def test_paper_recipe_on_the_cpu_where_it_can_run(tmp_path: Path, llama: Path) -> None:
    """What of the recipe runs without CUDA (not 4-bit, not adamw_8bit): the Llama-3 chat
    template's assistant-only masking, r16/alpha16 on q/k/v/o, gradient checkpointing, batch
    2 x 4, max length 2048, through the hf backend."""
    _train_evaluate_export(tmp_path, llama, "hf", load_in_4bit=False, optim="adamw_torch",
                           max_steps=2)


@pytest.mark.gpu
@needs_cuda
@pytest.mark.skipif(importlib.util.find_spec("bitsandbytes") is None,
                    reason="needs bitsandbytes (cbt-train[bnb]) for 4-bit and adamw_8bit")
def test_paper_recipe_hf_backend(tmp_path: Path, llama: Path) -> None:
    _train_evaluate_export(tmp_path, llama, "hf")


@pytest.mark.gpu
@needs_cuda
@pytest.mark.skipif(importlib.util.find_spec("unsloth") is None,
                    reason="needs unsloth: uv sync --all-packages --extra unsloth")
def test_paper_recipe_unsloth_backend(tmp_path: Path, llama: Path) -> None:
    _train_evaluate_export(tmp_path, llama, "unsloth")

