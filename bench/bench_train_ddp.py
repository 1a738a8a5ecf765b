"""Data-parallel rehearsal figures: `cbt-train train` on the local student (models/base,
SmolLM2-135M) in one process against two CPU processes (gloo), at the same global batch.

  uv run python bench/bench_train_ddp.py [--steps 8] [--train data/splits/train.jsonl]

One process: batch 1 x accumulation 2 (two threads). Two processes: batch 1 x accumulation 1
each (one thread each, train.distributed ddp). Examples in file order (train.sampling
sequential), so both runs take the same examples at each step: their loss curves should agree
to float rounding. Prints and writes wall time, training tokens/s, the largest difference
between the two curves, and the machine's cores and load.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import yaml

from cbt_schema.timings import TIMINGS_DIR_ENV, read_timings
from cbt_testing.bench import ROOT, timed_subprocess, write_results


def run(tmp: Path, name: str, args: argparse.Namespace, **train) -> dict:
    values = {"backend": "hf", "base_model": str(ROOT / "models/base"), "max_length": 1024,
              "batch_size": 1, "max_steps": args.steps, "warmup_steps": 1, "save_steps": 100,
              "eval_steps": 1000, "sampling": "sequential", "learning_rate": 1e-3,
              "lora": {"r": 16, "alpha": 32, "target_modules": ["all-linear"]}, **train}
    params = tmp / f"{name}.yaml"
    params.write_text(yaml.safe_dump({"train": values}))
    cli = str(Path(sys.executable).parent / "cbt-train")
    # the run's speed and memory (cbt_schema.timings) go to a folder of its own
    os.environ[TIMINGS_DIR_ENV] = str(tmp / name / "timings")
    timed = timed_subprocess([cli, "train", "--params", str(params), "--train", args.train,
                              "--test", args.test, "--out", str(tmp / name / "adapter"),
                              "--metrics", str(tmp / name / "train.json"),
                              "--live", str(tmp / name / "live"),
                              "--checkpoints", str(tmp / name / "checkpoints")])
    metrics = json.loads((tmp / name / "train.json").read_text())
    speed = read_timings("train")
    rows = (tmp / name / "live/plots/metrics/train/loss.tsv").read_text().split("\n")[1:]
    curve = [float(line.split("\t")[1]) for line in rows if line]
    return {"wall_s": timed["wall_s"], "train_s": speed["train_s"],
            "tokens_per_s": speed["tokens_per_s"], "s_per_step": speed["s_per_step"],
            "processes": metrics["processes"], "global_batch": metrics["global_batch"],
            "final_train_loss": metrics["final_train_loss"], "curve": curve}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--train", default=str(ROOT / "data/splits/train.jsonl"))
    parser.add_argument("--test", default=str(ROOT / "data/splits/test.jsonl"))
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        one = run(Path(tmp), "one", args, grad_accum=2)
        two = run(Path(tmp), "two", args, grad_accum=1, distributed="ddp", processes=2)
    gap = max(abs(a - b) for a, b in zip(one["curve"], two["curve"], strict=True))
    write_results("train_ddp", {"ddp_rehearsal": {
        "model": "models/base (SmolLM2-135M-Instruct, fp32, LoRA r=16 on all linear layers)",
        "steps": args.steps, "global_batch": one["global_batch"],
        "one_process": one, "two_processes": two, "max_curve_difference": gap,
        "speedup": round(one["train_s"] / two["train_s"], 2),
        "load_average_before": round(load, 2),
        "note": "two CPU processes share the same 2 cores a single process uses with 2 "
                "threads: this measures the machinery, not a multi-GPU speed-up"}})


if __name__ == "__main__":
    main()
