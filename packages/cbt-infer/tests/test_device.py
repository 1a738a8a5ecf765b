"""Where a student loads, and the one line that refuses one that does not fit."""

import json
from pathlib import Path

import pytest

from cbt_infer.device import estimate_gib, parameter_count, plan_load
from cbt_infer.loading import resolve
from cbt_schema.errors import UserError

# Llama-3-8B-Instruct's config (the paper's student), as unsloth's 4-bit checkpoint ships it
LLAMA3_8B = {"hidden_size": 4096, "num_hidden_layers": 32, "vocab_size": 128256,
             "intermediate_size": 14336, "num_attention_heads": 32, "num_key_value_heads": 8,
             "tie_word_embeddings": False,
             "quantization_config": {"quant_method": "bitsandbytes", "load_in_4bit": True}}
SMOLLM2 = {"hidden_size": 576, "num_hidden_layers": 30, "vocab_size": 49152,
           "intermediate_size": 1536, "num_attention_heads": 9, "num_key_value_heads": 3,
           "tie_word_embeddings": True}


def test_parameter_counts_match_the_published_sizes() -> None:
    assert parameter_count(LLAMA3_8B) == pytest.approx(8.03e9, rel=0.005)
    assert parameter_count(SMOLLM2) == pytest.approx(134.5e6, rel=0.01)


def test_an_8b_student_loads_in_4_bits_on_a_gpu() -> None:
    plan = plan_load(LLAMA3_8B, "llama", memory=(80.0, 24.0))
    assert (plan.device, plan.dtype, plan.load_in_4bit) == ("cuda", "bfloat16", True)
    assert 5.5 < plan.estimate_gib < 8  # 4-bit weights, 16-bit embeddings, overhead


def test_an_8b_student_is_refused_where_it_cannot_run() -> None:
    with pytest.raises(UserError, match=r"^llama: its weights are 4-bit bitsandbytes, which "
                                        r"load only on a CUDA GPU \(about 6\.\d GiB\).*"
                                        r"--backend llama --gguf models/gguf/"):
        plan_load(LLAMA3_8B, "llama", memory=(None, 24.0))
    with pytest.raises(UserError, match=r"needs about 6\.\d GiB of GPU memory in 4 bits, the "
                                        r"GPU has 4\.0 GiB free"):
        plan_load(LLAMA3_8B, "llama", memory=(4.0, 24.0))
    bf16 = {k: v for k, v in LLAMA3_8B.items() if k != "quantization_config"}
    with pytest.raises(UserError, match=r"needs about 3\d\.\d GiB of memory in fp32 on the "
                                        r"CPU, this machine has 24\.0 GiB available"):
        plan_load(bf16, "llama", memory=(None, 24.0))
    assert estimate_gib(bf16, 2) == pytest.approx(18.4, abs=0.5)


def test_the_local_student_stays_on_the_cpu_in_fp32() -> None:
    plan = plan_load(SMOLLM2, "smol", memory=(None, 1.5))
    assert (plan.device, plan.dtype, plan.load_in_4bit) == ("cpu", "float32", False)
    assert plan_load(SMOLLM2, "smol", device="cpu", memory=(80.0, 8.0)).device == "cpu"
    with pytest.raises(UserError, match="device cuda asked for, but this machine has no CUDA"):
        plan_load(SMOLLM2, "smol", device="cuda", memory=(None, 8.0))


def test_a_hub_base_folder_stands_for_its_hub_id(tmp_path: Path) -> None:
    folder = tmp_path / "base"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(LLAMA3_8B))
    (folder / "base_model.json").write_text(json.dumps(
        {"source": "hub", "name": "unsloth/llama-3-8b-Instruct-bnb-4bit"}))
    assert resolve(folder, None).base == "unsloth/llama-3-8b-Instruct-bnb-4bit"
    (folder / "model.safetensors").write_bytes(b"")  # a folder with weights is itself
    assert resolve(folder, None).base == str(folder)
