"""A deterministic train/test split, stratified (by emotion, with assessments that name no
distortion as a stratum of their own), that never splits a group.

Groups are near-duplicate clusters (a single record when duplicates are dropped), so no
near-duplicate pair can cross the split. Each emotion gets its share of the test set by the
largest-remainder method; groups are drawn in a seeded shuffle of their sorted ids, so the
split depends on the records and the seed, not on the order of the input files.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from cbt_schema import UserError


def resolve_test_count(test_size: float, n: int, *, source: str, records_from: str) -> int:
    """The number of test records for test_size (a fraction < 1 or a count >= 1)."""
    count = int(test_size) if test_size >= 1 else round(test_size * n)
    what = (f"{n} records remain after joining and deduplicating {records_from}")
    if count < 1:
        raise UserError(f"{source}: dataset.test_size: {test_size} of {n} records rounds to "
                        f"0 test records; {what}")
    if count >= n:
        raise UserError(f"{source}: dataset.test_size: {count} test records leave none for "
                        f"training; only {what}")
    return count


@dataclass(frozen=True)
class Split:
    train: list[int]  # sorted record indices
    test: list[int]
    target: int  # the test size asked for; len(test) may differ when groups do not fit


def _quotas(sizes: dict[str, int], total: int, rng: random.Random) -> dict[str, int]:
    n = sum(sizes.values())
    exact = {k: total * v / n for k, v in sizes.items()}
    quota = {k: math.floor(x) for k, x in exact.items()}
    order = sorted(sizes)
    rng.shuffle(order)  # seeded tie-break among equal remainders
    order.sort(key=lambda k: exact[k] - quota[k], reverse=True)
    for k in order[: total - sum(quota.values())]:
        quota[k] += 1
    return quota


def stratified_group_split(groups: Sequence[Sequence[int]], strata: Sequence[str],
                           ids: Sequence[str], test_n: int, seed: int,
                           train_only: Collection[int] = ()) -> Split:
    """groups: record indices (each record in one group); strata[i], ids[i] per record.

    A group belongs to the stratum of its record with the smallest id. Within each stratum,
    groups are taken in seeded order while they fit that stratum's quota; any shortfall is
    then filled from the remaining groups of all strata. A group holding a `train_only`
    record (one without labels to score) stays in train.
    """
    rng = random.Random(seed)
    by_stratum: dict[str, list[Sequence[int]]] = defaultdict(list)
    held = set(train_only)
    eligible = [g for g in groups if not held.intersection(g)]
    for g in sorted(eligible, key=lambda g: min(ids[i] for i in g)):
        by_stratum[strata[min(g, key=ids.__getitem__)]].append(g)
    sizes = {k: sum(len(g) for g in v) for k, v in by_stratum.items()}
    quotas = _quotas(sizes, test_n, rng)
    test: list[int] = []
    rest: list[Sequence[int]] = []
    for stratum in sorted(by_stratum):
        pool = by_stratum[stratum][:]
        rng.shuffle(pool)
        taken = 0
        for g in pool:
            if taken + len(g) <= quotas[stratum]:
                test.extend(g)
                taken += len(g)
            else:
                rest.append(g)
    rng.shuffle(rest)
    for g in rest:
        if len(test) + len(g) <= test_n:
            test.extend(g)
    in_test = set(test)
    train = sorted(i for g in groups for i in g if i not in in_test)
    return Split(train=train, test=sorted(test), target=test_n)
