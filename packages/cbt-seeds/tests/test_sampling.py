from collections import Counter

import pytest

from cbt_schema import UserError
from cbt_schema.params import SeedsParams
from cbt_seeds import EMOTIONS, OCCUPATIONS, resolve_pools, sample_seeds, summarize


def test_pools_match_the_paper() -> None:
    assert len(EMOTIONS) == 45 == len(set(EMOTIONS))
    assert len(set(OCCUPATIONS)) >= 100
    assert {"Anger", "Paranoia", "Worry", "Vengefulness"} <= set(EMOTIONS)


def test_deterministic_and_prefix_stable() -> None:
    a = sample_seeds(SeedsParams(n=100), seed=7)
    assert a == sample_seeds(SeedsParams(n=100), seed=7)
    assert sample_seeds(SeedsParams(n=30), seed=7) == a[:30]
    assert sample_seeds(SeedsParams(n=100), seed=8) != a


@pytest.mark.parametrize("n", [1, 44, 45, 46, 100, 621])
def test_emotions_even_and_no_duplicates(n: int) -> None:
    seeds = sample_seeds(SeedsParams(n=n), seed=1)
    counts = Counter(s.emotion for s in seeds)
    assert len(seeds) == n
    assert max(counts.values()) - min(counts.values()) <= 1
    assert len(counts) == min(n, 45)
    keys = {(s.sex, s.age, s.occupation, s.relationship_status, s.emotion) for s in seeds}
    assert len(keys) == n == len({s.id for s in seeds})
    assert all(18 <= s.age <= 80 for s in seeds)


def test_full_capacity_of_a_tiny_pool() -> None:
    params = SeedsParams(n=12, age_min=30, age_max=31, sexes=["female"], occupations=["nurse"],
                         relationship_statuses=["single", "married"],
                         emotions=["Fear", "Worry", "Guilt"])
    seeds = sample_seeds(params, seed=3)
    assert len({s.id for s in seeds}) == 12
    with pytest.raises(UserError, match=r"params.yaml: seeds.n: 13 is more than the 12 unique"):
        sample_seeds(params.model_copy(update={"n": 13}), seed=3)


def test_empty_pool_and_bad_ages() -> None:
    with pytest.raises(UserError, match=r"seeds.occupations: the pool is empty"):
        resolve_pools(SeedsParams(occupations=[]))
    with pytest.raises(UserError, match=r"seeds.age_min: 60 is greater than seeds.age_max"):
        resolve_pools(SeedsParams(age_min=60, age_max=40))


def test_summary() -> None:
    stats = summarize(sample_seeds(SeedsParams(n=90), seed=1))
    assert stats["n"] == 90 and stats["emotions"] == 45
    assert stats["emotion_count_min"] == stats["emotion_count_max"] == 2
