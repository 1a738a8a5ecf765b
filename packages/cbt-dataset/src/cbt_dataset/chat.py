"""Chat examples for the student: system prompt, the event as the user turn, the assessment
as the assistant turn (rendered in this project's format, or an import's own text)."""

from __future__ import annotations

from pathlib import Path

from cbt_dataset.join import Sample
from cbt_schema import ChatExample, UserError, render_assessment


def load_system_prompt(path: str | Path) -> str:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: system prompt file not found (dataset.system_prompt)")
    text = path.read_text(encoding="utf-8").strip()
    if not text:
        raise UserError(f"{path}: the system prompt is empty")
    return text


def target_text(sample: Sample, verbatim: bool) -> str:
    """The assistant turn: an imported assessment's own text when `verbatim` (dataset.target),
    else the assessment rendered in this project's format."""
    record = sample.record
    if (verbatim and record.verbatim) or record.assessment is None:
        assert record.verbatim is not None  # AssessmentRecord holds one or the other
        return record.verbatim
    return render_assessment(record.assessment)


def to_chat(sample: Sample, system: str, verbatim: bool = False) -> ChatExample:
    """One validation call per example (nested dicts are validated in pydantic-core)."""
    return ChatExample.model_validate({
        "id": sample.event.id,
        "messages": [{"role": "system", "content": system},
                     {"role": "user", "content": sample.event.text},
                     {"role": "assistant", "content": target_text(sample, verbatim)}],
        "emotion": sample.emotion,
        "distortions": list(dict.fromkeys(f.distortion for f in sample.findings)),
        "labelled": sample.labelled,
    })
