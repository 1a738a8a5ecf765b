from typing import Literal

from pydantic import Field, field_validator

from cbt_schema.params._base import Params


class DatasetParams(Params):
    """The `dataset` stage: join, dedup, split, chat formatting and the diversity report."""

    test_size: float = Field(
        0.25, gt=0, description="A fraction (< 1) or a whole count (>= 1) of records held out."
    )
    near_duplicate_threshold: float = Field(
        0.8, gt=0, le=1, description="Jaccard similarity of word shingles at which two events "
        "count as near duplicates."
    )
    shingle_size: int = Field(3, ge=1, le=10, description="Words per shingle.")
    num_perm: int = Field(128, ge=16, le=1024, description="MinHash permutations.")
    near_duplicates: Literal["drop", "group"] = Field(
        "drop", description="drop: keep one event per near-duplicate cluster; group: keep them "
        "all, but never split a cluster across train and test."
    )
    max_excluded_fraction: float = Field(
        0.5, ge=0, le=1, description="Fail when more than this fraction of events lacks a "
        "seed or an assessment."
    )
    target: Literal["rendered", "verbatim"] = Field(
        "rendered", description="The student's target. rendered: each assessment written in "
        "this project's format (an imported one the parser could not read is left out); "
        "verbatim: an imported assessment's own text (generated ones are rendered)."
    )
    system_prompt: str = "prompts/system.txt"
    tokenizer: str | None = Field(
        "models/base", description="The student's tokenizer (a folder, or a hub id already in "
        "the local cache) for token counts; null skips them."
    )

    @field_validator("test_size")
    @classmethod
    def _whole_count(cls, value: float) -> float:
        if value >= 1 and value != int(value):
            raise ValueError("a test size of 1 or more is a count of records and must be whole")
        return value
