"""cbt-infer crisis-probe: train the crisis screen's learned stage and measure the whole screen.

  cbt-infer crisis-probe --base models/local --train safety/train \\
      --heldout safety/heldout_a safety/heldout_b safety/heldout_c \\
      --out models/crisis_probe.json --metrics metrics/crisis_screen.json

--train DIR takes every crisis*.txt and ordinary*.txt in DIR (or name files with --crisis and
--ordinary). Phrase files: one text per line; blank lines and lines starting with '#' are
skipped. A held-out set PREFIX is PREFIX.crisis.txt + PREFIX.ordinary.txt; held-out sets are
only measured, never trained on or used to pick the thresholds. From out-of-fold scores on the
training texts: the possible-risk threshold is the highest that keeps the recall of "resources
shown at all" (keywords or probe) at --target-recall; the likely-risk threshold is the lowest
that sends at most --max-resources-only of the ordinary texts to resources only. The encoder
(the --base model's GGUF cut to crisis_probe.ENCODER_LAYERS blocks) is written beside --out as
crisis_encoder.gguf; the probe file names it.
"""

from __future__ import annotations

import argparse
import json
import math
import random
from pathlib import Path
from typing import Any

from cbt_schema import logs, paths

FOLDS = 5
# Targets on the held-out sets (reported, never used to choose thresholds).
TARGETS = {"recall_resources_shown_at_least": 0.95, "ordinary_resources_only_at_most": 0.05,
           "ordinary_resources_shown_at_most": 0.20}


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


def measure(texts: list[str], labels: list[int], probs: list[float],
            thresholds: tuple[float, float]) -> dict[str, Any]:
    """Rates of keywords alone, the probe alone (at the possible threshold), and the tiered
    screen: resources shown at all (possible or likely), resources first and then the analysis
    (possible) and resources only (likely)."""
    from cbt_infer.safety import keyword_signals, tier_for

    signals = [keyword_signals(t) for t in texts]
    tiers = [tier_for(s, p, thresholds) for s, p in zip(signals, probs, strict=True)]
    return {"keywords": screen_rates([bool(s) for s in signals], labels),
            "probe": screen_rates([p >= thresholds[0] for p in probs], labels),
            "resources_shown": screen_rates([t != "none" for t in tiers], labels),
            "resources_first": screen_rates([t == "possible" for t in tiers], labels),
            "resources_only": screen_rates([t == "likely" for t in tiers], labels)}


def _labelled(crisis: list[str], ordinary: list[str]) -> tuple[list[str], list[int]]:
    return crisis + ordinary, [1] * len(crisis) + [0] * len(ordinary)


def cross_validated(features: Any, labels: list[int], seed: int,
                    l2: float | None = None) -> list[float]:
    """Out-of-fold crisis probabilities (stratified folds, seeded); `l2` defaults to the
    probe's own (crisis_probe.L2)."""
    from cbt_infer.crisis_probe import L2, fit_logistic, probability

    order = list(range(len(labels)))
    random.Random(seed).shuffle(order)
    fold_of = {}
    for label in (0, 1):
        members = [i for i in order if labels[i] == label]
        fold_of |= {i: k % FOLDS for k, i in enumerate(members)}
    out = [0.0] * len(labels)
    for fold in range(FOLDS):
        train = [i for i in range(len(labels)) if fold_of[i] != fold]
        test = [i for i in range(len(labels)) if fold_of[i] == fold]
        params = fit_logistic(features[train], [labels[i] for i in train], l2 or L2)
        for i, p in zip(test, probability(features[test], *params), strict=True):
            out[i] = float(p)
    return out


def threshold_for(probs: list[float], labels: list[int], target_recall: float,
                  caught: list[bool] | None = None) -> float:
    """The highest threshold at which at least target_recall of the crisis texts are caught:
    by `caught` (the keywords) or by scoring at or above it."""
    caught = caught or [False] * len(labels)
    crisis = [y for y in labels if y]
    left = sorted(p for p, y, c in zip(probs, labels, caught, strict=True) if y and not c)
    allowed_misses = math.floor((1 - target_recall) * len(crisis) + 1e-9)
    return left[allowed_misses] if allowed_misses < len(left) else 1.0


def likely_threshold_for(probs: list[float], labels: list[int], max_share: float,
                         already: list[bool], floor: float) -> float:
    """The lowest threshold (not below `floor`) at which at most max_share of the ordinary
    texts get resources only: those `already` in that tier (keywords) plus those scoring at
    or above it."""
    ordinary = [(p, a) for p, y, a in zip(probs, labels, already, strict=True) if not y]
    room = math.floor(max_share * len(ordinary) + 1e-9) - sum(a for _, a in ordinary)
    scores = sorted((p for p, a in ordinary if not a), reverse=True)
    if room >= len(scores):
        return floor
    bar = math.nextafter(scores[max(room, 0)], math.inf)  # just above the first one too many
    return max(bar, floor)


def thresholds_for(texts: list[str], labels: list[int], probs: list[float],
                   target_recall: float, max_resources_only: float) -> tuple[float, float]:
    """(possible, likely) from out-of-fold probabilities of the training texts."""
    from cbt_infer.safety import keyword_signals, tier_for

    # what the keywords decide whatever the probe scores (a score under both thresholds)
    below = (math.inf, math.inf)
    tiers = [tier_for(keyword_signals(t), 0.0, below) for t in texts]
    possible = threshold_for(probs, labels, target_recall, [t != "none" for t in tiers])
    likely = likely_threshold_for(probs, labels, max_resources_only,
                                  [t == "likely" for t in tiers], possible)
    return possible, likely


def check_texts(texts: list[str], labels: list[int], probs: Any, n: int = 1) -> list[dict]:
    """A few training texts of each label with the fitted probe's probability: loading the
    probe scores them again to check that its features are the ones it was fitted on."""
    picked = [i for label in (1, 0) for i in [j for j, y in enumerate(labels) if y == label][:n]]
    return [{"text": texts[i], "p": round(float(probs[i]), 6)} for i in picked]


def pinned_gguf(base: str | Path) -> tuple[Path, str | None]:
    """The pinned GGUF in a local_model folder, and its sha256 as that stage recorded it."""
    from cbt_schema.errors import UserError

    folder = Path(base)
    record = folder / "base_model.json"
    if record.is_file():
        data = json.loads(record.read_text(encoding="utf-8"))
        gguf = folder / str(data.get("gguf_file"))
        if gguf.is_file():
            return gguf, data.get("gguf_sha256")
    found = sorted(folder.glob("*.gguf")) if folder.is_dir() else []
    if not found:
        raise UserError(f"{folder}: no GGUF there for the crisis probe's encoder; run the "
                        "local_model stage: dvc repro local_model")
    return found[0], None


def make_encoder(base: str | Path, out: Path) -> dict[str, Any]:
    """Cut the pinned GGUF to the encoder's depth into `out`; what the probe file records."""
    from cbt_infer.crisis_probe import ENCODER_LAYERS, POOLING
    from cbt_infer.gguf_tools import truncate_layers
    from cbt_schema.hashing import sha256_file

    source, source_sha = pinned_gguf(base)
    out.parent.mkdir(parents=True, exist_ok=True)
    truncate_layers(source, out, ENCODER_LAYERS)
    return {"file": out.name, "bytes": out.stat().st_size, "sha256": sha256_file(out),
            "layers": ENCODER_LAYERS, "pooling": list(POOLING), "runtime": "llama.cpp",
            "from": {"file": source.name, "sha256": source_sha or sha256_file(source)}}


def train(args: argparse.Namespace) -> dict[str, Any]:
    from cbt_infer.crisis_probe import ENCODER_FILE, FORMAT, Encoder, fit_logistic, probability

    crisis = [t for f in args.crisis for t in read_phrases(f)]
    ordinary = [t for f in args.ordinary for t in read_phrases(f)]
    texts, labels = _labelled(crisis, ordinary)
    encoder_path = Path(args.out).with_name(ENCODER_FILE)
    encoder_record = make_encoder(args.base, encoder_path)
    encoder = Encoder(encoder_path)
    features = encoder(texts, progress=f"crisis-probe: encoding {len(texts)} training texts")
    oof = cross_validated(features, labels, args.seed)
    thresholds = thresholds_for(texts, labels, oof, args.target_recall, args.max_resources_only)
    metrics: dict[str, Any] = {
        "thresholds": {"possible": round(thresholds[0], 6), "likely": round(thresholds[1], 6)},
        "chosen_for": {"recall_resources_shown": args.target_recall,
                       "ordinary_resources_only_at_most": args.max_resources_only,
                       "on": "safety/train, 5-fold cross-validated"},
        "targets": TARGETS,
        "train": {"crisis": len(crisis), "ordinary": len(ordinary), "cross_validated": True,
                  **measure(texts, labels, oof, thresholds)}}
    mean, std, weight, bias = fit_logistic(features, labels)
    fitted = probability(features, mean, std, weight, bias)
    probe = {"format": FORMAT, "encoder": encoder_record,
             "thresholds": {"possible": thresholds[0], "likely": thresholds[1]},
             "mean": mean.tolist(), "std": std.tolist(), "weight": weight.tolist(),
             "bias": bias, "check": check_texts(texts, labels, fitted),
             "trained_on": {"crisis": len(crisis), "ordinary": len(ordinary)}}
    for prefix in args.heldout:
        h_crisis = read_phrases(f"{prefix}.crisis.txt")
        h_ordinary = read_phrases(f"{prefix}.ordinary.txt")
        h_texts, h_labels = _labelled(h_crisis, h_ordinary)
        h_features = encoder(h_texts, progress=f"crisis-probe: encoding {Path(prefix).name}")
        probs = probability(h_features, mean, std, weight, bias).tolist()
        row = measure(h_texts, h_labels, probs, thresholds)
        metrics[Path(prefix).name] = {"crisis": len(h_crisis), "ordinary": len(h_ordinary),
                                      **row, "meets_targets": meets_targets(row)}
    return {"probe": probe, "metrics": metrics}


def meets_targets(row: dict[str, Any]) -> bool:
    return (row["resources_shown"]["recall"] >= TARGETS["recall_resources_shown_at_least"]
            and row["resources_only"]["false_positive_rate"]
            <= TARGETS["ordinary_resources_only_at_most"]
            and row["resources_shown"]["false_positive_rate"]
            <= TARGETS["ordinary_resources_shown_at_most"])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="cbt-infer crisis-probe", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default=paths.LOCAL_MODEL,
                        help="the pinned local model (the local_model stage), whose GGUF the "
                        "encoder is cut from; the encoder is written beside --out")
    parser.add_argument("--train", type=Path, help="folder of crisis*.txt and ordinary*.txt")
    parser.add_argument("--crisis", nargs="+", default=[], help="crisis phrase files")
    parser.add_argument("--ordinary", nargs="+", default=[], help="ordinary phrase files")
    parser.add_argument("--heldout", nargs="*", default=[], help="held-out set prefixes")
    parser.add_argument("--target-recall", type=float, default=0.97,
                        help="cross-validated recall of 'resources shown at all' that the "
                        "possible-risk threshold keeps (default 0.97)")
    parser.add_argument("--max-resources-only", type=float, default=0.05,
                        help="cross-validated share of ordinary texts that the likely-risk "
                        "threshold may send to resources only (default 0.05)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=paths.CRISIS_PROBE)
    parser.add_argument("--metrics", default=paths.CRISIS_METRICS)
    logs.add_verbosity(parser)
    args = parser.parse_args(argv)
    logs.configure(args)
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
    if not 0.0 <= args.max_resources_only < 0.5:
        raise UserError("--max-resources-only: must be in [0, 0.5) (got "
                        f"{args.max_resources_only})")
    result = train(args)
    write_json(args.out, result["probe"])
    write_json(args.metrics, result["metrics"])
    print(json.dumps(result["metrics"], indent=2))
    return 0
