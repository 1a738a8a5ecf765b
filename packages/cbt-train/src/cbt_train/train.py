"""The train stage: check everything, fine-tune a LoRA adapter, write adapter, card and metrics.

Both backends share this path: the same params, the same data checks, the same SFTConfig
settings, the same outputs (models/adapter/, metrics/train.json, dvclive loss curves).
"""

from __future__ import annotations

import hashlib
import json
import resource
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from cbt_schema.errors import UserError
from cbt_schema.jsonl import write_json
from cbt_schema.params import TrainParams


@dataclass
class TrainPaths:
    train: Path
    test: Path
    out: Path
    metrics: Path
    live: Path
    checkpoints: Path = field(default_factory=lambda: Path(".cache/train-checkpoints"))


def training_template(tokenizer, base: str) -> str:
    """The chat template with {% generation %} markers for assistant-only loss."""
    from cbt_train.base_model import TRAINING_TEMPLATE
    from cbt_train.chat_template import KNOWN, has_generation_markers

    stored = Path(base) / TRAINING_TEMPLATE
    if stored.is_file():
        return stored.read_text(encoding="utf-8")
    original = tokenizer.chat_template
    if has_generation_markers(original):
        return original
    if original in KNOWN:
        return KNOWN[original]
    from trl.chat_template_utils import get_training_chat_template

    try:
        marked = get_training_chat_template(tokenizer)
    except ValueError as exc:
        raise UserError(f"train.base_model: {base}'s chat template has no known training "
                        f"variant for assistant-only loss ({exc})") from None
    return marked or original


def fingerprint(params: TrainParams, seed: int, backend: str, data: list[str],
                base: str) -> str:
    """What a checkpoint must match to be resumed: params, seed, backend, data and base."""
    from cbt_train.base_model import read_manifest

    blob = json.dumps({"params": params.model_dump(mode="json"), "seed": seed,
                       "backend": backend, "data": data, "base": base,
                       "base_manifest": read_manifest(base) if Path(base).is_dir() else {}},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def _resume_point(checkpoints: Path, print_key: str, resume: bool) -> Path | None:
    """The last checkpoint when it belongs to this exact run, else None (and a clean folder)."""
    stamp = checkpoints / "fingerprint.txt"
    found = sorted(checkpoints.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    if resume and found and stamp.is_file() and stamp.read_text() == print_key:
        return found[-1]
    if found:
        why = "--no-resume" if not resume else "params, data or base model changed"
        print(f"train: not resuming from {checkpoints} ({why}); starting over", file=sys.stderr)
    shutil.rmtree(checkpoints, ignore_errors=True)
    checkpoints.mkdir(parents=True)
    stamp.write_text(print_key)
    return None


def _trim_live(folder: Path, step: int) -> None:
    """Drop dvclive rows logged after the checkpoint a run resumes from."""
    for tsv in (folder / "plots" / "metrics").rglob("*.tsv"):
        lines = tsv.read_text().splitlines()
        keep = lines[:1] + [ln for ln in lines[1:] if int(ln.split("\t")[0]) <= step]
        tsv.write_text("\n".join(keep) + "\n")


def sft_kwargs(params: TrainParams, seed: int, output_dir: Path) -> dict:
    """SFTConfig settings shared by both backends (trl 1.x names)."""
    per_epoch = "epoch" if params.eval_steps == 0 else "steps"
    return dict(
        output_dir=str(output_dir), seed=seed, data_seed=seed,
        per_device_train_batch_size=params.batch_size,
        per_device_eval_batch_size=params.eval_batch_size,
        gradient_accumulation_steps=params.grad_accum, learning_rate=params.learning_rate,
        lr_scheduler_type=params.lr_scheduler, optim=params.optim,
        weight_decay=params.weight_decay, warmup_steps=params.warmup_steps,
        num_train_epochs=params.epochs, max_steps=params.max_steps,
        logging_steps=params.logging_steps, logging_nan_inf_filter=False,
        eval_strategy=per_epoch, eval_steps=params.eval_steps or None,
        save_strategy="steps", save_steps=params.save_steps,
        save_total_limit=params.save_total_limit, max_length=params.max_length,
        gradient_checkpointing=params.gradient_checkpointing,
        gradient_checkpointing_kwargs={"use_reentrant": False},
        include_num_input_tokens_seen="non_padding", report_to=[], dataloader_num_workers=0,
        disable_tqdm=False, packing=False, dataset_num_proc=None,
    )


def run_training(params: TrainParams, seed: int, paths: TrainPaths, resume: bool = True,
                 callbacks: list | None = None) -> dict:
    """Train and write every output; return the metrics. Bad input raises UserError first."""
    from cbt_train.data import load_split
    from cbt_train.preflight import resolve_backend

    started = time.perf_counter()
    train, test = load_split(paths.train, "train"), load_split(paths.test, "test")
    backend = resolve_backend(params.backend)
    if backend == "unsloth":
        import unsloth  # noqa: F401  (before transformers, so its patches apply)

    from transformers import AutoTokenizer

    from cbt_train.callbacks import DvcLiveLogger, LossGuard, LossHistory
    from cbt_train.data import measure
    from cbt_train.preflight import (
        check_settings,
        check_targets,
        linear_module_names,
        load_config,
    )

    base = params.base_model
    config = load_config(base)
    check_settings(params, config, backend, len(train.examples))
    check_targets(list(params.lora.target_modules), linear_module_names(config))
    tokenizer = AutoTokenizer.from_pretrained(base)
    original_template = tokenizer.chat_template
    template = training_template(tokenizer, base)
    for split in (train, test):
        measure(split, tokenizer, template, params.max_length)

    key = fingerprint(params, seed, backend, [train.sha256, test.sha256], base)
    checkpoint = _resume_point(paths.checkpoints, key, resume)
    if checkpoint:
        _trim_live(paths.live, int(checkpoint.name.split("-")[1]))
        print(f"train: resuming from {checkpoint}", file=sys.stderr)
    live = DvcLiveLogger(paths.live, resume=checkpoint is not None)
    history = LossHistory()
    module = __import__(f"cbt_train.backends.{backend}", fromlist=["build"])
    trainer, tokenizer = module.build(
        params, seed, base, template, train.conversations(), test.conversations(),
        sft_kwargs(params, seed, paths.checkpoints),
        [LossGuard(), history, live, *(callbacks or [])])

    from cbt_train.losses import encode

    encoded = {name: encode(split.conversations(), tokenizer, template, params.max_length)
               for name, split in (("train", train), ("test", test))}
    initial = _losses(trainer, encoded)
    tokens_before = trainer.state.num_input_tokens_seen
    t0 = time.perf_counter()
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    train_s = time.perf_counter() - t0
    final = _losses(trainer, encoded)
    if checkpoint:
        tokens_before = _checkpoint_tokens(checkpoint)
    steps = trainer.state.global_step
    first_step = int(checkpoint.name.split("-")[1]) if checkpoint else 0
    session_steps = max(steps - first_step, 1)
    tokens = trainer.state.num_input_tokens_seen - tokens_before
    metrics = {
        "backend": backend, "device": _device(), "base_model": base,
        "examples": {"train": len(train.examples), "test": len(test.examples)},
        "tokens": {"train": train.tokens, "train_assistant": train.trained_tokens,
                   "test": test.tokens},
        "steps": steps, "epochs": round(trainer.state.epoch or 0.0, 3),
        "resumed_from_step": first_step or None,
        "loss_on": params.loss_on,
        "initial_train_loss": initial["train"], "final_train_loss": final["train"],
        "initial_test_loss": initial["test"], "final_test_loss": final["test"],
        "losses": {kind: {f"{when}_{split}": losses[kind][split]
                          for when, losses in (("initial", initial), ("final", final))
                          for split in ("train", "test")}
                   for kind in ("assistant", "all")},
        "last_logged_train_loss": history.train[-1][1] if history.train else None,
        "tokens_per_s": round(tokens / train_s, 1), "s_per_step": round(train_s / session_steps, 3),
        "train_s": round(train_s, 1), "wall_s": round(time.perf_counter() - started, 1),
        **_peak_memory(),
    }
    from cbt_train.card import write_adapter

    write_adapter(trainer.model, tokenizer, original_template, paths.out, params, seed,
                  {"train": train.sha256, "test": test.sha256}, metrics)
    write_json(paths.metrics, metrics)
    live.close({k: v for k, v in metrics.items() if isinstance(v, int | float)})
    shutil.rmtree(paths.checkpoints, ignore_errors=True)
    return metrics


def _losses(trainer, encoded: dict) -> dict:
    """Loss on the test and train splits, in eval mode (deterministic): the trainer's own
    (the loss trained on) under "test"/"train", and both definitions (cbt_train.losses) under
    "assistant"/"all"."""
    from cbt_train.losses import both_losses

    test = trainer.evaluate()["eval_loss"]
    train = trainer.evaluate(eval_dataset=trainer.train_dataset,
                             metric_key_prefix="train_eval")["train_eval_loss"]
    return {"test": float(test), "train": float(train), **both_losses(trainer, encoded)}


def _checkpoint_tokens(checkpoint: Path) -> int:
    state = json.loads((checkpoint / "trainer_state.json").read_text())
    return int(state.get("num_input_tokens_seen", 0))


def _device() -> str:
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"


def _peak_memory() -> dict:
    import torch

    out = {"peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    if torch.cuda.is_available():
        out["peak_gpu_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return out
