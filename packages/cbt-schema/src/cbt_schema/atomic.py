"""Atomic writes: whoever reads the target (or a rerun after a crash) finds the old file or
folder, or the complete new one; never a half-written one, and no temp file left behind.

    write_atomic(path, text_or_bytes)           # a whole file at once
    with atomic_path(path) as tmp:              # a file something else writes (a stream, a
        tool.save(tmp)                          # download, a converter): renamed over path
    with atomic_dir(folder) as tmp:             # a whole folder (save_pretrained, a model)
        model.save_pretrained(tmp)              # at the end of the block

The temp file or folder sits beside the target (same file system, so the final rename is
atomic), named `.<name>.<random>.tmp`; it is removed when the block raises.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["FILE_MODE", "atomic_dir", "atomic_path", "write_atomic"]

FILE_MODE = 0o644  # mkstemp's 0o600 would make outputs unreadable to anyone else


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temp file path beside `path` (the file exists, empty) for the block to write;
    when the block ends without error it is flushed to disk and renamed over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with tmp.open("rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_atomic(path: str | Path, data: str | bytes, encoding: str = "utf-8") -> None:
    """Write `data` (text in `encoding`, or bytes) to `path` atomically."""
    raw = data.encode(encoding) if isinstance(data, str) else data
    with atomic_path(path) as tmp:
        tmp.write_bytes(raw)


@contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield an empty temp folder beside `path` for the block to fill; when the block ends
    without error it replaces `path` (complete old contents or absent until then)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        yield tmp
        os.chmod(tmp, 0o755)
        old = tmp.with_name(tmp.name[:-len(".tmp")] + ".old")
        if path.exists():
            path.rename(old)
        try:
            tmp.rename(path)
        except BaseException:
            if old.exists():
                old.rename(path)
            raise
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
