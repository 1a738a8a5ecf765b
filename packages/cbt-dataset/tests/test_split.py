"""The split: stratified by emotion, deterministic, and no near-duplicate pair across it."""

from __future__ import annotations

import itertools
import random
from collections import Counter

import pytest

from cbt_dataset.dedup import Shingler, find_duplicates, jaccard, normalise
from cbt_dataset.split import resolve_test_count, stratified_group_split
from cbt_schema import UserError
from cbt_testing.synthetic import synthesize

OPTS = {"threshold": 0.8, "shingle_size": 3, "num_perm": 128, "progress": False}


def _split(data, mode: str, test_n: int, seed: int = 42):
    texts = [e.text for e in data.events]
    dedup = find_duplicates(texts, **OPTS)
    kept, groups, _ = dedup.resolve(mode)
    emotions = [s.emotion for s in data.seeds]
    ids = [e.id for e in data.events]
    return kept, stratified_group_split(groups, emotions, ids, test_n, seed)


def test_leakage_no_near_duplicate_pair_crosses_the_split() -> None:
    """Planted near duplicates kept in `group` mode: brute force over every train x test pair
    (exact Jaccard, no LSH) finds none at or above the threshold."""
    data = synthesize(400, seed=7, near=40)
    kept, split = _split(data, "group", 100)
    assert len(kept) == 400 and len(split.test) == 100
    side = {i: "train" for i in split.train} | {i: "test" for i in split.test}
    index = {e.id: k for k, e in enumerate(data.events)}
    for orig, copy in data.near_pairs:
        assert side[index[orig]] == side[index[copy]]
    shingler = Shingler(3)
    sets = [shingler(normalise(e.text)) for e in data.events]
    worst = max(jaccard(sets[a], sets[b]) for a, b in itertools.product(split.train, split.test))
    assert worst < 0.8
    # the planted pairs really are near duplicates, so the check above could have failed
    assert min(jaccard(sets[index[a]], sets[index[b]]) for a, b in data.near_pairs) >= 0.8


def test_drop_mode_keeps_one_record_per_cluster() -> None:
    data = synthesize(300, seed=7, near=30, exact=5)
    kept, split = _split(data, "drop", 50)
    kept_ids = {data.events[i].id for i in kept}
    for orig, copy in data.near_pairs + data.exact_pairs:
        assert orig in kept_ids and copy not in kept_ids
    assert sorted(split.train + split.test) == kept


def test_each_emotion_gets_its_share_of_the_test_set() -> None:
    data = synthesize(621, seed=11)
    _, split = _split(data, "drop", 100)
    emotions = [s.emotion for s in data.seeds]
    total, test = Counter(emotions), Counter(emotions[i] for i in split.test)
    assert len(split.test) == 100
    for emotion, n in total.items():
        assert abs(test[emotion] - 100 * n / 621) < 1, emotion


def test_rare_emotions_spread_ties_by_seed() -> None:
    """40 records over 40 emotions and 10 test records: ten emotions, chosen by the seed."""
    ids = [f"r{k:02d}" for k in range(40)]
    strata = [f"emotion{k}" for k in range(40)]
    groups = [[k] for k in range(40)]
    a = stratified_group_split(groups, strata, ids, 10, seed=1)
    b = stratified_group_split(groups, strata, ids, 10, seed=2)
    assert len(a.test) == len(b.test) == 10 and a.test != b.test


def test_deterministic_and_independent_of_input_order() -> None:
    data = synthesize(200, seed=5, near=10)
    _, first = _split(data, "group", 40)
    _, again = _split(data, "group", 40)
    assert first == again
    order = list(range(200))
    random.Random(0).shuffle(order)
    ids = [data.events[i].id for i in order]
    strata = [data.seeds[i].emotion for i in order]
    dedup = find_duplicates([data.events[i].text for i in order], **OPTS)
    _, groups, _ = dedup.resolve("group")
    shuffled = stratified_group_split(groups, strata, ids, 40, seed=42)
    assert {ids[i] for i in shuffled.test} == {data.events[i].id for i in first.test}
    _, other_seed = _split(data, "group", 40, seed=43)
    assert other_seed.test != first.test


def test_test_size_as_fraction_or_count_and_impossible_sizes() -> None:
    kw = {"source": "params.yaml", "records_from": "events.jsonl"}
    assert resolve_test_count(0.25, 40, **kw) == 10
    assert resolve_test_count(100, 621, **kw) == 100
    with pytest.raises(UserError, match=r"params.yaml: dataset.test_size: 100 test records "
                                        r"leave none for training; only 80 records remain "
                                        r"after joining and deduplicating events.jsonl"):
        resolve_test_count(100, 80, **kw)
    with pytest.raises(UserError, match="rounds to 0 test records"):
        resolve_test_count(0.01, 20, **kw)


def test_assessments_without_findings_reach_the_test_split() -> None:
    """With 3 negatives among 24 records and 6 test records, one negative is held out (its
    stratum's quota 0.75 has the largest remainder), so the binary metric can be measured."""
    strata = ["(no distortion)" if i in (3, 11, 19) else f"emotion-{i}" for i in range(24)]
    ids = [f"r{i:02d}" for i in range(24)]
    for seed in range(5):
        split = stratified_group_split([[i] for i in range(24)], strata, ids, 6, seed)
        assert len(split.test) == 6
        assert sum(strata[i] == "(no distortion)" for i in split.test) == 1
