"""docs/team-workflow.md's reproducibility-tolerance block, rendered from params.yaml."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def repro_tolerance() -> str:
    """What scripts/check_repro.py accepts for the train stage, and how figures are rounded."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    tolerance = float(params["train"]["loss_tolerance"])
    return (
        f"Tolerance: `train.loss_tolerance` in `params.yaml`, {tolerance:g}. `check_repro.py` "
        f"passes the `train` stage when every loss in `metrics/train.json` is within {tolerance:g}"
        " of the committed value (absolute difference); training on another CPU differs in the "
        "last float digits, far less than that. These pages and `reports/eval.md` show "
        "losses to at most 3 decimals and perplexity to 1, so a rerun within the tolerance "
        "shows the same figures (a value on a rounding boundary can still move its last digit); "
        "the metrics files keep full precision. Wall times, speeds, memory and load are not "
        "results: each stage writes them to `timings/<stage>.json` (git-ignored, not in "
        "`dvc.yaml`), so `metrics/`, the adapter's model card, `reports/eval.md` and `dvc.lock` "
        "change only when a result does.")
