"""Find and check model folders (base, adapter, merged) before loading them in transformers."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from cbt_schema.errors import UserError

log = logging.getLogger(__name__)

ADAPTER_CONFIG = "adapter_config.json"


@dataclass(frozen=True)
class ModelSpec:
    """What to load: a base (or merged) model and an optional peft adapter."""

    base: str
    adapter: Path | None = None


def _looks_local(name: str) -> bool:
    return name.startswith((".", "/", "~")) or Path(name).exists() or name.count("/") != 1


def read_adapter_config(adapter: str | Path) -> dict:
    path = Path(adapter)
    if not path.is_dir():
        raise UserError(f"{path}: adapter folder not found (expected a peft adapter folder with "
                        f"{ADAPTER_CONFIG}, e.g. models/adapter from `dvc repro train`)")
    config = path / ADAPTER_CONFIG
    if not config.is_file():
        raise UserError(f"{path}: not a peft adapter (no {ADAPTER_CONFIG})")
    try:
        return json.loads(config.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UserError(f"{config}:{exc.lineno}: not valid JSON ({exc.msg})") from None


def hub_id_of(folder: str | Path) -> str | None:
    """The hub id a base_model folder stands for (source hub: config and tokenizer only)."""
    manifest = Path(folder) / "base_model.json"
    if not manifest.is_file() or any(Path(folder).glob("*.safetensors")):
        return None
    data = json.loads(manifest.read_text(encoding="utf-8"))
    return data.get("name") if data.get("source") == "hub" else None


def resolve(base: str | Path | None, adapter: str | Path | None) -> ModelSpec:
    """Work out base and adapter: a base folder that is really an adapter is treated as one,
    a missing base is taken from the adapter's `base_model_name_or_path`, and a base_model
    folder of a hub model (config and tokenizer only) stands for its hub id."""
    if base is not None and (hub := hub_id_of(base)):
        base = hub
    if base is not None and (Path(base) / ADAPTER_CONFIG).is_file() and adapter is None:
        base, adapter = None, base
    if adapter is not None:
        config = read_adapter_config(adapter)
        if base is None:
            base = config.get("base_model_name_or_path")
            if not base:
                raise UserError(f"{adapter}/{ADAPTER_CONFIG}: base_model_name_or_path is empty; "
                                "pass the base model explicitly (--base)")
    if base is None:
        raise UserError("no model given: pass a base or merged model folder (--base), an "
                        "adapter (--adapter) or a GGUF file (--gguf)")
    base = str(base)
    if _looks_local(base) and not (Path(base).expanduser() / "config.json").is_file():
        raise UserError(f"{base}: model folder not found or has no config.json (expected a "
                        "transformers model folder, e.g. models/base from `dvc repro base_model`)")
    return ModelSpec(base=base, adapter=Path(adapter) if adapter is not None else None)


def _same_base(recorded: str, given: str) -> bool:
    if not recorded:
        return True
    a, b = Path(recorded).expanduser(), Path(given).expanduser()
    if a.exists() and b.exists():
        return a.resolve() == b.resolve()
    return recorded.rstrip("/").split("/")[-1].lower() == given.rstrip("/").split("/")[-1].lower()


def check_adapter_fits(model, spec: ModelSpec) -> None:
    """Fail with one line if the adapter's LoRA weights do not fit the base model's layers.

    peft would raise a long size-mismatch error; this names the layer and both shapes. A base
    whose name differs from the one recorded in the adapter but whose shapes fit only warns.
    """
    assert spec.adapter is not None
    config = read_adapter_config(spec.adapter)
    recorded = str(config.get("base_model_name_or_path") or "")
    weights = spec.adapter / "adapter_model.safetensors"
    if not weights.is_file():
        raise UserError(f"{spec.adapter}: no adapter_model.safetensors in the adapter folder")
    from safetensors import safe_open

    hint = f" (the adapter says it was trained on {recorded!r})" if recorded else ""
    with safe_open(str(weights), framework="pt") as f:
        for key in f.keys():  # noqa: SIM118 (safe_open is not a dict)
            if ".lora_A." not in key and ".lora_B." not in key:
                continue
            module_name = key.split(".lora_")[0].removeprefix("base_model.model.")
            try:
                module = model.get_submodule(module_name)
            except AttributeError:
                raise UserError(f"{spec.adapter}: adapter layer {module_name} does not exist in "
                                f"base {spec.base}{hint}") from None
            shape = tuple(f.get_slice(key).get_shape())
            fits = (shape[1] == getattr(module, "in_features", shape[1]) if ".lora_A." in key
                    else shape[0] == getattr(module, "out_features", shape[0]))
            if not fits:
                want = (getattr(module, "in_features", "?"), getattr(module, "out_features", "?"))
                raise UserError(f"{spec.adapter}: adapter does not fit base {spec.base}: layer "
                                f"{module_name} is {want[0]}->{want[1]} but the adapter's {key} "
                                f"has shape {list(shape)}{hint}")
    if not _same_base(recorded, spec.base):
        log.warning("cbt-infer: warning: adapter %s was trained on %r, loading it on %r "
                    "(shapes fit)", spec.adapter, recorded, spec.base)


def load_transformers(spec: ModelSpec, dtype: str | None = None, device: str = "auto",
                      load_in_4bit: bool | None = None):
    """Load tokenizer and model (with the adapter applied, not merged); eval mode.

    Where: CUDA when there is a GPU (bf16, or 4-bit for a bitsandbytes checkpoint or with
    load_in_4bit), else the CPU in fp32; a model that does not fit is refused first, with the
    estimate (cbt_infer.device). `dtype` overrides the plan's."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    from cbt_infer.device import is_prequantized, plan_load

    try:
        config = AutoConfig.from_pretrained(spec.base).to_dict()
        plan = plan_load(config, spec.base, device, load_in_4bit)  # type: ignore[arg-type]
        kwargs = plan.kwargs(is_prequantized(config))
        if dtype is not None:
            kwargs["dtype"] = getattr(torch, dtype)
        tokenizer = AutoTokenizer.from_pretrained(spec.base)
        model = AutoModelForCausalLM.from_pretrained(spec.base, **kwargs)
    except (OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"{spec.base}: cannot load the model ({first})") from None
    if spec.adapter is not None:
        from peft import PeftModel

        from cbt_schema.quiet import known_library_warnings

        check_adapter_fits(model, spec)
        with known_library_warnings():
            model = PeftModel.from_pretrained(model, str(spec.adapter))
    model.eval()
    return model, tokenizer
