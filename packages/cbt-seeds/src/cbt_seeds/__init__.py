"""cbt-seeds: demographic and emotion seeds for cbt's synthetic triggering events."""

from cbt_seeds.pools import EMOTIONS, OCCUPATIONS, RELATIONSHIP_STATUSES, SEXES
from cbt_seeds.sampling import Pools, iter_seeds, resolve_pools, sample_seeds, summarize

__all__ = ["EMOTIONS", "OCCUPATIONS", "RELATIONSHIP_STATUSES", "SEXES", "Pools", "iter_seeds",
           "resolve_pools", "sample_seeds", "summarize"]
