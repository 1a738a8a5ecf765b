from typing import Literal

from pydantic import Field

from cbt_schema.params._base import Params

Provider = Literal["local", "anthropic", "anthropic-batch", "openai-compatible"]


class Price(Params):
    """Dollars per million tokens."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_write: float = Field(0.0, ge=0)
    cache_read: float = Field(0.0, ge=0)
    batch_discount: float = Field(0.5, ge=0, le=1)


class TeacherParams(Params):
    """The teacher LLM that writes events and assessments."""

    provider: Provider = "local"
    model: str = "SmolLM2-135M-Instruct"
    base_url: str | None = None
    max_concurrency: int = Field(8, ge=1, le=1024)
    max_attempts: int = Field(3, ge=1, le=10)
    timeout_s: float = Field(120.0, gt=0)
    temperature: float = Field(0.7, ge=0, le=2)
    top_p: float = Field(0.9, gt=0, le=1)
    repetition_penalty: float = Field(1.15, ge=1, le=2)
    prompt_caching: bool = True
    max_quarantined_fraction: float = Field(
        0.5, ge=0, le=1, description="Exit non-zero when more replies than this are quarantined."
    )
    prices: dict[str, Price] = Field(default_factory=dict)


class GenerationStageParams(Params):
    """One teacher stage (`events` or `assessments`)."""

    prompt: str
    max_tokens: int = Field(ge=16, le=8192)
    few_shot: int = Field(0, ge=0, le=20)
