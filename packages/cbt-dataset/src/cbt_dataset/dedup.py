"""Exact and near duplicates of event texts: MinHash/LSH over word shingles.

Exact duplicates are texts with the same words once case, punctuation and spacing are
ignored. Near duplicates are pairs whose word-shingle sets have a Jaccard similarity at or
above the threshold: LSH proposes candidate pairs, and each candidate is confirmed with the
exact Jaccard of the two (hashed) shingle sets, so the reported similarity is measured, not
estimated. Pairs join into clusters (union-find); the earliest record of a cluster is kept.

The MinHash signatures are datasketch's ("affine32" scheme, its permutations for the seed,
checked value for value against datasketch.MinHash in the tests) and the band layout is
datasketch's MinHashLSH choice for the threshold; both are computed over all records at once
in numpy, since the per-record objects of datasketch cost ~40 s and ~1 GB at 100,000 events.
"""

from __future__ import annotations

import hashlib
import itertools
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
MINHASH_SEED = 1  # datasketch's default
_CHUNK = 1 << 16  # shingles per block when computing signatures (x num_perm x 4 bytes)


def normalise(text: str) -> list[str]:
    return _WORD.findall(text.lower())


class Shingler:
    """Words -> sorted unique uint32 hashes of their k-word shingles (deterministic: crc32).

    Fewer than k words make one shingle of all of them; no words, no shingles."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._ids: dict[str, int] = {}

    def ids(self, words: Sequence[str]) -> np.ndarray:
        """The words as uint32 crc32 values (looked up in C: map over a dict)."""
        vocab = self._ids
        for w in set(words).difference(vocab):
            vocab[w] = zlib.crc32(w.encode())
        return np.fromiter(map(vocab.__getitem__, words), dtype=np.uint32, count=len(words))

    def __call__(self, words: Sequence[str]) -> np.ndarray:
        flat, _ = self.many([self.ids(words)])
        return flat

    def many(self, id_arrays: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Shingle sets of many texts (from self.ids) at once: (flat hashes, offsets[n + 1]);
        record i's sorted unique hashes are flat[offsets[i]:offsets[i + 1]]."""
        n = len(id_arrays)
        lens = np.fromiter((len(w) for w in id_arrays), dtype=np.int64, count=n)
        ids = np.concatenate(id_arrays) if n else np.zeros(0, dtype=np.uint32)
        starts = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lens, out=starts[1:])
        k = self.size
        span = len(ids) - k + 1
        if span > 0:
            hashes = ids[:span].copy()
            for j in range(1, k):
                hashes = hashes * _MUL + ids[j:j + span]
            rec = np.repeat(np.arange(n, dtype=np.int64), lens)[:span]
            valid = np.arange(span) <= starts[rec] + lens[rec] - k
            keys = (rec[valid].astype(np.uint64) << np.uint64(32)) | hashes[valid]
            del hashes, rec, valid
        else:
            keys = np.zeros(0, dtype=np.uint64)
        short = [i for i in range(n) if 0 < lens[i] < k]  # one shingle of all their words
        if short:
            extra = []
            for i in short:
                h = 0
                for w in ids[starts[i]:starts[i + 1]].tolist():
                    h = (h * int(_MUL) + w) & 0xFFFFFFFF
                extra.append((i << 32) | h)
            keys = np.concatenate([keys, np.array(extra, dtype=np.uint64)])
        keys.sort()
        if len(keys):
            keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))]
        owner = (keys >> np.uint64(32)).astype(np.int64)
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(owner, minlength=n), out=offsets[1:])
        return (keys & np.uint64(0xFFFFFFFF)).astype(np.uint32), offsets


def fmix32(hv: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer, as datasketch applies it before permuting."""
    hv = hv ^ (hv >> np.uint32(16))
    hv = hv * np.uint32(0x85EBCA6B)
    hv = hv ^ (hv >> np.uint32(13))
    hv = hv * np.uint32(0xC2B2AE35)
    return hv ^ (hv >> np.uint32(16))


def signatures(flat: np.ndarray, offsets: np.ndarray, num_perm: int) -> np.ndarray:
    """MinHash signatures (n x num_perm, uint32) equal to datasketch.MinHash(num_perm)
    updated with each record's shingle hashes; records without shingles keep the max value."""
    from datasketch import MinHash

    a, b = MinHash(num_perm=num_perm, seed=MINHASH_SEED).permutations
    n = len(offsets) - 1
    sig = np.full((n, num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
    mixed = fmix32(flat.astype(np.uint32))
    nonempty = np.flatnonzero(np.diff(offsets) > 0)
    pos = 0
    while pos < len(nonempty):
        first = nonempty[pos]
        limit = offsets[first] + _CHUNK
        stop = max(pos + 1, int(np.searchsorted(offsets[nonempty + 1], limit, side="right")))
        recs = nonempty[pos:stop]
        lo, hi = offsets[recs[0]], offsets[recs[-1] + 1]
        permuted = a[:, None] * mixed[None, lo:hi] + b[:, None]  # num_perm x shingles
        sig[recs] = np.minimum.reduceat(permuted, offsets[recs] - lo, axis=1).T
        pos = stop
    return sig


def lsh_candidates(sig: np.ndarray, bands: int, rows: int, active: np.ndarray) -> set:
    """Pairs (i < j) of active records whose signatures agree on every row of some band."""
    pairs: set[tuple[int, int]] = set()
    weights = np.array([pow(0x9E3779B97F4A7C15, k + 1, 1 << 64) for k in range(rows)],
                       dtype=np.uint64)
    for band in range(bands):
        block = sig[active, band * rows:(band + 1) * rows].astype(np.uint64)
        keys = (block * weights).sum(axis=1, dtype=np.uint64)  # wraps: a 64-bit band hash
        order = np.argsort(keys, kind="stable")
        edges = np.flatnonzero(np.diff(keys[order])) + 1
        starts = np.concatenate(([0], edges))
        ends = np.concatenate((edges, [len(order)]))
        multi = ends - starts > 1
        for lo, hi in zip(starts[multi].tolist(), ends[multi].tolist(), strict=True):
            members = sorted(active[order[lo:hi]].tolist())
            pairs.update(itertools.combinations(members, 2))
    return pairs


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
    from datasketch import MinHashLSH
    from tqdm import tqdm

    result = Dedup(len(texts))
    first_by_key: dict[bytes, int] = {}
    unique: list[int] = []
    shingler = Shingler(shingle_size)
    id_arrays: list[np.ndarray] = []
    for i, text in enumerate(texts):
        words = normalise(text)
        key = hashlib.blake2b(" ".join(words).encode(), digest_size=16).digest()
        if key in first_by_key:
            result.exact[i] = first_by_key[key]
        else:
            first_by_key[key] = i
            unique.append(i)
            id_arrays.append(shingler.ids(words))
    del first_by_key

    flat, offsets = shingler.many(id_arrays)
    del id_arrays
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, weights=LSH_WEIGHTS)
    result.bands, result.rows = lsh.b, lsh.r
    sig = signatures(flat, offsets, num_perm)
    active = np.flatnonzero(np.diff(offsets) > 0)
    candidates = sorted(lsh_candidates(sig, lsh.b, lsh.r, active))
    del sig
    result.candidates = len(candidates)

    def shingles(pos: int) -> np.ndarray:
        return flat[offsets[pos]:offsets[pos + 1]]

    parent = list(range(len(unique)))
    for a, b in tqdm(candidates, desc="near duplicates", unit="pair", file=sys.stderr,
                     disable=None if progress is None else not progress, mininterval=1.0):
        sim = jaccard(shingles(a), shingles(b))
        if sim >= threshold:
            result.pairs.append((unique[a], unique[b], round(sim, 4)))
            ra, rb = _find(parent, a), _find(parent, b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)

    members: dict[int, list[int]] = {}
    for pos in range(len(unique)):
        members.setdefault(_find(parent, pos), []).append(pos)
    for root in sorted(members):
        cluster = members[root]
        result.clusters.append([unique[p] for p in cluster])
        for p in cluster[1:]:
            sim = jaccard(shingles(cluster[0]), shingles(p))
            result.near.append(Duplicate(unique[p], unique[cluster[0]], "near", round(sim, 4)))
    return result
