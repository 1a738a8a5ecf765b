"""Rows of an existing dataset: a CSV, JSONL or Parquet file or a folder saved by `datasets`.

Rows stream (a 100k-row file is never held whole). Text that is not UTF-8 is read with
surrogate escapes so that its row, not the whole file, is rejected; a file that is not the
format its extension (or teacher.file.format) says stops with one line.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cbt_schema import UserError

SUFFIXES = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl",
            ".json": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
_MAGIC = {b"PAR1": "Parquet", b"PK\x03\x04": "zip", b"\x1f\x8b": "gzip", b"\x89HDF": "HDF5"}


class BadRow(Exception):
    """A row that cannot be read at all (a JSONL line that is not JSON)."""


def resolve_format(path: Path, fmt: str) -> str:
    if not path.exists():
        raise UserError(f"{path}: file not found (teacher.file.path)")
    if fmt != "auto":
        return fmt
    if path.is_dir():
        return "datasets"
    found = SUFFIXES.get(path.suffix.lower())
    if found is None:
        raise UserError(f"{path}: cannot tell the format from the extension {path.suffix!r}; "
                        f"set teacher.file.format to one of csv, jsonl, parquet, datasets")
    return found


def source_sha256(path: Path) -> str:
    """The file's sha256; a folder's is over its files' relative paths and contents."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        with file.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def iter_rows(path: Path, fmt: str, split: str | None = None) -> Iterator[tuple[int, Any]]:
    """(row number from 1, the row as a dict, or a BadRow) for each row of the file."""
    readers = {"csv": _csv_rows, "jsonl": _jsonl_rows, "parquet": _parquet_rows,
               "datasets": lambda p: _datasets_rows(p, split)}
    return readers[fmt](path)


def _not_text(path: Path, fmt: str) -> None:
    with path.open("rb") as fh:
        head = fh.read(65536)
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            raise UserError(f"{path}: not a {fmt} file: it starts like a {kind} file")
    if b"\0" in head:
        raise UserError(f"{path}: not a {fmt} file: it holds binary data (NUL bytes)")


def _csv_rows(path: Path) -> Iterator[tuple[int, Any]]:
    _not_text(path, "CSV")
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # over-long cells are judged per row
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    with path.open(encoding="utf-8", errors="surrogateescape", newline="") as fh:
        reader = csv.DictReader(fh, delimiter=delimiter)
        if not reader.fieldnames:
            raise UserError(f"{path}: not a CSV file: no header row")
        try:
            for number, row in enumerate(reader, 1):
                if None in row:  # more cells than the header names
                    yield number, BadRow(f"{len(row[None])} more cells than the header has")
                else:
                    yield number, row
        except csv.Error as exc:
            raise UserError(f"{path}: line {reader.line_num}: not valid CSV ({exc})") from None


def _json_array_rows(path: Path) -> Iterator[tuple[int, Any]]:
    """A .json file holding one array of objects (as CBT-Bench ships): read whole."""
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(rows, list):
        raise UserError(f"{path}: expected an array of objects, found a {type(rows).__name__}")
    for number, row in enumerate(rows, 1):
        yield number, (row if isinstance(row, dict) else
                       BadRow(f"item {number} is a {type(row).__name__}, not an object"))


def _jsonl_rows(path: Path) -> Iterator[tuple[int, Any]]:
    _not_text(path, "JSONL")
    with path.open("rb") as fh:
        if path.suffix.lower() == ".json" and fh.read(64).lstrip().startswith(b"["):
            yield from _json_array_rows(path)
            return
    number = 0
    with path.open(encoding="utf-8", errors="surrogateescape") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            number += 1
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                if number == 1:
                    raise UserError(f"{path}: not a JSONL file: line {lineno} is not JSON "
                                    "(one JSON object per line expected)") from None
                yield number, BadRow(f"line {lineno} is not JSON")
                continue
            if not isinstance(row, dict):
                if number == 1:
                    raise UserError(f"{path}: not a JSONL file of objects: line {lineno} is "
                                    f"a {type(row).__name__}")
                yield number, BadRow(f"line {lineno} is a {type(row).__name__}, not an object")
                continue
            yield number, row


def _parquet_rows(path: Path) -> Iterator[tuple[int, Any]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise UserError("reading Parquet needs pyarrow: install cbt-datagen[import]") from None
    try:
        table = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid and OSError subclasses
        raise UserError(f"{path}: not a Parquet file ({str(exc).splitlines()[0]})") from None
    number = 0
    for batch in table.iter_batches(batch_size=4096):
        for row in batch.to_pylist():
            number += 1
            yield number, row


def _datasets_rows(path: Path, split: str | None) -> Iterator[tuple[int, Any]]:
    if not (path / "dataset_info.json").is_file() and not (path / "dataset_dict.json").is_file():
        raise UserError(f"{path}: not a folder saved by datasets (save_to_disk): it has "
                        "neither dataset_info.json nor dataset_dict.json")
    try:
        from datasets import DatasetDict, load_from_disk
    except ImportError:
        raise UserError("reading a datasets folder needs datasets: install "
                        "cbt-datagen[import]") from None
    data = load_from_disk(str(path))
    if isinstance(data, DatasetDict):
        names = list(data)
        name = split or ("train" if "train" in names else names[0] if len(names) == 1
                         else None)
        if name not in names:
            raise UserError(f"{path}: teacher.file.split: {split or '(unset)'!r} is not one of "
                            f"this DatasetDict's splits: {', '.join(names)}")
        data = data[name]
    elif split:
        raise UserError(f"{path}: teacher.file.split is {split!r}, but the folder holds one "
                        "Dataset, not a DatasetDict; remove the split")
    yield from enumerate(data, 1)
