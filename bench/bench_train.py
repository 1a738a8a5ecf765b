"""Fine-tuning figures on this machine: the local profile's train stage, and unsloth's CPU path.

  uv run python bench/bench_train.py                       # hf backend, local profile
  uv run python bench/bench_train.py --unsloth-python /tmp/unsloth-venv/bin/python

Trains the local profile's recipe (params.yaml's `train` section) on synthetic chat examples
built like the dataset stage's (the project's system prompt, an event, a rendered assessment),
through the real `cbt-train train` command, and reports tokens/s, s/step, peak RSS, wall time
and the train/test loss before and after. Then asks uv whether unsloth can be installed
without CUDA packages (a dry run into a throwaway venv; the project lock is never touched)
and, given a Python that has unsloth (--unsloth-python), trains the same way with it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from cbt_schema.timings import TIMINGS_DIR_ENV
from cbt_testing.bench import timed_subprocess, write_results

ROOT = Path(__file__).resolve().parent.parent
UNSLOTH = "unsloth==2026.10.9"


def _data(folder: Path, n_train: int, n_test: int) -> None:
    from cbt_schema.jsonl import write_jsonl
    from cbt_testing.training import make_examples

    system = (ROOT / "prompts/system.txt").read_text(encoding="utf-8").strip()
    write_jsonl(folder / "train.jsonl", make_examples(n_train, system=system, findings=2))
    write_jsonl(folder / "test.jsonl", make_examples(n_test, n_train, system=system,
                                                     findings=2))


def _train(python: str, folder: Path, train: dict, name: str, env: dict | None = None) -> dict:
    params = folder / f"{name}.yaml"
    params.write_text(yaml.safe_dump({"base": {"seed": 42}, "train": train}))
    cmd = [python, "-c", "from cbt_train.cli import main; main()", "train", "--params",
           str(params), "--train", str(folder / "train.jsonl"), "--test",
           str(folder / "test.jsonl"), "--out", str(folder / name / "adapter"), "--metrics",
           str(folder / name / "train.json"), "--live", str(folder / name / "live"),
           "--checkpoints", str(folder / name / "ck"), "--no-resume"]
    old = dict(os.environ)
    timings = folder / name / "timings"  # cbt_schema.timings: speed and memory of the run
    os.environ.update({**(env or {}), TIMINGS_DIR_ENV: str(timings)})
    load_before = os.getloadavg()[0]
    try:
        run = timed_subprocess(cmd)
    finally:
        os.environ.clear()
        os.environ.update(old)
    load = round((load_before + os.getloadavg()[0]) / 2, 1)
    metrics = json.loads((folder / name / "train.json").read_text())
    speed = json.loads((timings / "train.json").read_text())
    keep = ("backend", "device", "steps", "epochs", "tokens", "initial_train_loss",
            "final_train_loss", "initial_test_loss", "final_test_loss")
    return {**{k: metrics[k] for k in keep},
            **{k: speed[k] for k in ("tokens_per_s", "s_per_step", "train_s", "peak_rss_mb")},
            "process_wall_s": run["wall_s"],
            "load_average_1min": load, "note": "2-core CPU shared with other jobs when "
            "load_average_1min > 2: figures then overstate the time an idle machine takes",
            "process_peak_rss_mb": run["peak_rss_mb"],
            "adapter_mb": round(sum(p.stat().st_size for p in (folder / name / "adapter")
                                    .iterdir()) / 2**20, 1)}


def _dry_run(extra: list[str]) -> dict:
    """What `uv pip install --dry-run` would put into a fresh venv."""
    uv = shutil.which("uv")
    if not uv:
        return {"error": "uv not on PATH"}
    with tempfile.TemporaryDirectory() as tmp:
        venv = Path(tmp) / "venv"
        subprocess.run([uv, "venv", "-q", str(venv)], check=True, capture_output=True)
        proc = subprocess.run([uv, "pip", "install", "--dry-run", "--python",
                               str(venv / "bin/python"), *extra, UNSLOTH],
                              capture_output=True, text=True)
    text = proc.stdout + proc.stderr
    packages = re.findall(r"^ \+ (\S+)==(\S+)", text, re.M)
    torch = [v for p, v in packages if p == "torch"]
    return {"ok": proc.returncode == 0, "packages": len(packages),
            "nvidia_packages": sorted(p for p, _ in packages if p.startswith("nvidia")),
            "torch": torch[0] if torch else None,
            "error": None if proc.returncode == 0 else text.strip().splitlines()[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train-examples", type=int, default=30)
    parser.add_argument("--test-examples", type=int, default=10)
    parser.add_argument("--max-steps", type=int, default=-1, help="-1: the profile's epochs")
    parser.add_argument("--unsloth-python", help="a Python with unsloth (CPU torch) installed")
    parser.add_argument("--skip-hf", action="store_true")
    args = parser.parse_args()

    from cbt_schema.params import load_params
    from cbt_train.base_model import cached_base_model

    params = load_params(ROOT / "params.yaml")
    base = ROOT / "models/base"
    base = base if (base / "config.json").is_file() else cached_base_model(params.base_model)
    train = params.train.model_dump(mode="json")
    train.update(base_model=str(base), max_steps=args.max_steps, backend="hf")
    results: dict = {"recipe": {k: train[k] for k in ("batch_size", "grad_accum", "epochs",
                                                      "learning_rate", "max_length", "lora")},
                     "examples": {"train": args.train_examples, "test": args.test_examples}}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _data(folder, args.train_examples, args.test_examples)
        if not args.skip_hf:
            results["hf_cpu"] = _train(sys.executable, folder, train, "hf")
        results["unsloth_install"] = {
            "default": _dry_run([]),
            "cpu_torch_from_/opt/wheels": _dry_run(["--find-links", "/opt/wheels",
                                                    "torch==2.13.0+cpu"])
            if Path("/opt/wheels").is_dir() else "no /opt/wheels here",
        }
        if args.unsloth_python:
            results["unsloth_cpu"] = _train(
                args.unsloth_python, folder, {**train, "backend": "unsloth"}, "unsloth",
                env={"UNSLOTH_SKIP_TORCHVISION_CHECK": "1"})
    write_results("train", results)


if __name__ == "__main__":
    main()
