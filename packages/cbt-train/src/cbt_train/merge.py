"""Merge a LoRA adapter into its base model: one plain model folder for inference/export.

The one merge of the project: `cbt-train merge` and `cbt-infer export` (before converting to
GGUF) both call merge_adapter.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cbt_schema.atomic import atomic_dir
from cbt_schema.errors import UserError
from cbt_schema.student import TASK_FILE

log = logging.getLogger(__name__)


def merge_adapter(adapter: Path | None, out: Path, base: str | None = None, *,
                  tokenizer: Path | None = None,
                  check: Callable[[Any], None] | None = None) -> Path:
    """Write base + adapter merged into `out` (safetensors + tokenizer); return `out`.

    `base` defaults to the adapter's base_model_name_or_path; with no adapter the base alone
    is written as a plain folder. The tokenizer comes from `tokenizer` (a folder; default the
    adapter's, else the base's), its tokenizer.json copied verbatim. A 4-bit (bitsandbytes)
    base is dequantized first: LoRA merges into 16-bit weights, and llama.cpp converts those.
    `check(model)` runs on the loaded base before the adapter is applied (a caller's clearer
    error for an adapter that does not fit). `out` is replaced atomically."""
    if adapter is not None:
        config = adapter / "adapter_config.json"
        if not config.is_file():
            raise UserError(f"{adapter}: not a LoRA adapter folder (no adapter_config.json)")
        base = base or json.loads(config.read_text())["base_model_name_or_path"]
    if not base:
        raise UserError("nothing to merge: give an adapter folder or a base model")
    from cbt_train.preflight import load_config

    load_config(base)  # a clear error for a missing base before loading weights

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    t0 = time.perf_counter()
    dtype = torch.bfloat16 if torch.cuda.is_available() else torch.float32
    model = AutoModelForCausalLM.from_pretrained(base, dtype=dtype)
    if getattr(model, "is_loaded_in_4bit", False):
        model = model.dequantize()
    if adapter is not None:
        from peft import PeftModel

        from cbt_schema.quiet import known_library_warnings

        if check is not None:
            check(model)
        with known_library_warnings():
            model = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    source = tokenizer or adapter or Path(base)
    tok = AutoTokenizer.from_pretrained(source)
    with atomic_dir(out) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        tok.save_pretrained(tmp)
        if (Path(source) / "tokenizer.json").is_file():  # saving may rewrite it: keep it exact
            shutil.copy2(Path(source) / "tokenizer.json", tmp / "tokenizer.json")
        if adapter is not None and (adapter / TASK_FILE).is_file():  # the task travels on
            shutil.copy2(adapter / TASK_FILE, tmp / TASK_FILE)
    log.info("merged in %.1f s", time.perf_counter() - t0)
    return Path(out)
