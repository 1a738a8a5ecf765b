"""One verbosity convention: every command and subcommand takes -v/--verbose and -q/--quiet
(cbt_schema.logs), and --quiet leaves only warnings on stderr."""

from __future__ import annotations

import json
import re
import sys
import tomllib
from importlib import import_module
from pathlib import Path

import pytest

from cbt_schema.errors import run_cli
from cbt_schema.jsonl import write_jsonl
from cbt_testing.synthetic import synthesize

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = {name: target for pyproject in sorted(ROOT.glob("packages/*/pyproject.toml"))
           for name, target in tomllib.loads(pyproject.read_text(encoding="utf-8"))
           ["project"].get("scripts", {}).items()}


def _help(script: str, words: list[str], monkeypatch: pytest.MonkeyPatch,
          capsys: pytest.CaptureFixture[str]) -> str:
    module, _, func = SCRIPTS[script].partition(":")
    monkeypatch.setattr(sys, "argv", [script, *words, "--help"])
    with pytest.raises(SystemExit) as done:
        getattr(import_module(module), func)()
    out = capsys.readouterr().out
    assert done.value.code in (0, None), out
    return out


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_every_command_takes_verbose_and_quiet(script: str, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    top = _help(script, [], monkeypatch, capsys)
    listed = re.search(r"^usage: \S+.*?\{([\w,-]+)\}", top, re.M | re.S)
    # and those dispatched before the parser (`if argv[:1] == ["export"]`), which it never lists
    source = import_module(SCRIPTS[script].partition(":")[0]).__file__
    dispatched = re.findall(r'argv\[:1\] == \["([\w-]+)"\]', Path(source).read_text())
    commands = [*(listed.group(1).split(",") if listed else []), *dispatched]
    lacking = [" ".join([script, *words]) for words in [[], *[[c] for c in commands]]
               if not {"--verbose", "--quiet"} <= set(re.findall(
                   r"--\w+", top if not words else _help(script, words, monkeypatch, capsys)))]
    assert lacking == []


def test_quiet_silences_the_info_lines_of_a_real_command(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    """cbt-dataset with no tokenizer set says so on stderr (an info line), unless --quiet."""
    from cbt_dataset.cli import _main

    data = synthesize(20, seed=1)
    (tmp_path / "system.txt").write_text("Spot thought distortions.\n")
    (tmp_path / "params.yaml").write_text(json.dumps(
        {"dataset": {"system_prompt": str(tmp_path / "system.txt"), "tokenizer": None}}))
    argv = ["--params", str(tmp_path / "params.yaml"), "--no-figure", "--no-progress",
            "--out", str(tmp_path / "splits"), "--metrics", str(tmp_path / "data.json"),
            "--plots", str(tmp_path / "plots")]
    for name in ("seeds", "events", "assessments"):
        write_jsonl(tmp_path / f"{name}.jsonl", getattr(data, name))
        argv += [f"--{name}", str(tmp_path / f"{name}.jsonl")]
    said = {}
    for flag in ("", "--quiet", "--verbose"):
        assert run_cli("cbt-dataset", _main, [*argv, *([flag] if flag else [])]) == 0
        captured = capsys.readouterr()
        assert captured.out.startswith("wrote ")  # the result stays on stdout
        said[flag] = captured.err
    assert said[""] == "cbt-dataset: token counts skipped: dataset.tokenizer is not set\n"
    assert said["--quiet"] == ""
    assert said["--verbose"].startswith("options: ") and said[""] in said["--verbose"]
