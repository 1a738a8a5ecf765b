"""GPU smoke runs of both backends on SmolLM2 (skipped without CUDA).

  uv run pytest -m gpu -s packages/cbt-train     # prints each run's metrics

The unsloth run needs the extra's environment (`uv sync --all-packages --extra unsloth`,
which also moves torch, transformers and trl down to unsloth's caps) and runs in a fresh
process, since unsloth must be imported before transformers.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cbt_schema.jsonl import write_jsonl
from cbt_testing.training import make_examples


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not _cuda(), reason="needs a CUDA GPU")]


def _run(tmp_path: Path, base: Path, backend: str, **train) -> dict:
    write_jsonl(tmp_path / "train.jsonl", make_examples(16, findings=2))
    write_jsonl(tmp_path / "test.jsonl", make_examples(4, 16, findings=2))
    settings = {"backend": backend, "base_model": str(base), "max_length": 512,
                "load_in_4bit": True, "gradient_checkpointing": True, "batch_size": 2,
                "grad_accum": 2, "learning_rate": 1e-3, "warmup_steps": 0, "max_steps": 6,
                "save_steps": 3, "lora": {"r": 16, "alpha": 32,
                                          "target_modules": ["q_proj", "k_proj", "v_proj",
                                                             "o_proj"]}, **train}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"train": settings}))
    proc = subprocess.run(
        [sys.executable, "-c", "from cbt_train.cli import main; main()", "train", "--params",
         "params.yaml", "--train", "train.jsonl", "--test", "test.jsonl", "--out", "adapter",
         "--metrics", "train.json", "--live", "live", "--checkpoints", "ck"],
        cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads((tmp_path / "train.json").read_text())
    print(json.dumps(metrics, indent=1))
    assert metrics["backend"] == backend and metrics["device"] != "cpu"
    assert metrics["final_test_loss"] < metrics["initial_test_loss"]
    assert metrics["peak_gpu_mb"] > 0 and (tmp_path / "adapter/adapter_model.safetensors").is_file()
    return metrics


@pytest.mark.skipif(importlib.util.find_spec("bitsandbytes") is None,
                    reason="needs bitsandbytes (cbt-train[bnb])")
def test_hf_backend_trains_in_4bit_on_gpu(tmp_path: Path, base_model_dir: Path) -> None:
    _run(tmp_path, base_model_dir, "hf", optim="adamw_8bit")


@pytest.mark.skipif(importlib.util.find_spec("unsloth") is None,
                    reason="needs unsloth: uv sync --all-packages --extra unsloth")
def test_unsloth_backend_trains_in_4bit_on_gpu(tmp_path: Path, base_model_dir: Path) -> None:
    _run(tmp_path, base_model_dir, "unsloth", optim="adamw_8bit")


def test_auto_picks_unsloth_only_when_installed() -> None:
    from cbt_train.preflight import resolve_backend

    expected = "unsloth" if importlib.util.find_spec("unsloth") else "hf"
    assert resolve_backend("auto") == expected
