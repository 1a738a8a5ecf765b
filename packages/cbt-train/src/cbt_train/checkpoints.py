"""The checkpoint folder of the train stage: resume only the same run, on the same number of
processes; prepared by one process (the launcher) and read by the others."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from cbt_schema.errors import UserError

log = logging.getLogger(__name__)


def prepare_checkpoints(checkpoints: Path, print_key: str, resume: bool, world: int,
                        allow_world_change: bool = False) -> Path | None:
    """The last checkpoint when it belongs to this exact run, else None (and a clean folder).

    Run by one process only (the launcher, before it starts the others). A checkpoint written
    by another number of processes is refused unless `allow_world_change`.
    """
    stamp, worlds = checkpoints / "fingerprint.txt", checkpoints / "world_size.txt"
    found = _checkpoints(checkpoints)
    if resume and found and stamp.is_file() and stamp.read_text() == print_key:
        before = int(worlds.read_text()) if worlds.is_file() else 1
        if before != world and not allow_world_change:
            raise UserError(f"{checkpoints}: its checkpoints were written by {before} "
                            f"process{'es' if before > 1 else ''}, this run has {world}; "
                            "resume with the same train.processes, or pass "
                            "--allow-world-size-change (the data order then changes), or "
                            "--no-resume to start over")
        worlds.write_text(str(world))
        return found[-1]
    if found:
        why = "--no-resume" if not resume else "params, data or base model changed"
        log.warning("train: not resuming from %s (%s); starting over", checkpoints, why)
    shutil.rmtree(checkpoints, ignore_errors=True)
    checkpoints.mkdir(parents=True)
    stamp.write_text(print_key)
    worlds.write_text(str(world))
    return None


def _checkpoints(folder: Path) -> list[Path]:
    """The complete checkpoints, oldest first: the Trainer writes trainer_state.json last, so
    a run killed while saving leaves one without it, which is never resumed from."""
    return sorted((p for p in folder.glob("checkpoint-*") if (p / "trainer_state.json").is_file()),
                  key=lambda p: int(p.name.split("-")[1]))


def find_checkpoint(checkpoints: Path, print_key: str) -> Path | None:
    """What prepare_checkpoints chose, read by each launched process (no writes)."""
    stamp = checkpoints / "fingerprint.txt"
    found = _checkpoints(checkpoints)
    return found[-1] if found and stamp.is_file() and stamp.read_text() == print_key else None


def trim_live(folder: Path, step: int) -> None:
    """Drop dvclive rows logged after the checkpoint a run resumes from."""
    for tsv in (folder / "plots" / "metrics").rglob("*.tsv"):
        lines = tsv.read_text().splitlines()
        keep = lines[:1] + [ln for ln in lines[1:] if int(ln.split("\t")[0]) <= step]
        tsv.write_text("\n".join(keep) + "\n")


def checkpoint_tokens(checkpoint: Path) -> int:
    state = json.loads((checkpoint / "trainer_state.json").read_text())
    return int(state.get("num_input_tokens_seen", 0))
