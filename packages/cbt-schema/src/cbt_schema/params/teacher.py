from typing import Literal

from pydantic import Field, model_validator

from cbt_schema.params._base import Params

Provider = Literal["local", "anthropic", "anthropic-batch", "openai-compatible", "file"]
ImportFormat = Literal["auto", "csv", "jsonl", "parquet", "datasets"]
Columns = str | list[str]


class ImportColumns(Params):
    """Which column of the file holds each field. A name may be dotted to reach into nested
    values (`messages.1.content`); a list of names is joined with a blank line."""

    situation: Columns = Field(description="the person's account: the user turn")
    assessment: Columns = Field(description="the assessment of it: the assistant turn")
    reaction: Columns | None = None
    id: Columns | None = None
    emotion: Columns | None = None
    sex: Columns | None = None
    age: Columns | None = None
    occupation: Columns | None = None
    relationship_status: Columns | None = None

    def mapping(self) -> dict[str, Columns]:
        """field -> column(s), for the fields the file gives."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


class ImportParams(Params):
    """teacher.provider: file. Existing (situation, assessment) pairs stand in for the
    teacher: a CSV, JSONL or Parquet file or a folder saved by `datasets`."""

    path: str = Field(description="the file or folder; under data/import/ DVC tracks it")
    format: ImportFormat = Field("auto", description="auto: from the extension (a folder is "
                                 "a saved `datasets` dataset)")
    split: str | None = Field(None, description="a saved DatasetDict's split (default: its "
                              "only split, or train)")
    columns: ImportColumns
    max_chars: int = Field(8000, ge=100, description="a longer field sends its row to the "
                           "quarantine")
Effort = Literal["low", "medium", "high", "xhigh", "max"]


class LongPromptPrice(Params):
    """Rates for a request whose prompt (input + cache reads + cache writes) is longer than
    `threshold_tokens`; they apply to every token of that request, output included."""

    threshold_tokens: int = Field(ge=1)
    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_write: float = Field(0.0, ge=0)
    cache_read: float = Field(0.0, ge=0)


class Price(Params):
    """Dollars per million tokens."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_write: float = Field(0.0, ge=0)
    cache_read: float = Field(0.0, ge=0)
    batch_discount: float = Field(0.5, ge=0, le=1)
    long_prompt: LongPromptPrice | None = None


class TeacherParams(Params):
    """The teacher LLM that writes events and assessments."""

    provider: Provider = "local"
    model: str = "SmolLM2-135M-Instruct"
    base_url: str | None = None
    max_concurrency: int = Field(8, ge=1, le=1024)
    max_attempts: int = Field(3, ge=1, le=10)
    timeout_s: float = Field(120.0, gt=0)
    # Sampling: the local and openai-compatible providers only. Anthropic's API version
    # 2026-10-21 rejects temperature, top_p and top_k, so nothing of these is sent there.
    temperature: float = Field(0.7, ge=0, le=2)
    top_p: float = Field(0.9, gt=0, le=1)
    repetition_penalty: float = Field(1.15, ge=1, le=2)
    prompt_caching: bool = True
    # Anthropic only. disabled: forced tool use, thinking explicitly off (the two cannot be
    # combined). adaptive: the model thinks as it sees fit and answers in a JSON output
    # format (structured outputs); thinking_max_tokens is added to each stage's max_tokens.
    thinking: Literal["disabled", "adaptive"] = "disabled"
    effort: Effort | None = None
    thinking_max_tokens: int = Field(4096, ge=0, le=64000)
    max_quarantined_fraction: float = Field(
        0.5, ge=0, le=1, description="Exit non-zero when more replies than this are quarantined."
    )
    # Self-consistency (assessments only): k independent assessments per event, each its own
    # request id; a distortion is in the merged labels when more than `majority` of the valid
    # samples name it, and the training target is the sample closest to the merged labels.
    samples: int = Field(1, ge=1, le=20, description="assessments asked per event")
    majority: float = Field(0.5, ge=0, lt=1, description="share of the valid samples that "
                            "must name a distortion, exceeded, for the merged labels to keep it")
    file: ImportParams | None = Field(None, description="provider file: what to import")
    prices: dict[str, Price] = Field(
        default_factory=dict, description="Overrides of, or additions to, the model table "
        "(cbt_datagen/models.yaml): dollars per million tokens by model id.")

    @model_validator(mode="after")
    def _file_needs_import(self) -> "TeacherParams":
        if self.provider == "file" and self.file is None:
            raise ValueError("provider file needs teacher.file: its path and columns "
                             "(situation and assessment at least)")
        return self

    @model_validator(mode="after")
    def _samples_need_a_teacher(self) -> "TeacherParams":
        if self.samples > 1 and self.provider == "file":
            raise ValueError("samples > 1 needs a teacher to ask: provider file imports one "
                             "assessment per row")
        return self

    @model_validator(mode="after")
    def _effort_allows_disabled_thinking(self) -> "TeacherParams":
        if self.thinking == "disabled" and self.effort in ("xhigh", "max"):
            raise ValueError(f"effort {self.effort} needs thinking: adaptive (the API answers "
                             "400 to thinking disabled above effort high)")
        return self


class GenerationStageParams(Params):
    """One teacher stage (`events` or `assessments`)."""

    prompt: str
    max_tokens: int = Field(ge=16, le=8192)
    few_shot: int = Field(0, ge=0, le=20)
    balanced_fraction: float = Field(
        0.0, ge=0, le=1, description="events only: the share of seeds asked for an upsetting "
        "situation in which the person's thinking stays balanced (no distortion), so the gold "
        "labels hold negatives and the distorted-or-not metric measures something")
