"""The paper profile's dry run (scripts/plan.py): right models, N, split, cost and compute, and
nothing sent: no API key, no network client imported."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
import yaml

from cbt_testing import ROOT
from cbt_testing.repo import env as _env

NETWORK = ("anthropic", "openai", "httpx", "requests")


def _plan(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """scripts/plan.py run as a user runs it, under -X importtime: its stderr ends with a
    line naming every network client module it imported (none, for a dry run)."""
    extra = env or {}
    env = {k: v for k, v in _env().items() if k != "ANTHROPIC_API_KEY"} | extra
    # Anything that tried to reach the API would hit a closed port.
    env.update(ANTHROPIC_BASE_URL="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9",
               HTTP_PROXY="http://127.0.0.1:9")
    proc = subprocess.run([sys.executable, "-X", "importtime", str(ROOT / "scripts/plan.py"),
                           *args], cwd=ROOT, env=env, capture_output=True, text=True)
    lines = proc.stderr.splitlines()
    imported = {line.rsplit("|", 1)[1].strip() for line in lines
                if line.startswith("import time:") and "|" in line}
    net = sorted(m for m in NETWORK if m in imported)
    stderr = "".join(f"{line}\n" for line in lines if not line.startswith("import time:"))
    proc.stderr = stderr + f"NETWORK-MODULES: {','.join(net)}\n"
    return proc


@pytest.fixture(scope="module")
def paper(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str, str]:
    out = tmp_path_factory.mktemp("plan") / "plan.json"
    proc = _plan("--profile", "paper", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    return json.loads(out.read_text()), proc.stdout, proc.stderr


def test_paper_dry_run_names_the_papers_setup(paper) -> None:
    plan, text, _ = paper
    assert plan["profile"] == "paper" and plan["seeds"] == 621
    assert (plan["train"]["n_train"], plan["train"]["n_test"]) == (521, 100)
    assert plan["teacher"]["provider"] == "anthropic"
    assert plan["teacher"]["model"] == "claude-haiku-5-5"
    assert plan["teacher"]["lifecycle"]["status"] == "active"
    assert plan["teacher"]["thinking"] == "disabled"
    assert plan["train"]["base_model"] == "unsloth/llama-3-8b-Instruct-bnb-4bit"
    assert plan["train"]["steps"] == math.ceil(521 / (2 * 4)) * 5
    assert plan["train"]["device"] == "GPU" and plan["train"]["hours"] > 0
    assert plan["command"] == "uv run dvc exp run -S profile=paper"
    assert "seeds" in plan["stages_rerun"]
    assert "dry run, nothing sent, nothing spent" in text
    assert "GPU hours" in text and "ANTHROPIC_API_KEY: NOT set" in text


def test_paper_cost_follows_the_model_table(paper) -> None:
    """Today's prices (the model table), computed by hand: plain, cached (the first wave of
    16 concurrent requests each writes the cache), batches at half price, the upper bound."""
    plan, text, _ = paper
    table = yaml.safe_load((ROOT / "packages/cbt-datagen/src/cbt_datagen/models.yaml")
                           .read_text())
    price = table["models"]["claude-haiku-5-5"]["prices"]
    assert (price["input"], price["output"]) == (0.10, 0.50)
    upper = 0.0
    for stage in ("events", "assessments"):
        s = plan["teacher"][stage]
        n, system = s["calls"], s["prefix_tokens"]
        assert n == 621 and s["cacheable"] and s["cache_writes"] == 16
        expected = (s["input_tokens"] * price["input"]
                    + s["output_tokens_max"] * price["output"]) / 1e6
        assert s["cost_usd_upper_bound"] == pytest.approx(expected, abs=1e-3)
        user = s["input_tokens"] - n * system
        out = s["output_tokens_typical"] * price["output"]
        plain = (s["input_tokens"] * price["input"] + out) / 1e6
        cached = (user * price["input"] + 16 * system * price["cache_write"]
                  + (n - 16) * system * price["cache_read"] + out) / 1e6
        costs = s["cost_usd_typical"]
        assert costs["plain"] == pytest.approx(plain, abs=2e-3)
        assert costs["cached"] == pytest.approx(cached, abs=2e-3) and cached < plain
        assert costs["batch"] == pytest.approx(plain / 2, abs=2e-3)
        assert costs["batch_cached"] == pytest.approx(cached / 2, abs=2e-3)
        upper += expected
    assert plan["teacher"]["cost_usd_upper_bound"] == pytest.approx(upper, abs=0.01)
    assert plan["teacher"]["assessments"]["few_shot"] == 5
    assert plan["teacher"]["paying"] == "cached"
    assert f"<= ${plan['teacher']['cost_usd_upper_bound']:.2f}" in text
    assert f"${plan['teacher']['cost_usd_typical']['cached']:.2f} with prompt caching" in text


def test_dry_run_imports_no_network_client(paper) -> None:
    _, _, err = paper
    assert "NETWORK-MODULES: \n" in err or err.rstrip().endswith("NETWORK-MODULES:"), err


def test_local_profile_costs_nothing_and_reruns_nothing() -> None:
    proc = _plan("--profile", "local")
    assert proc.returncode == 0, proc.stderr
    assert "stages that would rerun: none" in proc.stdout
    assert "teacher cost, typical: $0.00 plain" in proc.stdout and "CPU hours" in proc.stdout


def test_bad_profile_or_override_is_one_line_exit_2() -> None:
    proc = _plan("--profile", "nope")
    assert proc.returncode == 2
    assert ("plan: error: conf/profile/nope.yaml: no such profile (known: local, paper, "
            "paper-release)") in proc.stderr
    proc = _plan("--profile", "paper", "seeds.n=0")
    assert proc.returncode == 2
    assert "plan: error: conf/profile/paper.yaml with overrides: seeds.n:" in proc.stderr



def test_preflight_names_what_would_stop_the_run(tmp_path) -> None:
    """No key, no GPU, the Hub unreachable: exit 1, one line each, names only."""
    proc = _plan("--profile", "paper", "--check")
    assert proc.returncode == 1, proc.stderr
    out = proc.stdout
    assert "[FAIL] ANTHROPIC_API_KEY: not set" in out
    assert "[ok] teacher.model: claude-haiku-5-5 active; $0.1 / $0.5 per million" in out
    assert "[FAIL] base_model: unsloth/llama-3-8b-Instruct-bnb-4bit: neither cached nor " \
        "reachable" in out
    assert "[ok] stage inputs: every dep is in the workspace or made by an earlier stage" in out
    assert "checks failed" in out


def test_preflight_passes_what_is_there_and_never_prints_a_key(tmp_path) -> None:
    secret = "sk-test-preflight-not-a-real-key"
    proc = _plan("--profile", "paper", "--check", "teacher.model=claude-3-haiku-20240307",
                 env={"ANTHROPIC_API_KEY": secret})
    assert "[ok] ANTHROPIC_API_KEY: set" in proc.stdout
    assert secret not in proc.stdout + proc.stderr
    assert ("[FAIL] teacher.model: params.yaml: teacher.model: claude-3-haiku-20240307 was "
            "retired on 2026-04-20 and requests to it fail; use claude-haiku-5-5") in proc.stdout


def test_committed_plan_matches_the_code(paper) -> None:
    """bench/results/plan_paper.json (the README's cost table) is what plan.py prints now."""
    plan, _, _ = paper
    committed = json.loads((ROOT / "bench/results/plan_paper.json").read_text())
    assert committed["teacher"] == plan["teacher"] and committed["train"] == plan["train"], \
        "rerun: uv run python scripts/plan.py --profile paper --json " \
        "bench/results/plan_paper.json && uv run python scripts/render_readme.py"


def test_paper_release_costs_nothing_and_checks_the_file(tmp_path) -> None:
    proc = _plan("--profile", "paper-release", "--check")
    assert proc.returncode == 1
    assert "teacher: none; pairs imported from data/import/paper-release/assessments.csv " \
        "(no requests, $0)" in proc.stdout
    assert "[FAIL] teacher.file: data/import/paper-release/assessments.csv: file not found" \
        in proc.stdout
    assert "ANTHROPIC_API_KEY" not in proc.stdout
    (tmp_path / "r.csv").write_text("Scenario,Analysis\nI lost my keys.,You sound upset.\n")
    proc = _plan("--profile", "paper-release", "--check", f"teacher.file.path={tmp_path}/r.csv")
    assert "[FAIL] teacher.file: " in proc.stdout and "no column 'situation' in the file " \
        "(columns: Scenario, Analysis)" in proc.stdout
    proc = _plan("--profile", "paper-release", "--check", f"teacher.file.path={tmp_path}/r.csv",
                 "teacher.file.columns.situation=Scenario",
                 "teacher.file.columns.assessment=Analysis")
    assert f"[ok] teacher.file: {tmp_path}/r.csv (csv, sha256 " in proc.stdout
