from typing import Literal

from pydantic import Field

from cbt_schema.params._base import Params


class ExportParams(Params):
    """The `export` stage: GGUF files for llama.cpp and Ollama."""

    enabled: bool = True
    quantization: str = "q4_k_m"


class EvalParams(Params):
    """The `evaluate` stage."""

    backend: Literal["transformers", "llama"] = "transformers"
    limit: int | None = Field(None, ge=1)
    max_new_tokens: int = Field(256, ge=16)
    batch_size: int = Field(4, ge=1)
    bootstrap: int = Field(1000, ge=0)
