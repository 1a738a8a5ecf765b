"""tasks.py: what each command installs before it runs (no install happens here)."""

from __future__ import annotations

import importlib.util
import os
from types import ModuleType

import pytest

from cbt_testing import ROOT


def _tasks(monkeypatch: pytest.MonkeyPatch) -> tuple[ModuleType, list[tuple[str, ...]]]:
    spec = importlib.util.spec_from_file_location("cbt_tasks", ROOT / "tasks.py")
    assert spec and spec.loader
    tasks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tasks)
    calls: list[tuple[str, ...]] = []
    monkeypatch.setattr(tasks, "run", lambda *cmd: calls.append(cmd))
    monkeypatch.setattr(tasks, "uv", lambda: "uv")
    monkeypatch.setattr(os, "environ", dict(os.environ))  # main() sets a few variables
    return tasks, calls


@pytest.mark.parametrize("command", ["repro", "test"])
def test_repro_and_test_install_the_llama_extra(command: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Without llama-cpp-python the export stage writes EXPORT_SKIPPED.txt, not the GGUF
    files dvc.lock records: `repro` installs it, as `test` does."""
    tasks, calls = _tasks(monkeypatch)
    tasks.main([command, "--dry"])
    assert calls[0][:4] == ("uv", "sync", "--locked", "--all-packages")
    assert "--extra=llama" in calls[0]
    assert "--compile-bytecode" in calls[0]  # torch is not compiled anew by every process
    if command == "repro":
        assert calls[-1] == ("uv", "run", "--no-sync", "dvc", "repro", "--dry")
    else:
        assert calls[-1][:4] == ("uv", "run", "--no-sync", "pytest")
        assert calls[-1][-1] == "--dry"


def test_sync_alone_installs_without_extras(monkeypatch: pytest.MonkeyPatch) -> None:
    tasks, calls = _tasks(monkeypatch)
    tasks.main(["sync"])
    assert calls == [("uv", "sync", "--locked", "--all-packages", "--compile-bytecode")]


def test_the_suite_spreads_over_the_cores_and_quick_leaves_out_the_slow_tests(
        monkeypatch: pytest.MonkeyPatch) -> None:
    tasks, calls = _tasks(monkeypatch)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    tasks.main(["test"])
    spread = ("-n", "2", "--dist", "loadfile", "--no-loadscope-reorder")
    assert calls[-1][4:] == spread
    tasks.main(["test", "--quick", "-x"])
    assert calls[-1][4:] == (*spread, "-m", "not slow", "-x")
    tasks.main(["test", "-n", "0", "tests/test_tasks.py"])  # the caller's choice of workers
    assert calls[-1][4:] == ("-n", "0", "tests/test_tasks.py")
