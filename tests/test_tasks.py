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
    then = {"repro": ("uv", "run", "--no-sync", "dvc", "repro", "--dry"),
            "test": ("uv", "run", "--no-sync", "pytest", "--dry")}[command]
    assert calls[-1] == then


def test_sync_alone_installs_without_extras(monkeypatch: pytest.MonkeyPatch) -> None:
    tasks, calls = _tasks(monkeypatch)
    tasks.main(["sync"])
    assert calls == [("uv", "sync", "--locked", "--all-packages")]  # no extra, no run
