"""Build an expensive test artifact once per test session, also across pytest-xdist workers.

pytest's session fixtures live in one process; with `pytest -n 2` each worker would build its
own. `built_once` keeps one copy in the session's shared temp root instead: the first worker to
ask builds it under a file lock, the others wait for it and reuse it. Callers treat the result
as read-only.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

DONE = ".built"


def session_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The temp folder every worker of this session shares (the basetemp without xdist)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str,
               build: Callable[[Path], None]) -> Path:
    """The folder `name`, filled by `build(folder)` once per session; a build that fails
    leaves no marker, so the next asker tries again (and fails with its own traceback)."""
    from filelock import FileLock

    root = session_root(tmp_path_factory)
    out = root / name
    with FileLock(str(root / f"{name}.lock")):
        if not (out / DONE).is_file():
            out.mkdir(parents=True, exist_ok=True)
            build(out)
            (out / DONE).touch()
    return out
