"""The cbt-infer command: input handling, crisis path, errors, and one real answer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from cbt_infer.cli import _main
from cbt_schema.errors import run_cli

CLI = [sys.executable, "-c", "from cbt_infer.cli import main; main()"]


def run(args: list[str], stdin: str | None = None, cwd: Path | None = None,
        env_country: str = "") -> subprocess.CompletedProcess:
    """The CLI in a subprocess, by default in an empty folder (no models/crisis_probe.json)."""
    if cwd is None:
        cwd = Path(tempfile.mkdtemp(prefix="cbt-infer-cli-"))
    env = {**os.environ, "CBT_COUNTRY": env_country}
    env.pop("CBT_CRISIS_PROBE", None)
    return subprocess.run(CLI + args, input=stdin, capture_output=True, text=True, timeout=600,
                          cwd=cwd, env=env)


def test_help_imports_no_heavy_library() -> None:
    code = ("import sys; from cbt_infer import cli; "
            "print(sorted(m for m in ('torch', 'transformers', 'llama_cpp') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "[]"
    assert run(["--help"]).stdout.startswith("usage: cbt-infer")


def test_crisis_text_gets_resources_without_a_model(tmp_path: Path) -> None:
    proc = run(["--base", str(tmp_path / "no-model-needed"), "I want to kill myself"])
    assert proc.returncode == 0 and "116 123" in proc.stdout and "988" in proc.stdout
    proc = run(["--json"], stdin="Everyone would be better off without me")
    data = json.loads(proc.stdout)
    assert data["crisis"] is True and data["assessment"] is None
    assert data["tier"] == "likely" and data["screen"] == "keywords (likely risk)"
    # likely risk from keywords is answered at once: the resources never wait for, or depend
    # on, a probe file (here none exists); anything else needs the probe (next test)
    proc = run(["--crisis-probe", "/nonexistent.json", "I want to kill myself"])
    assert proc.returncode == 0 and "988" in proc.stdout and not proc.stderr


class _NoModel:
    """A backend that is never asked: a likely-risk text gets no model output."""

    name = "never-used"


@pytest.mark.parametrize("flags", [[], ["--json"]])
def test_crisis_output_is_what_the_api_returns(flags: list[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from cbt_infer import Assessor, CrisisPolicy
    from cbt_infer.cli import format_text

    monkeypatch.setenv("COLUMNS", "88")  # the same text width here and in the subprocess
    text = "I've been saving up my pills."
    # the probe file is never read: keywords decide likely risk (API and CLI alike)
    policy = CrisisPolicy(crisis_probe="/nonexistent.json", country="IE")
    api = Assessor(_NoModel(), "Be kind.", policy).assess(text)
    assert api.crisis and api.screen == "keywords (likely risk)" and api.backend == ""
    proc = run([*flags, "--country", "IE", "--crisis-probe", "/nonexistent.json", text])
    assert proc.returncode == 0 and not proc.stderr
    expected = json.dumps(api.to_dict(), indent=2) if flags else format_text(api)
    assert proc.stdout == expected + "\n"


def test_crisis_lines_by_country() -> None:
    proc = run(["--country", "IE", "I want to kill myself"])
    assert proc.returncode == 0 and "1800 247 247" in proc.stdout and "988" not in proc.stdout
    proc = run(["I want to kill myself"], env_country="Narnia")
    assert "No crisis lines are listed here for 'Narnia'" in proc.stdout
    assert "988" in proc.stdout  # the default list


@pytest.mark.parametrize(("args", "stdin", "message"), [
    ([""], None, "the situation is empty"),
    (["--file", "/nonexistent.txt"], None, "/nonexistent.txt: file not found"),
    (["--stream", "--json", "x"], None, "do not mix"),
    (["--adapter", "/nonexistent", "--no-crisis-probe", "my boss shouted"], None,
     "adapter folder not found"),
    (["--backend", "llama", "--gguf", "/nonexistent.gguf", "--no-crisis-probe",
      "my boss shouted"], None,
     "/nonexistent.gguf"),
    (["--max-new-tokens", "0", "x"], None, "--max-new-tokens"),
    (["--crisis-probe", "/nonexistent.json", "my boss shouted"], None,
     "/nonexistent.json: crisis probe file not found"),
    (["--crisis-probe", "p.json", "--no-crisis-probe", "x"], None, "do not mix"),
    (["my boss shouted"], None, "models/crisis_probe.json: crisis probe file not found"),
    (["   \n\t "], None, "the situation is empty"),
])
def test_bad_input_is_one_line_and_exit_2(args, stdin, message, capsys, tmp_path,
                                          monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CBT_CRISIS_PROBE", raising=False)
    assert run_cli("cbt-infer", _main, args) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_text_output_is_readable() -> None:
    from cbt_infer.cli import format_text
    from cbt_infer.result import Generation, from_generation
    from cbt_infer.safety import NOTICE
    from cbt_schema import Assessment, Distortion, Finding, render_assessment

    finding = Finding(distortion=Distortion.LABELING, thought="I'm useless",
                      challenge="One test result does not define a whole person.")
    assessment = Assessment(validation="That is painful.", findings=[finding],
                            closing="You can try again.")
    gen = Generation(text=render_assessment(assessment), tokens=60, finish_reason="stop")
    text = format_text(from_generation("s", gen, NOTICE, "transformers", 384))
    assert "Possible thought distortions" in text and "1. Labeling" in text
    assert 'Thought:   "I\'m useless"' in text and "Challenge: One test" in text
    assert text.rstrip().endswith("professional care.")


@pytest.mark.slow
def test_a_real_answer_as_json(base_dir: Path, tmp_path: Path) -> None:
    situation = tmp_path / "s.txt"
    situation.write_text("I failed my driving test again, I'm useless")
    proc = run(["--base", str(base_dir), "--file", str(situation), "--json",
                "--max-new-tokens", "8", "--no-crisis-probe"])
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["crisis"] is False and data["raw"] and data["tokens"] <= 8
    assert data["parsed"] is False and data["problems"]  # 8 tokens cannot be a full answer
    assert "could not be read as a structured assessment" in proc.stderr
    assert data["tier"] == "none" and data["screen"].startswith("keywords only")
    assert "crisis screen: keywords only (the learned probe was turned off)" in proc.stderr
