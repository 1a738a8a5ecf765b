"""Exact and near duplicates of event texts (MinHash/LSH candidates, exact Jaccard check)."""

from __future__ import annotations

import random

import numpy as np

from cbt_dataset.dedup import (
    Shingler,
    find_duplicates,
    jaccard,
    normalise,
    signatures,
)
from cbt_testing.synthetic import synthesize

OPTS = {"threshold": 0.8, "shingle_size": 3, "num_perm": 128, "progress": False}


def _texts(n: int, **kw: int) -> tuple[list[str], list[str], object]:
    data = synthesize(n, seed=3, **kw)
    return [e.id for e in data.events], [e.text for e in data.events], data


def test_exact_duplicates_ignore_case_punctuation_and_spacing_and_keep_the_first() -> None:
    ids, texts, data = _texts(60, exact=5)
    result = find_duplicates(texts, **OPTS)
    found = {(ids[k], ids[i]) for i, k in result.exact.items()}
    assert found == set(data.exact_pairs)
    assert all(k < i for i, k in result.exact.items())
    assert not result.pairs  # exact copies are not counted again as near duplicates


def test_planted_near_duplicates_are_found_with_their_measured_similarity() -> None:
    ids, texts, data = _texts(300, near=12)
    result = find_duplicates(texts, **OPTS)
    found = {(ids[a], ids[b]) for a, b, _ in result.pairs}
    assert found == set(data.near_pairs)
    for a, b, sim in result.pairs:
        expected = jaccard(Shingler(3)(normalise(texts[a])), Shingler(3)(normalise(texts[b])))
        assert sim == round(expected, 4) and sim >= 0.8
    dropped = {ids[d.index]: ids[d.kept] for d in result.near}
    assert dropped == {copy: orig for orig, copy in data.near_pairs}


def test_pairs_below_the_threshold_are_not_duplicates() -> None:
    rng = random.Random(1)
    base = [f"w{rng.randrange(10_000)}" for _ in range(60)]
    far = base[:]
    for k in range(0, 60, 6):  # every sixth word changed: Jaccard of 3-shingles ~0.4
        far[k] = "changed"
    close = base[:]
    close[30] = "changed"  # one word: Jaccard ~0.91
    texts = [" ".join(base), " ".join(far), " ".join(close)]
    result = find_duplicates(texts, **OPTS)
    assert [(a, b) for a, b, _ in result.pairs] == [(0, 2)]
    strict = find_duplicates(texts, **{**OPTS, "threshold": 0.95})
    assert not strict.pairs


def test_clusters_join_chains_and_keep_the_earliest_record() -> None:
    words = [f"w{k}" for k in range(80)]
    a = " ".join(words)
    b = " ".join([*words[:40], "x", *words[41:]])
    c = " ".join([*words[:40], "x", *words[41:70], "y", *words[71:]])
    other = " ".join(f"z{k}" for k in range(80))
    result = find_duplicates([other, c, a, b], **OPTS)
    assert [c for c in result.clusters if len(c) > 1] == [[1, 2, 3]]
    kept, groups, dropped = result.resolve("drop")
    assert kept == [0, 1] and {d.index for d in dropped} == {2, 3}
    kept, groups, dropped = result.resolve("group")
    assert kept == [0, 1, 2, 3] and [1, 2, 3] in groups and not dropped


def test_same_input_same_result() -> None:
    _, texts, _ = _texts(200, near=10, exact=4)
    first, second = find_duplicates(texts, **OPTS), find_duplicates(texts, **OPTS)
    assert first.pairs == second.pairs and first.exact == second.exact
    assert first.clusters == second.clusters


def test_signatures_equal_datasketch_minhash_and_short_texts_get_one_shingle() -> None:
    from datasketch import MinHash

    _, texts, _ = _texts(30)
    word_lists = [normalise(t) for t in texts] + [["only", "two"], [], ["one"]]
    shingler = Shingler(3)
    flat, offsets = shingler.many([shingler.ids(w) for w in word_lists])
    sig = signatures(flat, offsets, 64)
    for i, words in enumerate(word_lists):
        own = flat[offsets[i]:offsets[i + 1]]
        assert np.array_equal(own, shingler(words))
        if not words:
            assert len(own) == 0
            continue
        expected = MinHash(num_perm=64, hashfunc=int)
        expected.update_batch(own.tolist())
        assert np.array_equal(sig[i], expected.hashvalues), i
    two = len(word_lists) - 3  # "only two": one shingle of both words
    assert offsets[two + 1] - offsets[two] == 1
