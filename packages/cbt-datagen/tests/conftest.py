"""Fixtures for cbt-datagen: loopback teacher servers, the API key, a project directory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cbt_schema.jsonl import write_jsonl
from cbt_testing.teacher_servers.anthropic_server import AnthropicServer
from cbt_testing.teacher_servers.helpers import make_seeds, servers
from cbt_testing.teacher_servers.openai_server import OpenAIServer

ROOT = Path(__file__).resolve().parents[3]
KEY = "test-key-not-a-secret-0123456789"


@pytest.fixture
def anthropic_server() -> Iterator[Callable[..., AnthropicServer]]:
    """Start AnthropicServer(**options) on loopback (key KEY); all are stopped afterwards."""
    yield from servers(AnthropicServer, api_key=KEY)


@pytest.fixture
def openai_server() -> Iterator[Callable[..., OpenAIServer]]:
    yield from servers(OpenAIServer)


@pytest.fixture
def api_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    return KEY


@pytest.fixture
def prompts() -> Path:
    return ROOT / "prompts"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with 12 seeds in data/seeds.jsonl; cwd is set to it."""
    write_jsonl(tmp_path / "data/seeds.jsonl", make_seeds(12))
    monkeypatch.chdir(tmp_path)
    return tmp_path
