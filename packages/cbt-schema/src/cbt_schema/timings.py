"""A stage's timings: how long it took and what it used, kept apart from its results.

    write_timings("train", {"train_s": 169.3, "s_per_step": 4.702})  # -> timings/train.json
    read_timings("train")                                              # {} when none was written

Wall times, rates (tokens/s, requests/s, seconds per example), memory peaks and load averages
change from run to run while the results stay equal. They go to one JSON file per stage under
`timings/` (git-ignored, not declared in dvc.yaml), never into a metrics file, model card or
report, so those and dvc.lock change only when a result changes. The folder is `timings/`
under the current directory (DVC runs stage commands from the repository root), or the folder
named by $CBT_TIMINGS_DIR (the tests point it at a temp folder). Each file also holds the load
average when it was written, since a shared machine's timings depend on it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from cbt_schema.jsonl import write_json

__all__ = ["TIMINGS_DIR_ENV", "read_timings", "timings_path", "write_timings"]

TIMINGS_DIR_ENV = "CBT_TIMINGS_DIR"


def timings_path(stage: str, root: str | Path | None = None) -> Path:
    """Where `stage`'s timings go: $CBT_TIMINGS_DIR/<stage>.json when set (a relative one
    from `root`), else <root>/timings/<stage>.json; `root` defaults to the current directory."""
    folder = os.environ.get(TIMINGS_DIR_ENV) or "timings"
    return Path(root if root is not None else ".") / folder / f"{stage}.json"


def write_timings(stage: str, figures: Mapping[str, object],
                  root: str | Path | None = None) -> Path:
    """Write `figures` and the current load average as `stage`'s timings; return the path."""
    path = timings_path(stage, root)
    load = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    write_json(path, {**figures, "load_average": load})
    return path


def read_timings(stage: str, root: str | Path | None = None) -> dict:
    """`stage`'s timings as written by write_timings; {} when there are none."""
    path = timings_path(stage, root)
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
