"""Every test, in every package, stays offline and keyless and writes no timings into the repo.

Real API keys and base URLs are stripped from the environment before each test, so a
developer's exported ANTHROPIC_API_KEY can never reach a hosted model from a test; tests that
need a key set a fake one themselves (see packages/cbt-datagen/tests/conftest.py). Each test's
stage timings (cbt_schema.timings) go to its own temp folder, it and its subprocesses alike.

Under pytest-xdist (`tasks.py test` runs one worker per core) each worker and its subprocesses
keep torch and OpenMP to one thread: two workers of two threads each on two cores spin against
each other and run several times slower than one thread each. The slow tests are collected
first, the pipeline tests (tests/) first among them, so that the longest files start at once
rather than ending the run on one worker while the others wait (tasks.py keeps this order with
--no-loadscope-reorder).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SECRETS = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL", "OPENAI_API_KEY",
           "OPENAI_BASE_URL", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "AWS_ACCESS_KEY_ID",
           "AWS_SECRET_ACCESS_KEY")

ONE_THREAD = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("PYTEST_XDIST_WORKER"):
        for name in ONE_THREAD:
            os.environ.setdefault(name, "1")


# session fixtures that take minutes to build: a test that asks for one is slow, whatever else
# it does (so `-m "not slow"`, the quick tier, never waits for them)
SLOW_FIXTURES = ("trained_probe",)


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if any(name in getattr(item, "fixturenames", ()) for name in SLOW_FIXTURES):
            item.add_marker(pytest.mark.slow)

    def first(item: pytest.Item) -> tuple[bool, bool]:
        return item.get_closest_marker("slow") is None, "/packages/" in str(item.path)

    items.sort(key=first)  # stable: each file keeps its own order


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SECRETS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _timings_elsewhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CBT_TIMINGS_DIR", str(tmp_path / "timings"))
