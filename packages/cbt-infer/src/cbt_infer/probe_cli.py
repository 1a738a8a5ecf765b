"""cbt-infer crisis-probe: train the crisis screen's learned stage and measure the whole screen.

  cbt-infer crisis-probe --base models/local --train safety/train \\
      --heldout safety/heldout_a safety/heldout_b \\
      --out models/crisis_probe.json --metrics metrics/crisis_screen.json

--train DIR takes every crisis*.txt and ordinary*.txt in DIR (or name files with --crisis and
--ordinary). Phrase files: one text per line; blank lines and lines starting with '#' are
skipped. A held-out set PREFIX is PREFIX.crisis.txt + PREFIX.ordinary.txt; held-out sets are
only measured, never trained on or used to pick the threshold. The threshold is the one that
keeps cross-validated recall on the training crisis texts at --target-recall.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from pathlib import Path
from typing import Any

FOLDS = 5


def read_phrases(path: str | Path) -> list[str]:
    from cbt_schema.errors import UserError

    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: phrase file not found")
    lines = path.read_text(encoding="utf-8").splitlines()
    return [s for s in (line.strip() for line in lines) if s and not s.startswith("#")]


def screen_rates(flags: list[bool], labels: list[int]) -> dict[str, Any]:
    crisis = [f for f, y in zip(flags, labels, strict=True) if y]
    ordinary = [f for f, y in zip(flags, labels, strict=True) if not y]
    return {"recall": round(sum(crisis) / max(1, len(crisis)), 4),
            "false_positive_rate": round(sum(ordinary) / max(1, len(ordinary)), 4),
            "missed": len(crisis) - sum(crisis), "false_alarms": sum(ordinary)}


def _measure(texts: list[str], labels: list[int], probs: list[float], threshold: float
             ) -> dict[str, Any]:
    """Rates of the keywords, the probe at `threshold`, and both together."""
    from cbt_infer.safety import screen

    keywords = [screen(t).crisis for t in texts]
    probe = [p >= threshold for p in probs]
    return {"keywords": screen_rates(keywords, labels), "probe": screen_rates(probe, labels),
            "combined": screen_rates([k or p for k, p in zip(keywords, probe, strict=True)],
                                     labels)}


def _labelled(crisis: list[str], ordinary: list[str]) -> tuple[list[str], list[int]]:
    return crisis + ordinary, [1] * len(crisis) + [0] * len(ordinary)


def cross_validated(features: Any, labels: list[int], seed: int) -> list[float]:
    """Out-of-fold crisis probabilities (stratified folds, seeded)."""
    import torch

    from cbt_infer.crisis_probe import fit_logistic, probability

    order = list(range(len(labels)))
    random.Random(seed).shuffle(order)
    fold_of = {}
    for label in (0, 1):
        members = [i for i in order if labels[i] == label]
        fold_of |= {i: k % FOLDS for k, i in enumerate(members)}
    y = torch.tensor(labels, dtype=torch.float32)
    out = [0.0] * len(labels)
    for fold in range(FOLDS):
        train = [i for i in range(len(labels)) if fold_of[i] != fold]
        test = [i for i in range(len(labels)) if fold_of[i] == fold]
        params = fit_logistic(features[train], y[train])
        for i, p in zip(test, probability(features[test], *params), strict=True):
            out[i] = float(p)
    return out


def threshold_for(probs: list[float], labels: list[int], target_recall: float) -> float:
    """The highest threshold at which at least target_recall of the crisis texts score above."""
    crisis = sorted(p for p, y in zip(probs, labels, strict=True) if y)
    allowed_misses = math.floor((1 - target_recall) * len(crisis) + 1e-9)
    return crisis[allowed_misses]


def train(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    from cbt_infer.crisis_probe import (
        FORMAT,
        LAYERS,
        Encoder,
        base_identity,
        fit_logistic,
        probability,
    )

    crisis = [t for f in args.crisis for t in read_phrases(f)]
    ordinary = [t for f in args.ordinary for t in read_phrases(f)]
    texts, labels = _labelled(crisis, ordinary)
    identity = base_identity(args.base)
    encoder = Encoder(args.base, LAYERS)
    print(f"crisis-probe: encoding {len(texts)} training texts", file=sys.stderr)
    features = encoder(texts)
    oof = cross_validated(features, labels, args.seed)
    threshold = threshold_for(oof, labels, args.target_recall)
    cv = _measure(texts, labels, oof, threshold)
    metrics: dict[str, Any] = {
        "threshold": round(threshold, 6), "target_recall": args.target_recall,
        "train": {"crisis": len(crisis), "ordinary": len(ordinary), "keywords": cv["keywords"],
                  "probe_cross_validated": cv["probe"],
                  "combined_cross_validated": cv["combined"]}}
    mean, std, weight, bias = fit_logistic(features, torch.tensor(labels, dtype=torch.float32))
    probe = {"format": FORMAT, "base_model": str(args.base), "base_identity": identity,
             "layers": list(LAYERS), "threshold": threshold,
             "mean": mean.tolist(), "std": std.tolist(), "weight": weight.tolist(),
             "bias": bias.tolist(), "trained_on": {"crisis": len(crisis),
                                                   "ordinary": len(ordinary)}}
    for prefix in args.heldout:
        h_crisis = read_phrases(f"{prefix}.crisis.txt")
        h_ordinary = read_phrases(f"{prefix}.ordinary.txt")
        h_texts, h_labels = _labelled(h_crisis, h_ordinary)
        probs = probability(encoder(h_texts), mean, std, weight, bias).tolist()
        metrics[Path(prefix).name] = {"crisis": len(h_crisis), "ordinary": len(h_ordinary),
                                      **_measure(h_texts, h_labels, probs, threshold)}
    return {"probe": probe, "metrics": metrics}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="cbt-infer crisis-probe", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="models/local",
                        help="the encoder: the pinned local model (the local_model stage)")
    parser.add_argument("--train", type=Path, help="folder of crisis*.txt and ordinary*.txt")
    parser.add_argument("--crisis", nargs="+", default=[], help="crisis phrase files")
    parser.add_argument("--ordinary", nargs="+", default=[], help="ordinary phrase files")
    parser.add_argument("--heldout", nargs="*", default=[], help="held-out set prefixes")
    parser.add_argument("--target-recall", type=float, default=0.95,
                        help="cross-validated recall the threshold keeps (default 0.95)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="models/crisis_probe.json")
    parser.add_argument("--metrics", default="metrics/crisis_screen.json")
    args = parser.parse_args(argv)
    from cbt_schema.errors import UserError
    from cbt_schema.jsonl import write_json

    if args.train is not None:
        if not args.train.is_dir():
            raise UserError(f"--train {args.train}: folder not found")
        args.crisis += sorted(args.train.glob("crisis*.txt"))
        args.ordinary += sorted(args.train.glob("ordinary*.txt"))
    if not args.crisis or not args.ordinary:
        raise UserError("no training texts: give --train DIR (with crisis*.txt and "
                        "ordinary*.txt) or --crisis and --ordinary files")
    if not 0.5 <= args.target_recall < 1.0:
        raise UserError(f"--target-recall: must be in [0.5, 1) (got {args.target_recall})")
    result = train(args)
    write_json(args.out, result["probe"])
    write_json(args.metrics, result["metrics"])
    print(json.dumps(result["metrics"], indent=2))
    return 0
