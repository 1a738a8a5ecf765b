from pydantic import Field

from cbt_schema.params._base import Params


class BaseParams(Params):
    """Settings shared by every stage."""

    seed: int = Field(42, description="Random seed for sampling, generation and training.")


class SeedsParams(Params):
    """The `seeds` stage: how many seeds to draw and from which pools.

    A pool left as null uses the built-in list of cbt-seeds.
    """

    n: int = Field(24, ge=1)
    age_min: int = Field(18, ge=18, le=120)
    age_max: int = Field(80, ge=18, le=120)
    sexes: list[str] | None = None
    occupations: list[str] | None = None
    relationship_statuses: list[str] | None = None
    emotions: list[str] | None = None
