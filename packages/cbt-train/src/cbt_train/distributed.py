"""More than one process: the launcher, the checks, and who writes.

`train.distributed: ddp | fsdp` with `train.processes: N` makes `cbt-train train` start itself N
times under torchrun (`python -m torch.distributed.run --standalone`), so `dvc repro` runs the
same command on one process or many. transformers' Trainer then wraps the model (DDP, or FSDP
from the settings below), splits each global batch across the processes (gloo on CPU, NCCL on
GPUs) and writes checkpoints from rank 0; the train stage writes its outputs from rank 0 only.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys

from cbt_schema.errors import UserError
from cbt_schema.params import TrainParams

log = logging.getLogger(__name__)

LAUNCHED = "CBT_TRAIN_LAUNCHED"  # set in the processes this module starts


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank() -> int:
    return int(os.environ.get("RANK", "0"))


def local_rank() -> int:
    return int(os.environ.get("LOCAL_RANK", "0"))


def is_main() -> bool:
    return rank() == 0


def launch_command(params: TrainParams, argv: list[str]) -> list[str]:
    """torchrun on this machine: `processes` copies of `cbt-train <argv>`."""
    return [sys.executable, "-m", "torch.distributed.run", "--standalone",
            f"--nproc_per_node={params.processes}", "-m", "cbt_train.cli", *argv]


def relaunch(params: TrainParams, argv: list[str]) -> int | None:
    """Start the processes and wait for them (their exit status), or None when this process
    should train itself: one process, or already one of the launched ones."""
    if params.distributed == "none" or "LOCAL_RANK" in os.environ:
        return None
    cmd = launch_command(params, argv)
    log.info("train: %s over %s processes: %s", params.distributed, params.processes,
             " ".join(cmd[1:]))
    env = {**os.environ, LAUNCHED: "1", "OMP_NUM_THREADS": os.environ.get(
        "OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // params.processes)))}
    import signal

    proc = subprocess.Popen(cmd, env=env)
    for sig in (signal.SIGINT, signal.SIGTERM):  # torchrun passes them on to the processes
        signal.signal(sig, lambda signum, _frame: proc.send_signal(signum))
    return proc.wait()


def check_world(params: TrainParams, n_train: int, cuda: bool, world: int) -> None:
    """What cannot work with this many processes, in one line each, before any model loads
    (the launcher checks before it starts them; each process checks again)."""
    if params.distributed != "none" and world != params.processes:
        raise UserError(f"train.processes is {params.processes} but {world} processes were "
                        "started; let cbt-train start them (cbt-train train) or match the "
                        "launcher's --nproc_per_node")
    check_divides(world, n_train)
    if cuda and world > 1:
        import torch

        if torch.cuda.device_count() < world:
            raise UserError(f"train.processes: {world} processes but "
                            f"{torch.cuda.device_count()} visible GPUs; one process per GPU")
    if params.distributed == "fsdp":
        check_fsdp(params, cuda)


def check_divides(world: int, n_train: int) -> None:
    if world > 1 and n_train % world:
        raise UserError(f"train.processes: the {n_train} training examples do not divide among "
                        f"{world} processes (the sampler would repeat {world - n_train % world} "
                        "of them); use a process count that divides them, or change "
                        "dataset.test_size")


def check_fsdp(params: TrainParams, cuda: bool) -> None:
    if not cuda:
        raise UserError("train.distributed: fsdp needs CUDA GPUs (transformers' Trainer shards "
                        "only on GPUs; on CPU it would quietly train DDP instead); use "
                        "distributed: ddp for a CPU rehearsal")
    if params.load_in_4bit:
        from importlib.metadata import PackageNotFoundError, version

        from packaging.version import Version

        try:
            found = Version(version("bitsandbytes"))
        except PackageNotFoundError:
            found = None
        if found is None or found < Version("0.43"):
            raise UserError(f"train.load_in_4bit with distributed fsdp: sharding 4-bit weights "
                            f"needs bitsandbytes >= 0.43 (found {found or 'none'}); upgrade "
                            "it, or use distributed: ddp")


def fsdp_settings(config) -> dict:
    """SFTConfig settings for FSDP: full sharding, each decoder layer its own unit."""
    from transformers import AutoModelForCausalLM

    with __import__("torch").device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    layer = type(model.model.layers[0]).__name__
    return {"fsdp": "full_shard auto_wrap",
            "fsdp_config": {"transformer_layer_cls_to_wrap": [layer], "use_orig_params": True}}
