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
    write_jsonl(train, make_examples(6))
    write_jsonl(test, make_examples(2, offset=6))
    return train, test


@pytest.fixture(scope="session")
def base_model_dir() -> Path:
    """models/base built by prepare_base_model from the pinned wheel (cached across runs)."""
    from cbt_train.base_model import cached_base_model

    return cached_base_model()


@pytest.fixture(scope="session")
def tiny_base(base_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer, 32-wide Llama with SmolLM2's real tokenizer and templates (trains in ms).

    Same architecture, module names and chat templates as models/base, so every code path of
    the train stage runs for real; only the numbers are small.
    """
    import shutil

    from transformers import AutoConfig, AutoModelForCausalLM, set_seed

    out = tmp_path_factory.mktemp("tiny-base")
    config = AutoConfig.from_pretrained(base_model_dir)
    config.update({"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
                   "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 16,
                   "max_position_embeddings": 1024})
    set_seed(0)
    AutoModelForCausalLM.from_config(config).save_pretrained(out)
    for item in base_model_dir.iterdir():
        if item.name.startswith(("tokenizer", "chat_template", "special_tokens", "generation")):
            shutil.copy2(item, out / item.name)
    return out


def _tiny_params(base: Path, **changes):
    """Train params for a few fast steps on the tiny model."""
    from cbt_schema.params import TrainParams

    values = {"backend": "hf", "base_model": str(base), "max_length": 128, "batch_size": 2,
              "eval_batch_size": 4, "grad_accum": 1, "learning_rate": 1e-2, "warmup_steps": 0,
              "max_steps": 3, "save_steps": 2, "logging_steps": 1, "eval_steps": 100,
              "lora": {"r": 4, "alpha": 8, "target_modules": ["q_proj", "v_proj"]}}
    values.update(changes)
    return TrainParams.model_validate(values)


@pytest.fixture
def tiny_params(tiny_base: Path):
    """tiny_params(**changes) -> TrainParams for the tiny model."""
    return lambda **changes: _tiny_params(tiny_base, **changes)


@pytest.fixture
def train_paths(tmp_path: Path, splits: tuple[Path, Path]):
    from cbt_train.train import TrainPaths

    train, test = splits
    return TrainPaths(train=train, test=test, out=tmp_path / "models/adapter",
                      metrics=tmp_path / "metrics/train.json", live=tmp_path / "dvclive",
                      checkpoints=tmp_path / "checkpoints")
