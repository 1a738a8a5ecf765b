"""Fixtures for cbt-train: the real SmolLM2 base model (built once, cached) and tiny datasets."""

from __future__ import annotations

from pathlib import Path

import pytest

from cbt_schema.jsonl import write_jsonl
from cbt_testing.training import make_examples, make_tiny_model


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
    return make_tiny_model(base_model_dir, tmp_path_factory.mktemp("tiny-base"))


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
