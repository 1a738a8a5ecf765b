"""The train stage: check everything, fine-tune a LoRA adapter, write adapter, card and metrics.

Both backends share this path: the same params, the same data checks, the same SFTConfig
settings, the same outputs (models/adapter/, metrics/train.json, dvclive loss curves). Speed
and memory (tokens/s, s/step, wall times, peak RSS and GPU memory) go to timings/train.json
(cbt_schema.timings), so the outputs change only when the training's results do.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import resource
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from cbt_schema.errors import UserError
from cbt_schema.jsonl import write_json
from cbt_schema.params import TrainParams
from cbt_schema.paths import TRAIN_CHECKPOINTS
from cbt_schema.timings import write_timings
from cbt_train.chat_template import encode, training_template
from cbt_train.checkpoints import (
    checkpoint_tokens,
    find_checkpoint,
    prepare_checkpoints,
    trim_live,
)

log = logging.getLogger(__name__)


@dataclass
class TrainPaths:
    train: Path
    test: Path
    out: Path
    metrics: Path
    live: Path
    checkpoints: Path = field(default_factory=lambda: Path(TRAIN_CHECKPOINTS))


def fingerprint(params: TrainParams, seed: int, backend: str, data: list[str],
                base: str) -> str:
    """What a checkpoint must match to be resumed: params, seed, backend, data and base (the
    number of processes is checked on its own, so that a change is refused, not restarted)."""
    from cbt_train.base_model import read_manifest

    kept = params.model_dump(mode="json", exclude={"distributed", "processes"})
    blob = json.dumps({"params": kept, "seed": seed,
                       "backend": backend, "data": data, "base": base,
                       "base_manifest": read_manifest(base) if Path(base).is_dir() else {}},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def checkpointing_kwargs(enabled: bool) -> dict:
    """transformers 5.24 renamed gradient_checkpointing to activation_checkpointing (the old
    name warns); the unsloth environment keeps transformers 5.17, which knows only the old."""
    import dataclasses

    from transformers import TrainingArguments

    names = {f.name for f in dataclasses.fields(TrainingArguments)}
    prefix = "activation" if "activation_checkpointing" in names else "gradient"
    return {f"{prefix}_checkpointing": enabled,
            f"{prefix}_checkpointing_kwargs": {"use_reentrant": False}}


def sft_kwargs(params: TrainParams, seed: int, output_dir: Path) -> dict:
    """SFTConfig settings shared by both backends (trl 1.x names)."""
    per_epoch = "epoch" if params.eval_steps == 0 else "steps"
    parallel = {"ddp_find_unused_parameters": False} if params.distributed == "ddp" else {}
    return dict(
        train_sampling_strategy=params.sampling, **parallel,
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
        **checkpointing_kwargs(params.gradient_checkpointing),
        include_num_input_tokens_seen="non_padding", report_to=[], dataloader_num_workers=0,
        disable_tqdm=False, packing=False, dataset_num_proc=None,
    )


def run_key(params: TrainParams, seed: int, paths: TrainPaths):
    """The splits, the backend and the checkpoint fingerprint of this run."""
    from cbt_train.data import load_split
    from cbt_train.preflight import resolve_backend

    train, test = load_split(paths.train, "train"), load_split(paths.test, "test")
    backend = resolve_backend(params.backend)
    if params.distributed != "none":
        backend = "hf"  # auto: unsloth trains on one GPU (the params refuse it by name)
    key = fingerprint(params, seed, backend, [train.sha256, test.sha256], params.base_model)
    return train, test, backend, key


def prepare_launch(params: TrainParams, seed: int, paths: TrainPaths, resume: bool,
                   allow_world_change: bool = False) -> None:
    """Before the launcher starts the processes: the data checks and the checkpoint folder."""
    from cbt_train.distributed import check_world
    from cbt_train.preflight import check_settings, cuda_available, load_config

    train, _, backend, key = run_key(params, seed, paths)
    check_world(params, len(train.examples), cuda_available(), params.processes)
    check_settings(params, load_config(params.base_model), backend, len(train.examples),
                   params.processes)
    checkpoint = prepare_checkpoints(paths.checkpoints, key, resume, params.processes,
                                     allow_world_change)
    if checkpoint:
        trim_live(paths.live, int(checkpoint.name.split("-")[1]))


def run_training(params: TrainParams, seed: int, paths: TrainPaths, resume: bool = True,
                 callbacks: list | None = None, allow_world_change: bool = False) -> dict:
    """Train and write every output; return the metrics. Bad input raises UserError first.

    In a multi-process run (train.distributed) every process trains; only rank 0 writes."""
    from cbt_train.distributed import LAUNCHED, check_world, is_main, world_size
    from cbt_train.preflight import cuda_available

    started = time.perf_counter()
    train, test, backend, key = run_key(params, seed, paths)
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
    world = world_size()
    check_world(params, len(train.examples), cuda_available(), world)
    check_settings(params, config, backend, len(train.examples), world)
    check_targets(list(params.lora.target_modules), linear_module_names(config))
    tokenizer = AutoTokenizer.from_pretrained(base)
    original_template = tokenizer.chat_template
    template = training_template(tokenizer, base)
    for split in (train, test):
        measure(split, tokenizer, template, params.max_length)

    if world > 1 and not os.environ.get(LAUNCHED):
        raise UserError("train: several processes were started by hand; run `cbt-train train` "
                        "with train.distributed and train.processes set: it prepares the "
                        "checkpoint folder once, then starts the processes itself")
    if os.environ.get(LAUNCHED):
        checkpoint = find_checkpoint(paths.checkpoints, key)
    else:
        checkpoint = prepare_checkpoints(paths.checkpoints, key, resume, world,
                                         allow_world_change)
        if checkpoint:
            trim_live(paths.live, int(checkpoint.name.split("-")[1]))
    if checkpoint and is_main():
        log.info("train: resuming from %s", checkpoint)
    main = is_main()
    live = DvcLiveLogger(paths.live, resume=checkpoint is not None) if main else None
    history = LossHistory()
    settings = sft_kwargs(params, seed, paths.checkpoints)
    if params.distributed == "fsdp":
        from cbt_train.distributed import fsdp_settings

        settings |= fsdp_settings(config)
    module = __import__(f"cbt_train.backends.{backend}", fromlist=["build"])
    trainer, tokenizer = module.build(
        params, seed, base, template, train.conversations(), test.conversations(), settings,
        [LossGuard(), history, *([live] if live else []), *(callbacks or [])])
    if params.distributed == "fsdp" and not trainer.is_fsdp_enabled:
        raise UserError("train.distributed: fsdp was asked for but the trainer did not enable "
                        "it; use distributed: ddp")

    encoded = {name: encode(split.conversations(), tokenizer, template, params.max_length)
               for name, split in (("train", train), ("test", test))}
    # Under DDP, Trainer.evaluate before the first train() changes what training computes
    # (transformers 5.17: the adapter then differs from one process's), and its eval loss
    # depends on how the processes batch the split; with several processes the losses come
    # from cbt_train.losses alone, the same figures one process reports
    trainer_eval = world == 1
    initial = _losses(trainer, encoded, params.loss_on, trainer_eval)
    # read before training: the Trainer may rotate the checkpoint away while it runs
    tokens_before = (checkpoint_tokens(checkpoint) if checkpoint
                     else trainer.state.num_input_tokens_seen)
    t0 = time.perf_counter()
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    train_s = time.perf_counter() - t0
    final = _losses(trainer, encoded, params.loss_on, trainer_eval)
    steps = trainer.state.global_step
    first_step = int(checkpoint.name.split("-")[1]) if checkpoint else 0
    session_steps = max(steps - first_step, 1)
    tokens = trainer.state.num_input_tokens_seen - tokens_before
    metrics = {
        "backend": backend, "device": _device(), "base_model": base,
        "distributed": params.distributed, "processes": world,
        "global_batch": params.batch_size * params.grad_accum * world,
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
    }
    if not main:
        return metrics
    from cbt_train.card import trained_task, write_adapter

    write_adapter(trainer.model, tokenizer, trained_task(train.examples, original_template),
                  paths.out, params, seed,
                  {"train": train.sha256, "test": test.sha256}, metrics)
    write_json(paths.metrics, metrics)
    write_timings("train", _timings(tokens, train_s, session_steps, started))
    assert live is not None
    live.close({k: v for k, v in metrics.items() if isinstance(v, int | float)})
    shutil.rmtree(paths.checkpoints, ignore_errors=True)
    return metrics


def _losses(trainer, encoded: dict, loss_on: str, trainer_eval: bool = True) -> dict:
    """Loss on the test and train splits, in eval mode (deterministic): the trainer's own
    (the loss trained on) under "test"/"train", and both definitions (cbt_train.losses) under
    "assistant"/"all". Without `trainer_eval`, "test"/"train" are cbt_train.losses' figure
    for the loss trained on (the same to rounding with the hf backend)."""
    from cbt_train.losses import both_losses

    both = both_losses(trainer, encoded)
    if not trainer_eval:
        return {"test": both[loss_on]["test"], "train": both[loss_on]["train"], **both}
    test = trainer.evaluate()["eval_loss"]
    train = trainer.evaluate(eval_dataset=trainer.train_dataset,
                             metric_key_prefix="train_eval")["train_eval_loss"]
    return {"test": float(test), "train": float(train), **both}


def _timings(tokens: int, train_s: float, steps: int, started: float) -> dict:
    """This session's speed and memory: tokens/s and s/step of the steps it ran, the time
    in trainer.train() and in the whole call, peak RSS (and peak GPU memory on CUDA)."""
    return {"tokens_per_s": round(tokens / train_s, 1), "s_per_step": round(train_s / steps, 3),
            "train_s": round(train_s, 1), "wall_s": round(time.perf_counter() - started, 1),
            **_peak_memory()}


def _device() -> str:
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"


def _peak_memory() -> dict:
    import torch

    out = {"peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    if torch.cuda.is_available():
        out["peak_gpu_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return out
