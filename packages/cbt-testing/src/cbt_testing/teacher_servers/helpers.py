"""Helpers for tests and benchmarks: seeds, a params file for a loopback teacher, the CLI."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

from cbt_schema import Seed

HAIKU = "claude-haiku-5-5"  # the current Haiku (the model table, cbt_datagen/models.yaml)
PRICES = {"local-model": {"input": 0.0, "output": 0.0}}  # params overrides; Haiku's is the table's


def make_seeds(n: int) -> list[Seed]:
    """n distinct, deterministic seeds."""
    emotions = ["shame", "anxiety", "anger", "guilt", "loneliness"]
    jobs = ["nurse", "teacher", "plumber", "accountant", "student", "chef"]
    seeds = []
    for i in range(n):
        fields = dict(sex="female" if i % 2 else "male", age=18 + i % 60,
                      occupation=jobs[i % len(jobs)],
                      relationship_status=("single", "married")[i // 60 % 2],
                      emotion=emotions[i % len(emotions)])
        if i >= 120:
            fields["occupation"] += f" {i}"
        seeds.append(Seed(id=Seed.make_id(**fields), **fields))
    return seeds


def write_params(path: Path, prompts: Path, url: str | None = None, **teacher: Any) -> Path:
    """A params.yaml for a Claude-like teacher at url (anthropic provider by default)."""
    section = {"provider": "anthropic", "model": HAIKU, "base_url": url, "max_concurrency": 8,
               "max_attempts": 3, "timeout_s": 5, "prices": PRICES,
               "max_quarantined_fraction": 0.5, **teacher}
    params = {"base": {"seed": 7}, "teacher": section,
              "events": {"prompt": str(prompts / "event.j2"), "max_tokens": 400},
              "assessments": {"prompt": str(prompts / "assessment.j2"), "max_tokens": 1500,
                              "few_shot": 5}}
    path.write_text(yaml.safe_dump(params))
    return path


def cli(*argv: str) -> int:
    """Run `cbt-datagen argv... --no-progress` in-process; returns the exit status."""
    from cbt_datagen.cli import _main
    from cbt_schema.errors import run_cli

    return run_cli("cbt-datagen", _main, [*argv, "--no-progress"])


def servers(cls: Any, **defaults: Any) -> Iterator[Callable[..., Any]]:
    """For a pytest fixture (`yield from servers(AnthropicServer, api_key=KEY)`): yields
    start(**options), which starts a loopback server of cls; all are stopped afterwards."""
    started: list[Any] = []

    def start(**options: Any) -> Any:
        server = cls(**{**defaults, **options}).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
