"""The workspace layout promised to downstream users: names, entry points, light packages."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MEMBERS = ["schema", "seeds", "datagen", "dataset", "train", "infer", "eval"]
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


def test_readme_package_table_matches_the_layout() -> None:
    """The README's package table names exactly the folders under packages/, each linked to
    its own README, which its pyproject shows on the package page."""
    import re

    readme = (ROOT / "README.md").read_text()
    table = dict(re.findall(r"^\| \[`(cbt-[a-z]+)`\]\(([^)]+)\) \|", readme, flags=re.MULTILINE))
    folders = {p.name for p in (ROOT / "packages").iterdir() if (p / "pyproject.toml").is_file()}
    assert set(table) == folders
    for name, link in table.items():
        assert link == f"packages/{name}/README.md" and (ROOT / link).is_file(), name
        assert _project(name.removeprefix("cbt-"))["readme"] == "README.md", name


@pytest.mark.parametrize("name", ["schema", "seeds", "dataset"])
def test_light_packages_pull_no_torch(name: str) -> None:
    seen, todo = set(), [f"cbt-{name}"]
    while todo:
        dist = todo.pop()
        seen.add(dist)
        deps = _requirement_names(_project(dist.removeprefix("cbt-")))
        assert not deps & HEAVY, f"{dist} depends on {deps & HEAVY}"
        todo += [d for d in deps if d.startswith("cbt-") and d not in seen]


def test_the_llama_assessor_locks_no_torch() -> None:
    """What `pip install "cbt-infer[llama]"` (or `uv sync --package cbt-infer --extra llama`)
    installs, as the lock resolves it: llama.cpp, and no torch, transformers or peft."""
    import subprocess

    from cbt_testing.venv import uv

    def locked(*extras: str) -> set[str]:
        text = subprocess.run([uv(), "export", "--frozen", "--package", "cbt-infer", "--no-dev",
                               "--no-hashes", "-q", *(f"--extra={e}" for e in extras)],
                              cwd=ROOT, capture_output=True, text=True, check=True).stdout
        return {line.split("==")[0].split(" @ ")[0].strip() for line in text.splitlines()
                if line and not line.startswith((" ", "#", "-e", "."))}

    llama = locked("llama")
    assert "llama-cpp-python" in llama and not llama & (HEAVY - {"llama-cpp-python"})
    assert {"torch", "transformers", "peft"} <= locked("transformers")  # the check can fail


@pytest.mark.slow
def test_dataset_installs_and_builds_without_the_teacher_sdk(tmp_path: Path) -> None:
    """`pip install ./packages/cbt-dataset` in a fresh environment: no anthropic SDK, no
    cbt-datagen, no torch, and the command builds splits (uv installs from its cache)."""
    import json
    import subprocess

    from cbt_testing.venv import clean_env, fresh_env

    env_dir = tmp_path / "venv"
    python = fresh_env(env_dir, "packages/cbt-schema", "packages/cbt-dataset")
    check = ("import importlib.util as u; "
             "print([m for m in ('anthropic', 'cbt_datagen', 'torch', 'matplotlib') "
             "if u.find_spec(m)])")
    clean = clean_env()
    absent = subprocess.run([str(python), "-c", check], capture_output=True, text=True,
                            check=True, env=clean).stdout.strip()
    assert absent == "[]"
    # the input files come from the test tooling (a dev package), written here
    from cbt_schema.jsonl import write_jsonl
    from cbt_testing.synthetic import synthesize

    data = synthesize(40, seed=1)
    for name, records in (("seeds", data.seeds), ("events", data.events),
                          ("assessments", data.assessments)):
        write_jsonl(tmp_path / f"{name}.jsonl", records)
    (tmp_path / "system.txt").write_text("You help people notice unhelpful thinking.\n")
    (tmp_path / "params.yaml").write_text(json.dumps(
        {"dataset": {"system_prompt": "system.txt", "tokenizer": None}}))
    done = subprocess.run([str(env_dir / "bin/cbt-dataset"), "--seeds", "seeds.jsonl",
                           "--events", "events.jsonl", "--assessments", "assessments.jsonl",
                           "--out", "splits", "--metrics", "data.json", "--plots", "plots",
                           "--no-figure", "--no-progress"], cwd=tmp_path, capture_output=True,
                          text=True, env=clean)
    assert done.returncode == 0, done.stderr
    metrics = json.loads((tmp_path / "data.json").read_text())
    assert metrics["split"]["train"] + metrics["split"]["test"] == metrics["duplicates"]["kept"]
    # without matplotlib, asking for the figure is one line naming the extra
    again = subprocess.run([str(env_dir / "bin/cbt-dataset"), "--seeds", "seeds.jsonl",
                            "--events", "events.jsonl", "--assessments", "assessments.jsonl",
                            "--out", "splits", "--metrics", "data.json", "--plots", "plots",
                            "--no-progress"], cwd=tmp_path, capture_output=True, text=True,
                           env=clean)
    assert again.returncode == 2 and "cbt-dataset[figure]" in again.stderr


def _locked_versions(*args: str) -> dict[str, str]:
    """name -> version of what `uv sync --all-packages <args>` installs, read from uv.lock."""
    import subprocess

    from cbt_testing.venv import uv

    done = subprocess.run([uv(), "export", "--frozen", "--all-packages", "--no-hashes",
                           "--no-header", "--no-emit-workspace", *args], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    pins = (line.split(";")[0].strip() for line in done.stdout.splitlines())
    return dict(pin.split("==") for pin in pins if "==" in pin)


def test_unsloth_caps_only_its_own_install() -> None:
    """unsloth caps torch, transformers and trl; the lock gives its extra a resolution of its
    own (a uv conflicts fork), so the default install takes newer versions, and the environment
    the tests run in is exactly one of the two."""
    import importlib.metadata
    import importlib.util

    from packaging.version import Version

    default, with_unsloth = _locked_versions(), _locked_versions("--extra", "unsloth")
    assert "unsloth" not in default and "unsloth" in with_unsloth
    for name in ("torch", "transformers", "trl"):
        assert Version(default[name]) > Version(with_unsloth[name]), name
    side = with_unsloth if importlib.util.find_spec("unsloth") else default
    for name in ("torch", "transformers", "trl", "peft", "accelerate"):
        installed = importlib.metadata.version(name).split("+")[0]
        assert installed == side[name], f"{name} {installed} is not the lock's {side[name]}"
