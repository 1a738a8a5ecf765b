"""SmolLM2 itself, end to end: it learns, the adapter reloads and generates, merge agrees."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cbt_schema.params import TrainParams
from cbt_schema.student import TASK_FILE
from cbt_train.merge import merge_adapter
from cbt_train.train import run_training


@pytest.mark.slow
def test_smollm2_learns_reloads_generates_and_merges(base_model_dir: Path, train_paths,
                                                     tmp_path: Path) -> None:
    import torch
    from peft import AutoPeftModelForCausalLM
    from transformers import AutoModelForCausalLM, AutoTokenizer

    params = TrainParams(backend="auto", base_model=str(base_model_dir), max_length=256,
                         batch_size=2, grad_accum=1, learning_rate=1e-3, warmup_steps=0,
                         max_steps=4, eval_steps=100, save_steps=10,
                         lora={"r": 8, "alpha": 16, "target_modules": ["all-linear"]})
    metrics = run_training(params, seed=42, paths=train_paths)
    assert metrics["backend"] == "hf"
    assert metrics["final_test_loss"] < metrics["initial_test_loss"] - 0.1

    tok = AutoTokenizer.from_pretrained(train_paths.out)
    model = AutoPeftModelForCausalLM.from_pretrained(train_paths.out).eval()
    prompt = tok.apply_chat_template(
        [{"role": "system", "content": "You spot thought distortions and challenge them."},
         {"role": "user", "content": "I failed my driving test. I will never be able to drive."}],
        add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.no_grad():
        out = model.generate(**prompt, max_new_tokens=24, do_sample=False)
        peft_logits = model(**prompt).logits
    text = tok.decode(out[0, prompt["input_ids"].shape[1]:], skip_special_tokens=True)
    assert text.strip()

    merged_dir = merge_adapter(train_paths.out, tmp_path / "merged")
    merged = AutoModelForCausalLM.from_pretrained(merged_dir).eval()
    with torch.no_grad():
        merged_logits = merged(**prompt).logits
    assert torch.allclose(peft_logits, merged_logits, atol=1e-3)
    assert not list(merged_dir.glob("adapter_*"))
    # the merged folder carries the task the adapter was trained with
    assert (merged_dir / TASK_FILE).read_text() == (train_paths.out / TASK_FILE).read_text()


@pytest.mark.slow
def test_merge_cli_rejects_a_folder_that_is_not_an_adapter(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", "from cbt_train.cli import main; main()",
                           "merge", "--adapter", str(tmp_path), "--out", "merged"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr == (f"cbt-train: error: {tmp_path}: not a LoRA adapter folder (no "
                           f"adapter_config.json)\n")
