"""The pipeline's paths live in cbt_schema.paths: dvc.yaml's stages read and write exactly the
paths it names, and each stage's cmd passes the commands' own defaults, which come from it."""

from __future__ import annotations

import argparse
import shlex
import sys
import tomllib
from importlib import import_module
from pathlib import Path

import pytest
import yaml

from cbt_schema import paths

ROOT = Path(__file__).resolve().parents[1]
DVC = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))
STAGES = DVC["stages"]


def _names(entries: list) -> set[str]:
    """dvc.yaml list entries: plain paths, or one-key mappings with options."""
    return {e if isinstance(e, str) else next(iter(e)) for e in entries}


def _data_deps(stage: dict) -> set[str]:
    """Deps that are data: not the stage's code, not the prompts it takes from params."""
    return {d for d in _names(stage.get("deps", []))
            if not d.startswith(("packages/", "scripts/", "prompts/"))}


def _writes(stage: dict) -> set[str]:
    return set().union(*(_names(stage.get(key, [])) for key in ("outs", "metrics", "plots")))


def test_the_module_names_every_stage() -> None:
    assert set(paths.STAGES) == set(STAGES)


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_reads_and_writes_the_named_paths(name: str) -> None:
    named = paths.STAGES[name]
    assert _data_deps(STAGES[name]) == set(named.reads), "deps"
    assert _writes(STAGES[name]) == set(named.writes), "outs, metrics and plots"


def test_artifacts_and_plots_lie_in_named_outputs() -> None:
    written = {p for stage in paths.STAGES.values() for p in stage.writes} | {paths.TEACHERS_PLOT}
    assert {a["path"] for a in DVC["artifacts"].values()} <= written
    for plot in _names(DVC["plots"]):
        assert any(plot == p or plot.startswith(p + "/") for p in written), plot


def _related(a: str, b: str) -> bool:
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_cmd_paths_are_the_named_ones(name: str) -> None:
    """A path in the cmd is one the stage reads or writes (or a folder of them, or a file in
    one), or params.yaml, or a working folder DVC does not track."""
    named = {*paths.STAGES[name].reads, *paths.STAGES[name].writes}
    shared = {paths.PARAMS, paths.DATAGEN_WORK}
    given = [w for w in shlex.split(STAGES[name]["cmd"])[1:]
             if "/" in w or w.endswith((".yaml", ".json", ".jsonl"))]
    assert [g for g in given if g not in shared and not any(_related(g, n) for n in named)] \
        == []


class _Parsed(Exception):
    def __init__(self, namespace: argparse.Namespace) -> None:
        self.namespace = namespace


def _defaults(script: str, command: str | None, first_option: str,
              monkeypatch: pytest.MonkeyPatch) -> argparse.Namespace:
    """The options a console script's (sub)command parses when given none: the command runs
    in this process up to the parse that knows `first_option`, and stops there."""
    scripts: dict[str, str] = {}
    for pyproject in ROOT.glob("packages/*/pyproject.toml"):
        scripts |= tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"].get(
            "scripts", {})
    module, _, func = scripts[script].partition(":")
    parse = argparse.ArgumentParser.parse_known_args
    dest = first_option.lstrip("-").replace("-", "_")

    def spy(self, args=None, namespace=None):
        namespace, rest = parse(self, args, namespace)
        if hasattr(namespace, dest):
            raise _Parsed(namespace)
        return namespace, rest

    monkeypatch.setattr(argparse.ArgumentParser, "parse_known_args", spy)
    monkeypatch.setattr(sys, "argv", [script, *([command] if command else [])])
    with pytest.raises(_Parsed) as parsed:
        getattr(import_module(module), func)()
    return parsed.value.namespace


def _options(words: list[str]) -> dict[str, list[str]]:
    options: dict[str, list[str]] = {}
    for word in words:
        if word.startswith("--"):
            current = options.setdefault(word, [])
        else:
            current.append(word)
    return options


# one command, two stages: `cbt-train base-model` defaults to the base_model stage's section
NOT_DEFAULTS = {"local_model": {"--section", "--out"}}


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_cmd_passes_the_commands_defaults(name: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Every option of the cmd that the command has a default for is given that default, so
    running the command with no options does what the stage does."""
    script, *words = shlex.split(STAGES[name]["cmd"])
    command = words.pop(0) if words and not words[0].startswith("-") else None
    options = _options(words)
    defaults = _defaults(script, command, next(iter(options)), monkeypatch)
    differ = {}
    for option, values in options.items():
        default = getattr(defaults, option.lstrip("-").replace("-", "_"))
        if default in (None, []) or option in NOT_DEFAULTS.get(name, ()):
            continue  # no default: the stage names it
        shown = [str(v) for v in default] if isinstance(default, list) else [str(default)]
        if shown != values:
            differ[option] = (" ".join(values), " ".join(shown))
    assert not differ, f"stage {name}: cmd value vs the command's default: {differ}"
