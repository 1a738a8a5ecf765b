"""The workspace layout promised to downstream users: names, entry points, light packages."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MEMBERS = ["schema", "seeds", "datagen", "train", "infer", "eval"]
HEAVY = {"torch", "transformers", "peft", "trl", "unsloth", "llama-cpp-python", "bitsandbytes"}


def _project(name: str) -> dict:
    return tomllib.loads((ROOT / f"packages/cbt-{name}/pyproject.toml").read_text())["project"]


def _requirement_names(project: dict) -> set[str]:
    names = set()
    for req in project.get("dependencies", []):
        names.add(req.split(";")[0].split("[")[0].split(">")[0].split("=")[0].split("<")[0].strip())
    return names


@pytest.mark.parametrize("name", MEMBERS)
def test_member_layout(name: str) -> None:
    project = _project(name)
    assert project["name"] == f"cbt-{name}"
    assert project["scripts"] == {f"cbt-{name}": f"cbt_{name}.cli:main"}
    assert (ROOT / f"packages/cbt-{name}/src/cbt_{name}/cli.py").is_file()


@pytest.mark.parametrize("name", ["schema", "seeds"])
def test_light_packages_pull_no_torch(name: str) -> None:
    seen, todo = set(), [f"cbt-{name}"]
    while todo:
        dist = todo.pop()
        seen.add(dist)
        deps = _requirement_names(_project(dist.removeprefix("cbt-")))
        assert not deps & HEAVY, f"{dist} depends on {deps & HEAVY}"
        todo += [d for d in deps if d.startswith("cbt-") and d not in seen]
