"""Checks that run before any weights load or any step is taken; each failure is one clear line.

All of them use only the model's config (target modules are read from a weightless copy built
on the meta device), so a bad params file fails in seconds even for an 8B model.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from cbt_schema.errors import UserError
from cbt_schema.params import TrainParams


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def resolve_backend(backend: str) -> str:
    """`auto` -> unsloth when CUDA and unsloth are both present, else hf."""
    has_unsloth = importlib.util.find_spec("unsloth") is not None
    if backend == "auto":
        return "unsloth" if has_unsloth and cuda_available() else "hf"
    if backend == "unsloth" and not has_unsloth:
        raise UserError("train.backend: unsloth is not installed; install the extra "
                        "(uv sync --all-packages --extra unsloth, or pip install "
                        "'cbt-train[unsloth]') or set train.backend: hf")
    return backend


def is_local(name: str) -> bool:
    """A folder on disk (existing, or written like a path), as opposed to a hub id."""
    return (Path(name).exists() or name.startswith((".", "/", "~", "models/"))
            or name.count("/") > 1)


def load_config(name: str):
    """The base model's config; an unknown path or an unreachable id is a UserError."""
    from transformers import AutoConfig

    if is_local(name):
        folder = Path(name).expanduser()
        if not (folder / "config.json").is_file():
            hint = (" (run the base_model stage: cbt-train base-model)"
                    if name.rstrip("/").endswith("models/base") else "")
            raise UserError(f"train.base_model: {name} is not a model folder (no "
                            f"config.json){hint}")
    try:
        return AutoConfig.from_pretrained(name)
    except (OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"train.base_model: cannot load {name!r} ({first})") from None


def linear_module_names(config) -> list[str]:
    """Names (last path part) of the linear layers LoRA can target, from a weightless model."""
    import torch
    from accelerate import init_empty_weights
    from transformers import AutoModelForCausalLM

    with init_empty_weights():
        model = AutoModelForCausalLM.from_config(config)
    names = {name.rsplit(".", 1)[-1] for name, module in model.named_modules()
             if isinstance(module, torch.nn.Linear)}
    names.discard("lm_head")
    return sorted(names)


def check_targets(targets: list[str], available: list[str]) -> None:
    if targets == ["all-linear"]:
        return
    missing = [t for t in targets if t not in available]
    if missing:
        raise UserError(f"train.lora.target_modules: {', '.join(missing)} not in the model "
                        f"(its linear layers: {', '.join(available)}; or use [all-linear])")


def check_settings(params: TrainParams, config, backend: str, n_train: int,
                   world: int = 1) -> None:
    """Batch, length, optimizer, scheduler and device settings that cannot work."""
    from transformers.trainer_utils import SchedulerType
    from transformers.training_args import OptimizerNames

    effective = params.batch_size * params.grad_accum * world
    if effective > n_train:
        times = f" x {world} processes" if world > 1 else ""
        raise UserError(f"train.batch_size x train.grad_accum{times} = {effective} is more "
                        f"than the {n_train} training examples: not one full optimizer step "
                        "per epoch")
    limit = getattr(config, "max_position_embeddings", None)
    if limit and params.max_length > limit:
        raise UserError(f"train.max_length: {params.max_length} is more than the model's "
                        f"{limit} positions")
    optims = [o.value for o in OptimizerNames]
    if params.optim not in optims:
        raise UserError(f"train.optim: unknown optimizer {params.optim!r} (allowed: "
                        f"{', '.join(optims)})")
    schedulers = [s.value for s in SchedulerType]
    if params.lr_scheduler not in schedulers:
        raise UserError(f"train.lr_scheduler: unknown scheduler {params.lr_scheduler!r} "
                        f"(allowed: {', '.join(schedulers)})")
    needs_bnb = params.load_in_4bit or "8bit" in params.optim
    if needs_bnb and importlib.util.find_spec("bitsandbytes") is None:
        key = "train.load_in_4bit" if params.load_in_4bit else "train.optim"
        raise UserError(f"{key}: needs bitsandbytes (pip install 'cbt-train[bnb]')")
    if params.load_in_4bit and not cuda_available():
        raise UserError("train.load_in_4bit: 4-bit loading needs a CUDA GPU; set it to false "
                        "to train in full precision on this machine")
