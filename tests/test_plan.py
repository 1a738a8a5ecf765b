"""The paper profile's dry run (scripts/plan.py): right models, N, split, cost and compute, and
nothing sent: no API key, no network client imported."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
import yaml
from conftest import ROOT, _env

WRAPPER = """
import runpy, sys
sys.argv = ["plan.py", *sys.argv[1:]]
try:
    runpy.run_path({script!r}, run_name="__main__")
except SystemExit as exc:
    code = exc.code
else:
    code = 0
net = sorted(m for m in ("anthropic", "openai", "httpx", "requests") if m in sys.modules)
print("NETWORK-MODULES:", ",".join(net), file=sys.stderr)
sys.exit(code)
"""


def _plan(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in _env().items() if k != "ANTHROPIC_API_KEY"}
    # Anything that tried to reach the API would hit a closed port.
    env.update(ANTHROPIC_BASE_URL="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9",
               HTTP_PROXY="http://127.0.0.1:9")
    code = WRAPPER.format(script=str(ROOT / "scripts/plan.py"))
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)


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
    assert plan["teacher"]["model"] == "claude-3-haiku-20240307"
    assert plan["train"]["base_model"] == "unsloth/llama-3-8b-Instruct-bnb-4bit"
    assert plan["train"]["steps"] == math.ceil(521 / (2 * 4)) * 5
    assert plan["train"]["device"] == "GPU" and plan["train"]["hours"] > 0
    assert plan["command"] == "uv run dvc exp run -S profile=paper"
    assert "seeds" in plan["stages_rerun"]
    assert "dry run, nothing sent, nothing spent" in text
    assert "GPU hours" in text and "ANTHROPIC_API_KEY: NOT set" in text


def test_paper_cost_follows_the_price_table(paper) -> None:
    plan, text, _ = paper
    prices = yaml.safe_load((ROOT / "conf/profile/local.yaml").read_text())["teacher"]["prices"]
    price = prices["claude-3-haiku-20240307"]
    upper = 0.0
    for stage in ("events", "assessments"):
        s = plan["teacher"][stage]
        assert s["calls"] == 621
        expected = (s["input_tokens"] * price["input"]
                    + s["output_tokens_max"] * price["output"]) / 1e6
        assert s["cost_usd_upper_bound"] == pytest.approx(expected, abs=1e-3)
        assert 0 < s["cost_usd_typical"] <= s["cost_usd_upper_bound"]
        upper += expected
    assert plan["teacher"]["cost_usd_upper_bound"] == pytest.approx(upper, abs=0.01)
    assert plan["teacher"]["assessments"]["few_shot"] == 5
    assert f"<= ${plan['teacher']['cost_usd_upper_bound']:.2f}" in text


def test_dry_run_imports_no_network_client(paper) -> None:
    _, _, err = paper
    assert "NETWORK-MODULES: \n" in err or err.rstrip().endswith("NETWORK-MODULES:"), err


def test_local_profile_costs_nothing_and_reruns_nothing() -> None:
    proc = _plan("--profile", "local")
    assert proc.returncode == 0, proc.stderr
    assert "stages that would rerun: none" in proc.stdout
    assert "teacher cost: ~$0.00" in proc.stdout and "CPU hours" in proc.stdout


def test_bad_profile_or_override_is_one_line_exit_2() -> None:
    proc = _plan("--profile", "nope")
    assert proc.returncode == 2
    assert "plan: error: conf/profile/nope.yaml: no such profile (known: local, paper)" \
        in proc.stderr
    proc = _plan("--profile", "paper", "seeds.n=0")
    assert proc.returncode == 2
    assert "plan: error: conf/profile/paper.yaml with overrides: seeds.n:" in proc.stderr

