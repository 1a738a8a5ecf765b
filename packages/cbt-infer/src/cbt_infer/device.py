"""Where and how a student loads: CUDA (bf16, or 4-bit through bitsandbytes) or the CPU (fp32),
and whether it fits, decided from its config before any weight is read.

    plan = plan_load(config, "unsloth/llama-3-8b-Instruct-bnb-4bit")   # or raises UserError
    plan.kwargs()   # -> from_pretrained keyword arguments

A model that does not fit is refused with one line giving the estimate and the GGUF route, so
an 8B student on a laptop fails in a second instead of swapping for an hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cbt_schema.errors import UserError

GiB = 2**30
OVERHEAD = 1.2            # activations, buffers, the allocator's slack, beyond the weights
WORKSPACE_GIB = 0.5       # KV cache of a small batch and CUDA context
GGUF_ROUTE = ("or use the GGUF export on llama.cpp, which runs in far less memory: "
              "`dvc repro export` on a machine that loads the model, then "
              "cbt-infer --backend llama --gguf models/gguf/cbt-student-q4_k_m.gguf")
Device = Literal["auto", "cuda", "cpu"]


def parameter_count(config: dict[str, Any]) -> int:
    """Parameters of a decoder-only transformer from its config (Llama, Mistral, SmolLM...)."""
    h = int(config.get("hidden_size") or config.get("n_embd") or 0)
    layers = int(config.get("num_hidden_layers") or config.get("n_layer") or 0)
    vocab = int(config.get("vocab_size") or 0)
    inter = int(config.get("intermediate_size") or 4 * h)
    heads = int(config.get("num_attention_heads") or 1)
    kv_heads = int(config.get("num_key_value_heads") or heads)
    head_dim = int(config.get("head_dim") or h // max(heads, 1))
    attention = h * heads * head_dim * 2 + h * kv_heads * head_dim * 2
    per_layer = attention + 3 * h * inter + 2 * h
    embeddings = vocab * h * (1 if config.get("tie_word_embeddings") else 2)
    return layers * per_layer + embeddings + h


def is_prequantized(config: dict[str, Any]) -> bool:
    return (config.get("quantization_config") or {}).get("quant_method") == "bitsandbytes"


@dataclass(frozen=True)
class LoadPlan:
    device: Literal["cuda", "cpu"]
    dtype: Literal["bfloat16", "float32"]
    load_in_4bit: bool
    estimate_gib: float

    def kwargs(self, prequantized: bool) -> dict[str, Any]:
        import torch

        kwargs: dict[str, Any] = {"dtype": getattr(torch, self.dtype)}
        if self.device == "cuda":
            kwargs["device_map"] = {"": 0}
        if self.load_in_4bit and not prequantized:
            from transformers import BitsAndBytesConfig

            kwargs["quantization_config"] = BitsAndBytesConfig(
                load_in_4bit=True, bnb_4bit_quant_type="nf4",
                bnb_4bit_compute_dtype=torch.bfloat16)
        return kwargs


def estimate_gib(config: dict[str, Any], bytes_per_param: float) -> float:
    n = parameter_count(config)
    embeddings = int(config.get("vocab_size") or 0) * int(config.get("hidden_size") or 0)
    if bytes_per_param < 2:  # 4-bit: embeddings and the head stay in 16 bits
        weights = (n - 2 * embeddings) * bytes_per_param + 2 * embeddings * 2
    else:
        weights = n * bytes_per_param
    return weights * OVERHEAD / GiB + WORKSPACE_GIB


def free_memory() -> tuple[float | None, float]:
    """(free GPU memory in GiB or None without CUDA, available RAM in GiB)."""
    gpu = None
    try:
        import torch

        if torch.cuda.is_available():
            gpu = torch.cuda.mem_get_info()[0] / GiB
    except ImportError:
        pass
    ram = None
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                ram = int(line.split()[1]) * 1024 / GiB
    if ram is None:
        import os

        ram = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / GiB
    return gpu, ram


def plan_load(config: dict[str, Any], name: str, device: Device = "auto",
              load_in_4bit: bool | None = None,
              memory: tuple[float | None, float] | None = None) -> LoadPlan:
    """How to load `name` here, or one line saying why it cannot be (with the estimate)."""
    gpu, ram = memory or free_memory()
    quantized = is_prequantized(config) or bool(load_in_4bit)
    if device == "cuda" and gpu is None:
        raise UserError(f"{name}: device cuda asked for, but this machine has no CUDA GPU "
                        f"visible to torch; {GGUF_ROUTE}")
    if gpu is not None and device != "cpu":
        need = estimate_gib(config, 0.5 if quantized else 2)
        if need > gpu:
            kind = "in 4 bits" if quantized else "in bf16"
            raise UserError(f"{name}: needs about {need:.1f} GiB of GPU memory {kind}, the GPU "
                            f"has {gpu:.1f} GiB free; use a larger GPU, {GGUF_ROUTE}")
        return LoadPlan("cuda", "bfloat16", quantized, round(need, 2))
    if is_prequantized(config):
        raise UserError(f"{name}: its weights are 4-bit bitsandbytes, which load only on a "
                        f"CUDA GPU (about {estimate_gib(config, 0.5):.1f} GiB); this machine "
                        f"has none. Run it on a GPU, {GGUF_ROUTE}")
    need = estimate_gib(config, 4)
    if need > ram:
        raise UserError(f"{name}: needs about {need:.1f} GiB of memory in fp32 on the CPU, "
                        f"this machine has {ram:.1f} GiB available; run it on a GPU, "
                        f"{GGUF_ROUTE}")
    return LoadPlan("cpu", "float32", False, round(need, 2))
