"""The paper profile rehearsed at full size: `dvc repro dataset` with 621 seeds, the teacher
against the stand-in that refuses what API version 2026-10-21 refuses, and the student's
tokenizer from a Hugging Face cache (this machine cannot reach the Hub).

The student here is a Llama-architecture stand-in with Llama-3-Instruct's chat template and
special tokens (cbt_testing.training.make_llama3_model: SmolLM2's BPE vocabulary, since the real
tokenizer cannot be fetched), put into an offline hub cache under the paper's model id.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cbt_testing.repo import env as _env
from cbt_testing.teacher_servers.anthropic_server import AnthropicServer

pytestmark = pytest.mark.slow

KEY = "test-key-not-a-secret-rehearsal"
STUDENT = "unsloth/llama-3-8b-Instruct-bnb-4bit"


def _run(repo: Path, env: dict[str, str], *cmd: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True, timeout=3000)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}\n" \
                                 f"{proc.stderr[-3000:]}"
    return proc


@pytest.fixture
def hf_home(tmp_path: Path) -> Path:
    """An offline hub cache holding the paper student's config and tokenizer."""
    from cbt_testing.training import make_llama3_model, write_hub_snapshot
    from cbt_train.base_model import cached_base_model

    stand_in = make_llama3_model(cached_base_model(), tmp_path / "llama3", weights=False)
    home = tmp_path / "hf"
    write_hub_snapshot(home / "hub", STUDENT, stand_in)
    return home


def test_paper_profile_runs_every_stage_before_train_at_full_size(pipeline_repo: Path,
                                                                  hf_home: Path) -> None:
    with AnthropicServer(api_key=KEY) as server:
        env = _env() | {"ANTHROPIC_API_KEY": KEY, "HF_HOME": str(hf_home),
                        "HF_HUB_OFFLINE": "1"}
        env["PYTHONPATH"] = os.pathsep.join(str(p) for p in
                                            sorted(pipeline_repo.glob("packages/*/src")))
        _run(pipeline_repo, env, sys.executable, "scripts/compose_params.py", "profile=paper",
             f"teacher.base_url={server.url}")
        repro = _run(pipeline_repo, env, "dvc", "repro", "dataset")
        first = server.first_body

    # the first request names an active model, carries no sampling parameter, and does not
    # force a tool while thinking is on
    assert first["model"] == "claude-haiku-5-5"
    assert not {"temperature", "top_p", "top_k"} & first.keys()
    assert first["tool_choice"]["type"] == "tool" and first["thinking"] == {"type": "disabled"}
    assert server.rejected == []
    for stage in ("seeds", "local_model", "base_model", "events", "assessments", "dataset"):
        assert f"Running stage '{stage}'" in repro.stdout
    assert "crisis_probe" not in repro.stdout  # not upstream of dataset: the student's base
    # is not the crisis screen's encoder

    metrics = json.loads((pipeline_repo / "metrics/datagen.json").read_text())
    for stage in ("events", "assessments"):
        assert (metrics[stage]["succeeded"], metrics[stage]["quarantined"]) == (621, 0)
    splits = pipeline_repo / "data/splits"
    assert [len((splits / f"{s}.jsonl").read_text().splitlines()) for s in
            ("train", "test")] == [521, 100]
    data = json.loads((pipeline_repo / "metrics/data.json").read_text())
    note = data["tokens"]["note"]
    assert data["tokens"]["counted"] and data["tokens"]["over_max_length"] == 0
    assert note.startswith("counted with models/base") and "its chat template" in note

    # the cost is the model table's prices times the tokens, by hand (no long prompts here)
    price = {"input": 0.10, "output": 0.50, "cache_write": 0.125, "cache_read": 0.01}
    tokens = metrics["total"]["tokens"]
    by_hand = (tokens["input"] * price["input"] + tokens["output"] * price["output"]
               + tokens["cache_write"] * price["cache_write"]
               + tokens["cache_read"] * price["cache_read"]) / 1e6
    assert metrics["total"]["cost_usd"] == pytest.approx(by_hand, abs=1e-5)
    assert tokens["cache_read"] > tokens["cache_write"] > 0
    manifest = json.loads((pipeline_repo / "models/base/base_model.json").read_text())
    assert (manifest["source"], manifest["name"]) == ("hub", STUDENT)
