"""Deterministic, prefix-stable sampling of seeds with even emotion coverage."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from cbt_schema import Seed, UserError
from cbt_schema.params import SeedsParams
from cbt_seeds import pools

_REDRAWS_BEFORE_ENUMERATING = 64


@dataclass(frozen=True)
class Pools:
    sexes: tuple[str, ...]
    ages: tuple[int, ...]
    occupations: tuple[str, ...]
    relationship_statuses: tuple[str, ...]
    emotions: tuple[str, ...]

    @property
    def demographic_combinations(self) -> int:
        return (len(self.sexes) * len(self.ages) * len(self.occupations)
                * len(self.relationship_statuses))

    @property
    def combinations(self) -> int:
        return self.demographic_combinations * len(self.emotions)


def resolve_pools(params: SeedsParams, source: str = "params.yaml") -> Pools:
    """Built-in pools overridden by params; empty or duplicated pools are user errors."""
    if params.age_min > params.age_max:
        raise UserError(f"{source}: seeds.age_min: {params.age_min} is greater than "
                        f"seeds.age_max ({params.age_max})")
    chosen = {}
    for key, default in (("sexes", pools.SEXES), ("occupations", pools.OCCUPATIONS),
                         ("relationship_statuses", pools.RELATIONSHIP_STATUSES),
                         ("emotions", pools.EMOTIONS)):
        values = getattr(params, key)
        values = tuple(default if values is None else (v.strip() for v in values))
        if not values:
            raise UserError(f"{source}: seeds.{key}: the pool is empty; list at least one "
                            "value or set it to null for the built-in pool")
        if any(not v for v in values):
            raise UserError(f"{source}: seeds.{key}: contains an empty string")
        dupes = [v for v, c in Counter(values).items() if c > 1]
        if dupes:
            raise UserError(f"{source}: seeds.{key}: duplicate values {dupes}")
        chosen[key] = values
    return Pools(ages=tuple(range(params.age_min, params.age_max + 1)), **chosen)


def check_capacity(n: int, p: Pools, source: str = "params.yaml") -> None:
    if n > p.combinations:
        raise UserError(
            f"{source}: seeds.n: {n:,} is more than the {p.combinations:,} unique seeds the pools "
            f"allow ({len(p.sexes)} sexes x {len(p.ages)} ages x {len(p.occupations)} occupations "
            f"x {len(p.relationship_statuses)} relationship statuses x {len(p.emotions)} emotions)"
        )


def iter_seeds(n: int, p: Pools, seed: int) -> Iterator[Seed]:
    """Yield n distinct seeds. The first k seeds are the same for any n >= k.

    Emotions are dealt in shuffled rounds of the whole list, so counts differ by at most one.
    """
    check_capacity(n, p)
    rng = random.Random(seed)
    used: dict[str, set[tuple]] = {e: set() for e in p.emotions}
    emotion_round: list[str] = []
    for i in range(n):
        if i % len(p.emotions) == 0:
            emotion_round = rng.sample(p.emotions, len(p.emotions))
        emotion = emotion_round[i % len(p.emotions)]
        demo = _draw_unused(rng, p, used[emotion])
        used[emotion].add(demo)
        sex, age, occupation, status = demo
        yield Seed(id=Seed.make_id(sex, age, occupation, status, emotion), sex=sex, age=age,
                   occupation=occupation, relationship_status=status, emotion=emotion)


def _draw_unused(rng: random.Random, p: Pools, used: set[tuple]) -> tuple:
    for _ in range(_REDRAWS_BEFORE_ENUMERATING):
        demo = (rng.choice(p.sexes), rng.choice(p.ages), rng.choice(p.occupations),
                rng.choice(p.relationship_statuses))
        if demo not in used:
            return demo
    # Nearly full pools: pick uniformly among what is left (rare; pools are usually large).
    left = [d for d in itertools.product(p.sexes, p.ages, p.occupations,
                                         p.relationship_statuses) if d not in used]
    return rng.choice(left)


def sample_seeds(params: SeedsParams, seed: int, source: str = "params.yaml") -> list[Seed]:
    p = resolve_pools(params, source)
    check_capacity(params.n, p, source)
    return list(iter_seeds(params.n, p, seed))


def summarize(seeds: list[Seed]) -> dict:
    """A small stats summary: coverage and spread of each field."""
    emotions = Counter(s.emotion for s in seeds)
    ages = [s.age for s in seeds]
    return {
        "n": len(seeds),
        "emotions": len(emotions),
        "emotion_count_min": min(emotions.values(), default=0),
        "emotion_count_max": max(emotions.values(), default=0),
        "occupations": len({s.occupation for s in seeds}),
        "relationship_statuses": len({s.relationship_status for s in seeds}),
        "sexes": dict(sorted(Counter(s.sex for s in seeds).items())),
        "age_min": min(ages, default=0),
        "age_max": max(ages, default=0),
        "age_mean": round(sum(ages) / len(ages), 2) if ages else 0,
    }
