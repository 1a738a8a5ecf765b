from typing import Literal

from pydantic import Field

from cbt_schema.params._base import Params


class ExportParams(Params):
    """The `export` stage: GGUF files for llama.cpp and Ollama (needs cbt-infer[export]).

    `enabled: false`, or the extra not installed, makes the stage write only a note saying how
    to enable it. `quantization` is a llama.cpp file type besides the f16 file.
    """

    enabled: bool = True
    quantization: Literal["q4_0", "q4_1", "q4_k_m", "q4_k_s", "q5_0", "q5_k_m", "q6_k",
                          "q8_0"] = "q4_k_m"


class EvalParams(Params):
    """The `evaluate` stage."""

    backend: Literal["transformers", "llama"] = "transformers"
    limit: int | None = Field(None, ge=1)
    max_new_tokens: int = Field(256, ge=16)
    batch_size: int = Field(4, ge=1)
    bootstrap: int = Field(1000, ge=0)
