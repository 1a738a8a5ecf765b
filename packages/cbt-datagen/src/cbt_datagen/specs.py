"""The teacher stages' record builders, specs and request-identity params, one of each: the
events and assessments commands, the teacher audit, the tests and the benchmarks use them.

    spec = event_spec(load_prompt("prompts/event.j2"), max_tokens=400)
    spec = assessment_spec(load_prompt("prompts/assessment.j2", 5), max_tokens=1500)
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from cbt_datagen.consensus import split_item_id
from cbt_datagen.engine import BuildRecord, StageSpec
from cbt_datagen.prompts import Prompt
from cbt_schema import Assessment, AssessmentRecord, Event, EventDraft, Provenance
from cbt_schema.params import PipelineParams


def key_params(params: PipelineParams, max_tokens: int) -> dict[str, Any]:
    """The params that change what the teacher writes, so they go into every request id."""
    t = params.teacher
    keys: dict[str, Any] = {"max_tokens": max_tokens}
    if t.provider in ("local", "openai-compatible"):
        keys |= {"temperature": t.temperature, "top_p": t.top_p,
                 "repetition_penalty": t.repetition_penalty, "seed": params.base.seed}
    else:  # Anthropic takes no sampling parameters; thinking and effort change the reply
        keys |= {"thinking": t.thinking, "effort": t.effort}
        if t.thinking == "adaptive":
            keys["thinking_max_tokens"] = t.thinking_max_tokens
    return keys


def event_builder(balanced: Collection[str] = ()) -> BuildRecord:
    """(key, seed id, draft, provenance) -> Event; `balanced`: the seeds asked for balanced
    thinking."""

    def build(key: str, seed_id: str, draft: EventDraft, prov: Provenance) -> Event:
        return Event(id=f"event-{key[:16]}", seed_id=seed_id, situation=draft.situation,
                     reaction=draft.reaction, balanced=seed_id in balanced, provenance=prov)

    return build


def assessment_builder(on_build: Callable[[int, AssessmentRecord], None] | None = None,
                       prefix: str = "assessment") -> BuildRecord:
    """(key, item id, assessment, provenance) -> AssessmentRecord of the item's event;
    `on_build(sample number, record)` sees each (teacher.samples)."""

    def build(key: str, item_id: str, assessment: Assessment,
              prov: Provenance) -> AssessmentRecord:
        event_id, sample = split_item_id(item_id)
        record = AssessmentRecord(id=f"{prefix}-{key[:16]}", event_id=event_id,
                                  assessment=assessment, provenance=prov)
        if on_build is not None:
            on_build(sample, record)
        return record

    return build


def event_spec(prompt: Prompt, max_tokens: int, **options: Any) -> StageSpec:
    """The events stage's spec; options: StageSpec's key_params and schema_of."""
    return StageSpec(stage="events", reply_model=EventDraft, prompt=prompt,
                     max_tokens=max_tokens, build=event_builder(), **options)


def assessment_spec(prompt: Prompt, max_tokens: int, stage: str = "assessments",
                    build: BuildRecord | None = None, **options: Any) -> StageSpec:
    """The assessments stage's spec (or the teacher audit's, `stage`); options: StageSpec's
    key_params and schema_of."""
    return StageSpec(stage=stage, reply_model=Assessment, prompt=prompt, max_tokens=max_tokens,
                     build=build or assessment_builder(), **options)
