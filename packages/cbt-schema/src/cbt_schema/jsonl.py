"""JSONL files: validated reads that name the bad line, durable appends, atomic writes."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from cbt_schema.atomic import atomic_path, write_atomic
from cbt_schema.errors import UserError

M = TypeVar("M", bound=BaseModel)


def _short(exc: ValidationError) -> str:
    first = exc.errors()[0]
    loc = ".".join(str(p) for p in first["loc"]) or "record"
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{loc}: {first['msg']}{more}"


def iter_jsonl(path: str | Path, model: type[M]) -> Iterator[M]:
    """Yield validated records; a missing file or a bad line raises UserError naming it."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: file not found")
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield model.model_validate_json(line)
            except ValidationError as exc:
                if exc.errors()[0]["type"] == "json_invalid":
                    raise UserError(f"{path}:{lineno}: not valid JSON") from None
                raise UserError(f"{path}:{lineno}: {_short(exc)}") from None


def read_jsonl(path: str | Path, model: type[M]) -> list[M]:
    return list(iter_jsonl(path, model))


def read_jsonl_tolerant(path: str | Path, model: type[M]) -> tuple[list[M], list[int]]:
    """Read what validates; return the records and the numbers of lines that did not.

    Used for resume files, where a crash may have left a torn last line.
    """
    records: list[M] = []
    bad: list[int] = []
    path = Path(path)
    if not path.is_file():
        return records, bad
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                records.append(model.model_validate_json(line))
            except ValidationError:
                bad.append(lineno)
    return records, bad


def dumps(record: BaseModel) -> str:
    return record.model_dump_json(exclude_none=False)


class JsonlAppender:
    """Append records one line at a time, flushed and fsynced, so a crash loses nothing."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = self.path.open("a", encoding="utf-8")

    def append(self, record: BaseModel | dict) -> None:
        line = record if isinstance(record, dict) else json.loads(dumps(record))
        self._fh.write(json.dumps(line, ensure_ascii=False) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> JsonlAppender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_jsonl(path: str | Path, records: Iterable[BaseModel | dict]) -> int:
    """Write all records atomically (cbt_schema.atomic); return how many were written."""
    count = 0
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8") as fh:
        for record in records:
            if isinstance(record, BaseModel):
                fh.write(record.model_dump_json() + "\n")
            else:
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


def write_json(path: str | Path, obj: object) -> None:
    """Write a JSON document atomically, pretty-printed (metrics files)."""
    write_atomic(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")
