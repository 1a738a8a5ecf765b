"""Merge a LoRA adapter into its base model: one plain model folder for inference/export."""

from __future__ import annotations

import json
import time
from pathlib import Path

from cbt_schema.atomic import atomic_dir
from cbt_schema.errors import UserError


def merge_adapter(adapter: Path, out: Path, base: str | None = None) -> Path:
    """Write base + adapter merged into `out` (safetensors + tokenizer); return `out`."""
    config = adapter / "adapter_config.json"
    if not config.is_file():
        raise UserError(f"{adapter}: not a LoRA adapter folder (no adapter_config.json)")
    base = base or json.loads(config.read_text())["base_model_name_or_path"]
    from cbt_train.preflight import load_config

    load_config(base)  # a clear error for a missing base before loading weights

    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    t0 = time.perf_counter()
    dtype = torch.bfloat16 if torch.cuda.is_available() else torch.float32
    model = AutoModelForCausalLM.from_pretrained(base, dtype=dtype)
    merged = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    tokenizer = AutoTokenizer.from_pretrained(adapter)

    with atomic_dir(out) as tmp:
        merged.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
    print(f"merged in {time.perf_counter() - t0:.1f} s", flush=True)
    return Path(out)
