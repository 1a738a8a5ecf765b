from pydantic import Field

from cbt_schema.params._base import Params


class DatasetParams(Params):
    """The `dataset` stage: dedup, split and chat formatting."""

    test_size: float = Field(
        0.25, gt=0, description="A fraction (< 1) or a count (>= 1) of records held out."
    )
    near_duplicate_threshold: float = Field(0.8, gt=0, le=1)
    shingle_size: int = Field(3, ge=1, le=10)
    num_perm: int = Field(128, ge=16, le=1024)
    system_prompt: str = "prompts/system.txt"
