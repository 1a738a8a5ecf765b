"""cbt_schema.logs: -v/-q on a command and its subcommands, and lines on stderr at that level."""

from __future__ import annotations

import argparse
import logging

import pytest

from cbt_schema import logs

log = logging.getLogger("cbt_seeds.example")


def _parser() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    parser = argparse.ArgumentParser(prog="cbt-example")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run")
    logs.add_verbosity(parser, run)
    return parser, run


@pytest.mark.parametrize(("argv", "expected"), [
    (["run"], logging.INFO),
    (["-q", "run"], logging.WARNING),
    (["run", "--quiet"], logging.WARNING),
    (["--verbose", "run"], logging.DEBUG),
    (["run", "-v"], logging.DEBUG),
])
def test_the_flags_work_before_and_after_the_subcommand(argv: list[str], expected: int) -> None:
    parser, _ = _parser()
    assert logs.level(parser.parse_args(argv)) == expected


def test_verbose_and_quiet_do_not_mix(capsys: pytest.CaptureFixture[str]) -> None:
    parser, _ = _parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["run", "-v", "-q"])
    assert "not allowed with argument" in capsys.readouterr().err


@pytest.mark.parametrize(("flag", "shown"), [
    (None, ["a warning", "an info line"]),
    ("--quiet", ["a warning"]),
    ("--verbose", ["a warning", "an info line", "a debug line"]),
])
def test_lines_reach_the_stderr_of_the_moment_as_the_bare_message(
        flag: str | None, shown: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    parser, _ = _parser()
    logs.configure(parser.parse_args(["run", *([flag] if flag else [])]))
    logs.configure(parser.parse_args(["run", *([flag] if flag else [])]))  # no second handler
    capsys.readouterr()
    log.warning("a warning")
    log.info("an info line")
    log.debug("a debug line")
    captured = capsys.readouterr()
    assert captured.err.splitlines() == shown and captured.out == ""


def test_other_libraries_keep_to_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure(argparse.Namespace(verbose=True))
    capsys.readouterr()
    other = logging.getLogger("some_library")
    other.setLevel(logging.INFO)  # as some libraries set their own
    other.info("chatter")
    other.warning("worth saying")
    assert capsys.readouterr().err == "worth saying\n"
