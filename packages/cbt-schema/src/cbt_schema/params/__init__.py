"""Params models for every pipeline stage, and the loader that validates params.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

import yaml
from pydantic import Field, ValidationError, field_validator

from cbt_schema.errors import UserError
from cbt_schema.params._base import Params
from cbt_schema.params.dataset import DatasetParams
from cbt_schema.params.infer import EvalParams, ExportParams
from cbt_schema.params.seeds import BaseParams, SeedsParams
from cbt_schema.params.teacher import (
    GenerationStageParams,
    ImportColumns,
    ImportParams,
    LongPromptPrice,
    Price,
    TeacherParams,
)
from cbt_schema.params.train import BaseModelParams, LoraParams, TrainParams

__all__ = [
    "BaseModelParams", "BaseParams", "DatasetParams", "EvalParams", "ExportParams",
    "GenerationStageParams", "ImportColumns", "ImportParams", "LongPromptPrice", "LoraParams",
    "Params", "PipelineParams", "Price", "SeedsParams", "TeacherParams", "TrainParams",
    "load_params",
]


class PipelineParams(Params):
    """The whole params.yaml. Every section is validated before any stage does work."""

    profile: Literal["local", "paper", "paper-release"] = "local"
    base: BaseParams = BaseParams()
    seeds: SeedsParams = SeedsParams()
    teacher: TeacherParams = TeacherParams()
    events: GenerationStageParams = GenerationStageParams(prompt="prompts/event.j2",
                                                          max_tokens=200, balanced_fraction=0.25)
    assessments: GenerationStageParams = GenerationStageParams(
        prompt="prompts/assessment.j2", max_tokens=600
    )
    dataset: DatasetParams = DatasetParams()
    local_model: BaseModelParams = Field(
        default_factory=BaseModelParams,
        description="The pinned SmolLM2-135M-Instruct that runs on any CPU, in every profile: "
        "the local teacher's model and the crisis screen's encoder (models/local).")
    base_model: BaseModelParams = BaseModelParams()
    train: TrainParams = TrainParams()
    export: ExportParams = ExportParams()
    evaluate: EvalParams = EvalParams()

    @field_validator("local_model")
    @classmethod
    def _local_model_is_local(cls, value: BaseModelParams) -> BaseModelParams:
        if value.source != "smollm2-wheel":
            raise ValueError("source must be smollm2-wheel: the crisis screen and the local "
                             "teacher run this model on any CPU, whatever the student is")
        return value


def _allowed_keys(model: type[Params], loc: tuple) -> list[str]:
    for part in loc[:-1]:
        field = model.model_fields.get(str(part))
        annotation = getattr(field, "annotation", None)
        annotation = next((a for a in get_args(annotation) if isinstance(a, type)
                           and issubclass(a, Params)), annotation)  # X | None -> X
        if not (isinstance(annotation, type) and issubclass(annotation, Params)):
            return []
        model = annotation
    return list(model.model_fields)


def format_validation_error(source: str, exc: ValidationError,
                            model: type[Params] = PipelineParams) -> str:
    """One line per problem: `file: key.path: what is wrong (what is allowed)`."""
    lines = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        key = ".".join(str(p) for p in loc) or "(top level)"
        if err["type"] == "extra_forbidden":
            allowed = ", ".join(_allowed_keys(model, loc))
            lines.append(f"{source}: {key}: unknown key (allowed: {allowed})")
        else:
            got = err.get("input")
            shown = "" if isinstance(got, dict) else f" (got {got!r})"
            lines.append(f"{source}: {key}: {err['msg']}{shown}")
    return "; ".join(lines)


def load_params(path: str | Path = "params.yaml") -> PipelineParams:
    """Read and validate params.yaml; any problem raises UserError naming the file and key."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: params file not found")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise UserError(f"{path}{where}: not valid YAML") from None
    if not isinstance(raw, dict):
        raise UserError(f"{path}: expected a mapping of sections at the top level")
    try:
        return PipelineParams.model_validate(raw)
    except ValidationError as exc:
        raise UserError(format_validation_error(str(path), exc)) from None
