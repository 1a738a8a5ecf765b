"""Fixtures for cbt-train: the real SmolLM2 base model (built once, cached) and tiny datasets."""

from __future__ import annotations

from pathlib import Path

import pytest

from cbt_schema.distortions import Distortion
from cbt_schema.jsonl import write_jsonl
from cbt_schema.records import Assessment, ChatExample, ChatMessage, Finding
from cbt_schema.render import render_assessment

SYSTEM = "You spot thought distortions and challenge them kindly."
SITUATIONS = [
    ("My manager moved my review meeting without saying why.", "I am sure I will be fired."),
    ("A friend did not answer my message all day.", "Nobody ever wants to talk to me."),
    ("I burned dinner for my family.", "I ruin everything I touch."),
    ("My exam score was 78 out of 100.", "Anything below perfect means I am stupid."),
    ("My partner sighed while I was talking.", "They must be bored of me."),
    ("I forgot a colleague's name at lunch.", "Everyone thinks I am rude now."),
]


def make_examples(n: int, offset: int = 0) -> list[ChatExample]:
    """Chat examples built like the dataset stage does: system, user event, rendered answer."""
    kinds = list(Distortion)
    out = []
    for i in range(offset, offset + n):
        situation, thought = SITUATIONS[i % len(SITUATIONS)]
        distortion = kinds[i % len(kinds)]
        answer = render_assessment(Assessment(
            validation="That sounds really hard, and it makes sense you feel upset.",
            findings=[Finding(distortion=distortion, thought=thought,
                              challenge="What evidence do you have for and against this?")],
            closing="You are doing well by noticing this thought.",
        ))
        out.append(ChatExample(id=f"ex-{i}", messages=[
            ChatMessage(role="system", content=SYSTEM),
            ChatMessage(role="user", content=f"{situation} {thought}"),
            ChatMessage(role="assistant", content=answer),
        ], distortions=[distortion]))
    return out


@pytest.fixture
def example_factory():
    return make_examples


@pytest.fixture
def splits(tmp_path: Path) -> tuple[Path, Path]:
    train, test = tmp_path / "data/train.jsonl", tmp_path / "data/test.jsonl"
    write_jsonl(train, make_examples(8))
    write_jsonl(test, make_examples(2, offset=8))
    return train, test


@pytest.fixture(scope="session")
def base_model_dir() -> Path:
    """models/base built by prepare_base_model from the pinned wheel (cached across runs)."""
    from cbt_train.base_model import cached_base_model

    return cached_base_model()
