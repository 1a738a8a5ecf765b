"""Multi-label distortion-detection metrics, with bootstrap confidence intervals.

Gold and predicted labels are sets of distortion values per example; an empty set means
"no distortion". Conventions (documented in the README): precision with no predictions is 0,
macro averages run over labels that occur in gold or predictions, and the binary
"distorted-or-not" task treats a non-empty set as positive. The binary figures are None (not
measurable) when no gold set is empty: then any answer that names something scores 1.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

LabelSets = Sequence[frozenset[str] | set[str]]
HEADLINE = ("micro_f1", "macro_f1", "weighted_f1", "binary_f1", "exact_set_accuracy")


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def cohen_kappa(gold: Sequence[bool], pred: Sequence[bool]) -> float:
    """Cohen's kappa for two binary raters; 1.0 when both agree on a constant label."""
    n = len(gold)
    if n == 0:
        return 0.0
    agree = sum(g == p for g, p in zip(gold, pred, strict=True)) / n
    pg, pp = sum(gold) / n, sum(pred) / n
    expected = pg * pp + (1 - pg) * (1 - pp)
    if expected == 1.0:
        return 1.0 if agree == 1.0 else 0.0
    return (agree - expected) / (1 - expected)


def score(gold: LabelSets, pred: LabelSets, labels: Sequence[str]) -> dict:
    """Every figure of the evaluation for one system; plain floats, JSON-ready."""
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold label sets but {len(pred)} predictions")
    n = len(gold)
    per_class: dict[str, dict] = {}
    tp_all = fp_all = fn_all = 0
    for label in labels:
        g = [label in s for s in gold]
        p = [label in s for s in pred]
        tp = sum(a and b for a, b in zip(g, p, strict=True))
        fp = sum(b and not a for a, b in zip(g, p, strict=True))
        fn = sum(a and not b for a, b in zip(g, p, strict=True))
        tp_all, fp_all, fn_all = tp_all + tp, fp_all + fp, fn_all + fn
        precision, recall, f1 = _prf(tp, fp, fn)
        per_class[label] = {"precision": precision, "recall": recall, "f1": f1,
                            "support": sum(g), "predicted": sum(p), "kappa": cohen_kappa(g, p)}
    seen = [c for c in per_class.values() if c["support"] or c["predicted"]]
    support = sum(c["support"] for c in per_class.values())
    micro = _prf(tp_all, fp_all, fn_all)
    binary: tuple[float | None, ...] = (None, None, None)
    if any(not g for g in gold):
        binary = _prf(
            sum(bool(g) and bool(p) for g, p in zip(gold, pred, strict=True)),
            sum(bool(p) and not g for g, p in zip(gold, pred, strict=True)),
            sum(bool(g) and not p for g, p in zip(gold, pred, strict=True)),
        )
    return {
        "n": n,
        "per_class": per_class,
        "micro_precision": micro[0], "micro_recall": micro[1], "micro_f1": micro[2],
        "macro_precision": _mean(c["precision"] for c in seen),
        "macro_recall": _mean(c["recall"] for c in seen),
        "macro_f1": _mean(c["f1"] for c in seen),
        "weighted_f1": (sum(c["f1"] * c["support"] for c in per_class.values()) / support
                        if support else 0.0),
        "binary_precision": binary[0], "binary_recall": binary[1], "binary_f1": binary[2],
        "exact_set_accuracy": (sum(set(g) == set(p) for g, p in zip(gold, pred, strict=True)) / n
                               if n else 0.0),
        "mean_kappa": _mean(c["kappa"] for c in seen),
        "mean_gold_labels": _mean(len(s) for s in gold),
        "mean_predicted_labels": _mean(len(s) for s in pred),
    }


def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0


def bootstrap_ci(gold: LabelSets, pred: LabelSets, labels: Sequence[str], *, resamples: int,
                 seed: int, level: float = 0.95) -> dict[str, list[float]]:
    """Percentile bootstrap over examples for the headline figures: {name: [low, high]}."""
    n = len(gold)
    if n == 0 or resamples == 0:
        return {}
    rng = random.Random(seed)
    draws: dict[str, list[float]] = {k: [] for k in HEADLINE}
    for _ in range(resamples):
        idx = [rng.randrange(n) for _ in range(n)]
        result = score([gold[i] for i in idx], [pred[i] for i in idx], labels)
        for key in HEADLINE:
            if result[key] is not None:  # binary F1 of a resample without negatives
                draws[key].append(result[key])
    lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
    out = {}
    for key, values in draws.items():
        if not values:
            continue
        values.sort()
        out[key] = [values[int(lo_q * (len(values) - 1))], values[int(hi_q * (len(values) - 1))]]
    return out
