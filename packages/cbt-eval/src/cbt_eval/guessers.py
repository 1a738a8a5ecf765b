"""Reference guessers: what a model that never reads the text scores on the same gold labels.

Multi-label F1 flatters any model that names many labels, so every evaluation reports, beside
each model, guessers built from the gold labels of the set being scored:
- `all_labels`: all ten distortions for every text;
- `most_frequent_k`: the k most frequent gold labels for every text, k = the mean gold set
  size rounded (at least 1);
- `prevalence`: each label drawn independently at its gold frequency, averaged over SEEDS
  draws (its intervals come from the first draw);
- `always_distorted`: the binary task only, every text called distorted.
They name labels only and quote nothing from the text, so their quote fidelity (the share of
findings whose quoted thought is in the person's words) is 0.
The headline is chance-corrected: mean Cohen's kappa, and macro F1 with each model's margin
over the best guesser (by macro F1), with a paired bootstrap interval of that margin.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence

from cbt_eval.metrics import HEADLINE, LabelSets, bootstrap_ci, score

SEEDS = 20
MULTI = ("all_labels", "most_frequent_k", "prevalence")


def guesses(gold: LabelSets, labels: Sequence[str], seed: int) -> dict[str, list[frozenset]]:
    """The deterministic guessers' predictions, and the first prevalence draw."""
    n = len(gold)
    counts = Counter(label for s in gold for label in s)
    order = {label: i for i, label in enumerate(labels)}
    k = max(1, round(sum(len(s) for s in gold) / n)) if n else 1
    top = frozenset(sorted(labels, key=lambda lb: (-counts[lb], order[lb]))[:k])
    return {"all_labels": [frozenset(labels)] * n, "most_frequent_k": [top] * n,
            "prevalence": _prevalence_draw(gold, labels, random.Random(seed))}


def _prevalence_draw(gold: LabelSets, labels: Sequence[str], rng: random.Random
                     ) -> list[frozenset]:
    n = len(gold)
    share = {label: sum(label in s for s in gold) / n for label in labels} if n else {}
    return [frozenset(lb for lb in labels if rng.random() < share[lb]) for _ in range(n)]


def _binary_always(gold: LabelSets) -> dict:
    """Calling every text distorted: precision is the share of distorted gold sets."""
    n = len(gold)
    positives = sum(bool(s) for s in gold)
    if not n or positives == n:
        return {"binary_f1": None, "note": "not measurable: every gold set names a distortion"}
    precision = positives / n
    f1 = 2 * precision / (precision + 1) if positives else 0.0
    return {"binary_precision": precision, "binary_recall": 1.0 if positives else 0.0,
            "binary_f1": f1}


def reference_scores(gold: LabelSets, labels: Sequence[str], *, resamples: int,
                     seed: int) -> dict:
    """Each guesser's metrics (as `score` gives them) with bootstrap intervals."""
    preds = guesses(gold, labels, seed)
    out: dict = {}
    for name in MULTI:
        result = score(gold, preds[name], labels)
        if name == "prevalence":  # the mean over draws; intervals from the first draw
            rng = random.Random(seed)
            draws = [score(gold, _prevalence_draw(gold, labels, rng), labels)
                     for _ in range(SEEDS)]
            for key in (*HEADLINE, "mean_kappa", "micro_precision", "micro_recall"):
                values = [d[key] for d in draws]
                result[key] = None if None in values else sum(values) / len(values)
        result["ci"] = bootstrap_ci(gold, preds[name], labels, resamples=resamples, seed=seed)
        result["quote_fidelity"] = 0.0  # no finding of theirs quotes the text
        out[name] = result
    out["always_distorted"] = _binary_always(gold)
    out["k"] = len(preds["most_frequent_k"][0]) if gold else 0
    return out


def best_guesser(reference: dict) -> str:
    return max(MULTI, key=lambda name: reference[name]["macro_f1"])


def margin(gold: LabelSets, pred: LabelSets, reference: dict, labels: Sequence[str], *,
           resamples: int, seed: int, level: float = 0.95) -> dict:
    """The model's macro F1 minus the best guesser's, with a paired bootstrap interval (the
    same resampled texts for both) and a verdict in plain words."""
    name = best_guesser(reference)
    guess = guesses(gold, labels, seed)[name]
    value = score(gold, pred, labels)["macro_f1"] - reference[name]["macro_f1"]
    n, rng, draws = len(gold), random.Random(seed), []
    for _ in range(resamples if n else 0):
        idx = [rng.randrange(n) for _ in range(n)]
        g = [gold[i] for i in idx]
        draws.append(score(g, [pred[i] for i in idx], labels)["macro_f1"]
                     - score(g, [guess[i] for i in idx], labels)["macro_f1"])
    draws.sort()
    ci = ([draws[int((1 - level) / 2 * (len(draws) - 1))],
           draws[int((1 + level) / 2 * (len(draws) - 1))]] if draws else None)
    return {"over": name, "macro_f1": value, "ci95": ci, "verdict": verdict(value, ci)}


def verdict(value: float, ci: list[float] | None) -> str:
    if value <= 0:
        return "does not beat the best trivial guesser"
    if ci is None or ci[0] <= 0:
        return "beats the best trivial guesser on this set, but not clearly (the interval " \
               "reaches zero)"
    return "beats the best trivial guesser"
