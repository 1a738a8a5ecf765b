"""Chat examples for the student: system prompt, the event as the user turn, the rendered
assessment as the assistant turn."""

from __future__ import annotations

from pathlib import Path

from cbt_datagen.dataset.join import Sample
from cbt_schema import ChatExample, UserError, render_assessment


def load_system_prompt(path: str | Path) -> str:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: system prompt file not found (dataset.system_prompt)")
    text = path.read_text(encoding="utf-8").strip()
    if not text:
        raise UserError(f"{path}: the system prompt is empty")
    return text


def to_chat(sample: Sample, system: str) -> ChatExample:
    """One validation call per example (nested dicts are validated in pydantic-core)."""
    assessment = sample.record.assessment
    return ChatExample.model_validate({
        "id": sample.event.id,
        "messages": [{"role": "system", "content": system},
                     {"role": "user", "content": sample.event.text},
                     {"role": "assistant", "content": render_assessment(assessment)}],
        "emotion": sample.emotion,
        "distortions": list(dict.fromkeys(f.distortion for f in assessment.findings)),
    })
