"""Exact and near duplicates of event texts: MinHash/LSH (datasketch) over word shingles.

Exact duplicates are texts with the same words once case, punctuation and spacing are
ignored. Near duplicates are pairs whose word-shingle sets have a Jaccard similarity at or
above the threshold: LSH proposes candidate pairs, and each candidate is confirmed with the
exact Jaccard of the two (hashed) shingle sets, so the reported similarity is measured, not
estimated. Pairs join into clusters (union-find); the earliest record of a cluster is kept.
"""

from __future__ import annotations

import re
import sys
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

_WORD = re.compile(r"\w+")
_MUL = np.uint32(0x01000193)  # FNV prime: a polynomial hash of the words in a shingle
# LSH band layout weighted against misses: candidates are confirmed by exact Jaccard, so a
# false positive costs a little time while a false negative could leak across the split.
# With 128 permutations at threshold 0.8 this picks 16 bands of 8 rows: a pair at exactly
# the threshold is missed with probability 0.05, at 0.85 with 0.006 (datasketch's default
# 0.5/0.5 weights miss 0.60 and 0.31).
LSH_WEIGHTS = (0.05, 0.95)


def normalise(text: str) -> list[str]:
    return _WORD.findall(text.lower())


class Shingler:
    """Text -> sorted unique uint32 hashes of its k-word shingles (deterministic: crc32)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._ids: dict[str, int] = {}

    def _word(self, word: str) -> int:
        value = self._ids[word] = zlib.crc32(word.encode())
        return value

    def __call__(self, words: Sequence[str]) -> np.ndarray:
        ids = self._ids
        arr = np.array([ids[w] if w in ids else self._word(w) for w in words], dtype=np.uint32)
        k = min(self.size, len(arr))
        if k == 0:
            return arr
        span = len(arr) - k + 1
        hashes = arr[:span].copy()
        for j in range(1, k):
            hashes = hashes * _MUL + arr[j:j + span]
        return np.unique(hashes)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard similarity of two sorted unique arrays."""
    if not len(a) and not len(b):
        return 1.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A record found to duplicate an earlier one, and the record that stands for both."""

    index: int
    kept: int
    kind: str  # "exact" or "near"
    similarity: float


@dataclass
class Dedup:
    """Duplicates among texts[0..n): exact ones, near-duplicate pairs and their clusters."""

    n: int
    exact: dict[int, int] = field(default_factory=dict)  # dropped index -> kept index
    pairs: list[tuple[int, int, float]] = field(default_factory=list)
    clusters: list[list[int]] = field(default_factory=list)  # every exact-unique index once
    near: list[Duplicate] = field(default_factory=list)  # non-first members of clusters
    candidates: int = 0
    bands: int = 0
    rows: int = 0

    def miss_probability(self, similarity: float) -> float:
        """Chance that LSH never proposes a pair of this Jaccard similarity."""
        return (1 - similarity ** self.rows) ** self.bands

    @property
    def duplicates(self) -> list[Duplicate]:
        exact = [Duplicate(i, k, "exact", 1.0) for i, k in self.exact.items()]
        return sorted(exact + self.near, key=lambda d: d.index)

    def resolve(self, mode: str) -> tuple[list[int], list[list[int]], list[Duplicate]]:
        """(kept indices in order, split groups over kept indices, dropped records).

        drop: one record per cluster; group: every member kept, each cluster one group.
        Exact duplicates are dropped in both modes.
        """
        exact = [Duplicate(i, k, "exact", 1.0) for i, k in self.exact.items()]
        if mode == "drop":
            groups = [[c[0]] for c in self.clusters]
            dropped = exact + self.near
        else:
            groups = [list(c) for c in self.clusters]
            dropped = exact
        kept = sorted(i for g in groups for i in g)
        return kept, groups, sorted(dropped, key=lambda d: d.index)


def _find(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def find_duplicates(texts: Sequence[str], *, threshold: float, shingle_size: int,
                    num_perm: int, progress: bool | None = None) -> Dedup:
    from datasketch import MinHash, MinHashLSH
    from tqdm import tqdm

    result = Dedup(len(texts))
    first_by_key: dict[str, int] = {}
    unique: list[int] = []
    words: list[list[str]] = []
    for i, text in enumerate(texts):
        w = normalise(text)
        key = " ".join(w)
        if key in first_by_key:
            result.exact[i] = first_by_key[key]
        else:
            first_by_key[key] = i
            unique.append(i)
            words.append(w)
    del first_by_key

    shingler = Shingler(shingle_size)
    shingles = [shingler(w) for w in words]
    del words
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, weights=LSH_WEIGHTS)
    result.bands, result.rows = lsh.b, lsh.r
    minhashes = MinHash.generator((s.tolist() for s in shingles), num_perm=num_perm,
                                  hashfunc=int)
    parent = list(range(len(unique)))
    bar = tqdm(minhashes, total=len(unique), desc="near duplicates", unit="event",
               file=sys.stderr, disable=None if progress is None else not progress,
               mininterval=1.0)
    for pos, mh in enumerate(bar):
        for other in lsh.query(mh):
            result.candidates += 1
            sim = jaccard(shingles[pos], shingles[other])
            if sim >= threshold:
                result.pairs.append((unique[other], unique[pos], round(sim, 4)))
                ra, rb = _find(parent, other), _find(parent, pos)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
        lsh.insert(pos, mh)

    members: dict[int, list[int]] = {}
    for pos in range(len(unique)):
        members.setdefault(_find(parent, pos), []).append(pos)
    for root in sorted(members):
        cluster = members[root]
        result.clusters.append([unique[p] for p in cluster])
        for p in cluster[1:]:
            sim = jaccard(shingles[cluster[0]], shingles[p])
            result.near.append(Duplicate(unique[p], unique[cluster[0]], "near", round(sim, 4)))
    return result
