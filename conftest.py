"""Every test, in every package, stays offline and keyless and writes no timings into the repo.

Real API keys and base URLs are stripped from the environment before each test, so a
developer's exported ANTHROPIC_API_KEY can never reach a hosted model from a test; tests that
need a key set a fake one themselves (see packages/cbt-datagen/tests/conftest.py). Each test's
stage timings (cbt_schema.timings) go to its own temp folder, it and its subprocesses alike.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SECRETS = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL", "OPENAI_API_KEY",
           "OPENAI_BASE_URL", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "AWS_ACCESS_KEY_ID",
           "AWS_SECRET_ACCESS_KEY")


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SECRETS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _timings_elsewhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CBT_TIMINGS_DIR", str(tmp_path / "timings"))
