"""The assessor a person runs: `cbt-infer[llama]` alone, no torch, the screen in front, the
prompt it was trained on read from the model."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from cbt_infer.gguf_tools import extra_missing

needs_llama = pytest.mark.skipif(
    extra_missing() is not None,
    reason=f"extra cbt-infer[export] not installed ({extra_missing()})")
SITUATION = "My friend forgot my birthday and I keep thinking nobody ever remembers me."
NO_TORCH = ("import sys, cbt_infer.cli; "
            "print(sorted(m for m in ('torch', 'transformers', 'peft') if m in sys.modules))")


def test_an_adapter_carries_its_prompt_to_any_folder(base_dir: Path, adapter_dir: Path,
                                                     tmp_path: Path, monkeypatch, caplog) -> None:
    from cbt_infer import Assessor
    from cbt_schema.student import DEFAULT_SYSTEM_PROMPT, TASK_FILE, StudentTask

    carried = tmp_path / "adapter"
    shutil.copytree(adapter_dir, carried)
    StudentTask("Trained: name the distortions kindly.").write(carried)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # no prompts/system.txt here
    trained = Assessor.from_pretrained(base_dir, adapter=carried, crisis_probe=False)
    assert trained.system_prompt == "Trained: name the distortions kindly."
    result = trained.assess(SITUATION, max_new_tokens=4)
    assert result.prompt_source == str(carried / TASK_FILE)
    assert not [m for m in caplog.messages if "note" in m]  # warnings: stderr for a library user
    other = Assessor.from_pretrained(base_dir, adapter=carried, system_prompt="Be brief.",
                                     crisis_probe=False)
    assert "differs from the one the model was trained with" in caplog.text
    caplog.clear()
    assert other.assess(SITUATION, max_new_tokens=4).prompt_source.startswith(
        "explicit (differs")
    foreign = Assessor.from_pretrained(base_dir, adapter=adapter_dir, crisis_probe=False)
    assert foreign.system_prompt == DEFAULT_SYSTEM_PROMPT
    assert "carries no trained prompt" in caplog.text


@needs_llama
@pytest.mark.slow
def test_a_fresh_llama_install_answers_with_the_screen_and_no_torch(
        exported: Path, trained_probe: dict[str, Path], tmp_path: Path) -> None:
    """A new virtual environment with cbt-schema and cbt-infer[llama] alone (the lock's
    versions): no torch is installed or imported, the GGUF answers, the probe screens."""
    from cbt_testing.venv import clean_env, fresh_env, locked_requirements

    requirements = locked_requirements("cbt-infer", "llama", tmp_path / "requirements.txt")
    python = fresh_env(tmp_path / "venv", "-r", str(requirements), "packages/cbt-schema",
                       "packages/cbt-infer[llama]")
    env = clean_env()
    missing = subprocess.run(
        [str(python), "-c", "import importlib.util as u; print([m for m in ('torch', "
         "'transformers', 'peft') if u.find_spec(m)])"],
        capture_output=True, text=True, check=True, env=env).stdout.strip()
    assert missing == "[]"
    cli = [str(tmp_path / "venv/bin/cbt-infer"),
           "--gguf", str(exported / "cbt-student-q4_k_m.gguf"),
           "--crisis-probe", str(trained_probe["probe"]), "--max-new-tokens", "16", "--json"]
    done = subprocess.run([*cli, SITUATION], capture_output=True, text=True, env=env,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["backend"] == "llama" and result["raw"] and result["tier"] == "none"
    assert result["screen"].startswith("keywords, then the learned probe")
    assert result["prompt_source"].endswith("(GGUF metadata)")
    assert "not a substitute for a therapist" in result["notice"]
    assert "answering with" in done.stderr and "(llama)" in done.stderr
    crisis = subprocess.run([*cli, "I am going to kill myself tonight."], capture_output=True,
                            text=True, env=env, cwd=tmp_path)
    assert crisis.returncode == 0 and json.loads(crisis.stdout)["tier"] == "likely"
    imported = subprocess.run([str(python), "-c", NO_TORCH], capture_output=True, text=True,
                              check=True, env=env).stdout.strip()
    assert imported == "[]"
