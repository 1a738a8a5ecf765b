"""Self-consistency: k independent label sets of one item, merged by majority, with agreement.

Sharma, Agarwal and Sirts (2025) merge several LLM runs by majority and measure agreement with
Fleiss' kappa. Here:
- a label is in the merged set when MORE than `majority` of the item's valid samples name it
  (0.5: a strict majority; 2 of 3, 3 of 5);
- the target is the sample whose labels are closest to the merged ones (fewest labels added or
  missing; the earliest sample on a tie), so the student learns a real, coherent answer rather
  than a stitched one;
- agreement is Fleiss' kappa over the items whose k samples all validated, per label
  (subjects: items, categories: named / not named) and overall (subjects: every
  (item, label) pair).

The assessments task applies it to its records (cbt_datagen.tasks.assessments.choose_targets).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def merge_labels(samples: Sequence[frozenset[str]], majority: float) -> frozenset[str]:
    """The labels named by more than `majority` of the samples."""
    if not samples:
        return frozenset()
    votes: dict[str, int] = {}
    for labels in samples:
        for label in labels:
            votes[label] = votes.get(label, 0) + 1
    return frozenset(lb for lb, n in votes.items() if n / len(samples) > majority)


def closest(samples: Sequence[frozenset[str]], merged: frozenset[str]) -> int:
    """Index of the sample with the smallest symmetric difference to `merged` (first on ties)."""
    return min(range(len(samples)), key=lambda i: (len(samples[i] ^ merged), i))


def fleiss_kappa(counts: Sequence[Sequence[int]]) -> float | None:
    """Fleiss' kappa for subjects rated by the same number of raters.

    counts[i][j]: how many raters put subject i in category j. None when it is not
    measurable: fewer than two raters or subjects, or every rating in one category.
    """
    if len(counts) < 2:
        return None
    raters = sum(counts[0])
    if raters < 2 or any(sum(row) != raters for row in counts):
        return None
    n_subjects = len(counts)
    observed = sum((sum(c * c for c in row) - raters) / (raters * (raters - 1))
                   for row in counts) / n_subjects
    totals = [sum(row[j] for row in counts) for j in range(len(counts[0]))]
    expected = sum((t / (n_subjects * raters)) ** 2 for t in totals)
    if expected >= 1.0:
        return None
    return (observed - expected) / (1 - expected)


def agreement(groups: Iterable[Sequence[frozenset[str]]], labels: Sequence[str], k: int
              ) -> dict[str, object]:
    """Fleiss' kappa per label and overall, over the groups holding all k samples."""
    complete = [g for g in groups if len(g) == k]
    per_label = {}
    pooled: list[list[int]] = []
    for label in labels:
        rows = [[sum(label in s for s in g), k - sum(label in s for s in g)] for g in complete]
        pooled += rows
        per_label[label] = _round(fleiss_kappa(rows))
    return {"events_with_all_samples": len(complete),
            "fleiss_kappa": _round(fleiss_kappa(pooled)),
            "fleiss_kappa_per_distortion": per_label}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def consensus_report(groups: Sequence[Sequence[frozenset[str]]], chosen: Sequence[int],
                     merged: Sequence[frozenset[str]], labels: Sequence[str], k: int,
                     majority: float) -> dict[str, object]:
    """What metrics/datagen.json and the teacher audit say about the samples."""
    n = len(groups)
    return {
        "samples": k, "majority": majority, "events": n,
        "mean_valid_samples": round(sum(map(len, groups)) / n, 4) if n else 0.0,
        **agreement(groups, labels, k),
        "target_differs_from_merged": round(
            sum(g[c] != m for g, c, m in zip(groups, chosen, merged, strict=True)) / n, 4)
        if n else 0.0,
        "merged_differs_from_first": round(
            sum(g[0] != m for g, m in zip(groups, merged, strict=True)) / n, 4) if n else 0.0,
    }
