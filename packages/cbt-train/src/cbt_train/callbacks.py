"""Trainer callbacks: loss curves through dvclive, a stop on NaN loss, a record of the losses."""

from __future__ import annotations

import math
from pathlib import Path

from transformers import TrainerCallback

from cbt_schema.errors import UserError


class NonFiniteLoss(UserError):
    """The loss became NaN or infinite: training stopped, nothing was written."""


class LossGuard(TrainerCallback):
    """Raise as soon as a logged train or eval loss is NaN or infinite."""

    def on_log(self, args, state, control, logs=None, **kwargs):
        for key in ("loss", "eval_loss"):
            value = (logs or {}).get(key)
            if value is not None and not math.isfinite(value):
                raise NonFiniteLoss(
                    f"train: {key.replace('_', ' ')} became {value} at step {state.global_step}; "
                    f"stopped before writing the adapter (lower train.learning_rate, or check "
                    f"the data)")


class LossHistory(TrainerCallback):
    """Every logged train/eval loss with its step (for metrics and tests)."""

    def __init__(self) -> None:
        self.train: list[tuple[int, float]] = []
        self.eval: list[tuple[int, float]] = []

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        if "loss" in logs:
            self.train.append((state.global_step, float(logs["loss"])))
        if "eval_loss" in logs:
            self.eval.append((state.global_step, float(logs["eval_loss"])))


class DvcLiveLogger(TrainerCallback):
    """Write train/loss and eval/loss per optimizer step as dvclive plots (TSV per metric).

    dvclive is told not to touch dvc.yaml or create experiments: the train stage declares the
    plots itself. Rows hold the step and the value, no timestamp, so equal training writes
    equal files. A resumed run keeps the steps already written.
    """

    def __init__(self, folder: Path, resume: bool) -> None:
        try:
            from dvclive import Live
        except ImportError:  # cbt-train alone does not pull DVC in: same files, written here
            Live = _PlainLive
        self.live = Live(str(folder), resume=resume, dvcyaml=None, save_dvc_exp=False,
                         report=None, monitor_system=False)
        self._last: dict[str, int] = {}

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        names = {"loss": "train/loss", "eval_loss": "eval/loss",
                 "learning_rate": "train/learning_rate"}
        picked = {names[k]: float(v) for k, v in logs.items()
                  if k in names and self._last.get(names[k]) != state.global_step}
        if picked:
            self.live.step = state.global_step
            for name, value in picked.items():
                self.live.log_metric(name, value, timestamp=False)
                self._last[name] = state.global_step

    def close(self, summary: dict) -> None:
        for key, value in summary.items():
            self.live.summary[key] = value
        self.live.make_summary()
        self.live.end()


class _PlainLive:
    """The part of dvclive.Live the logger uses, writing dvclive's own file layout
    (plots/metrics/<name>.tsv with step and value; metrics.json), for installs of cbt-train
    without DVC (dvclive depends on the whole of DVC)."""

    def __init__(self, folder: str, resume: bool, **_: object) -> None:
        import shutil

        self.folder, self.step, self.summary = Path(folder), 0, {}
        if not resume and self.folder.exists():
            shutil.rmtree(self.folder)
        (self.folder / "plots/metrics").mkdir(parents=True, exist_ok=True)

    def log_metric(self, name: str, value: float, timestamp: bool = False) -> None:
        """Append (step, value); `timestamp` is dvclive's argument, never written here."""
        path = self.folder / "plots/metrics" / f"{name}.tsv"
        path.parent.mkdir(parents=True, exist_ok=True)
        leaf = name.rsplit("/", 1)[-1]
        with path.open("a", encoding="utf-8") as fh:
            if fh.tell() == 0:
                fh.write(f"step\t{leaf}\n")
            fh.write(f"{self.step}\t{value}\n")
        node = self.summary
        *parents, leaf_key = name.split("/")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf_key] = value

    def make_summary(self) -> None:
        import json

        (self.folder / "metrics.json").write_text(json.dumps({"step": self.step, **self.summary},
                                                             indent=4) + "\n")

    def end(self) -> None:
        pass
