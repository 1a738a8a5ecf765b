"""Imported rows -> this project's fields, through the column mapping, or a reason to reject.

Each row is checked alone: an empty required field, a field longer than teacher.file.max_chars,
text that is not UTF-8, an age that is not a whole number from 18 to 120 or a repeated id sends
the row to the quarantine with its reason and row number. Rows whose situation repeats an
earlier row's are kept (the dataset stage deduplicates) and reported.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cbt_datagen.importing.formats import BadRow, iter_rows, resolve_format, source_sha256
from cbt_schema import UserError
from cbt_schema.params import ImportParams

REQUIRED = ("situation", "assessment")
_MISSING = object()


class Rejected(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True)
class Row:
    """One accepted row: its number, the mapped fields as text, and its event id."""

    number: int
    fields: dict[str, str]
    event_id: str


@dataclass(frozen=True)
class Rejection:
    number: int
    reason: str
    detail: str
    raw: str


@dataclass
class ImportScan:
    """What streaming the file found; rows and rejections arrive through `scan()`."""

    path: Path
    format: str
    sha256: str
    columns: dict[str, str | list[str]]
    rows: int = 0
    duplicates: list[tuple[int, int]] = field(default_factory=list)  # (row, first row)


def cell(row: Mapping[str, Any], column: str) -> Any:
    """row[column], or a dotted path into nested values (`messages.1.content`)."""
    if column in row:
        return row[column]
    value: Any = row
    for part in column.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list | tuple) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def text_of(value: Any) -> str:
    """A cell as text: None, NaN and a missing cell are empty; a list is joined."""
    if value is None or value is _MISSING:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise Rejected("not_utf8", "holds bytes that are not UTF-8") from None
    if isinstance(value, list | tuple):
        return "\n\n".join(t for t in (text_of(v) for v in value) if t)
    if isinstance(value, dict):
        raise Rejected("not_text", "holds an object, not text (name a nested key with dots)")
    return str(value).strip()


def _field(row: Mapping[str, Any], name: str, columns: str | list[str], max_chars: int) -> str:
    names = [columns] if isinstance(columns, str) else columns
    try:
        text = "\n\n".join(t for t in (text_of(cell(row, c)) for c in names) if t)
    except Rejected as exc:
        raise Rejected(exc.reason, f"{name}: {exc}") from None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise Rejected("not_utf8", f"{name}: not UTF-8 text") from None
    if len(text) > max_chars:
        raise Rejected("too_long", f"{name}: {len(text)} characters, more than "
                       f"teacher.file.max_chars ({max_chars})")
    if not text and name in REQUIRED:
        raise Rejected("empty", f"{name} is empty")
    return text


def _check_age(text: str) -> None:
    if text and not (text.isdigit() and 18 <= int(text) <= 120):
        raise Rejected("bad_age", f"age {text!r} is not a whole number from 18 to 120")


def _raw(row: Any) -> str:
    """The row as JSON text that any reader can load (bad bytes stay visible as escapes)."""
    return row.args[0] if isinstance(row, BadRow) else json.dumps(row, ensure_ascii=True,
                                                                  default=str)


def check_columns(path: Path, row: Any, columns: dict[str, str | list[str]]) -> None:
    """A column named in the mapping but absent from the file's first row: one line."""
    if not isinstance(row, Mapping):
        return
    for name, cols in columns.items():
        for col in [cols] if isinstance(cols, str) else cols:
            if cell(row, col) is _MISSING:
                raise UserError(f"{path}: teacher.file.columns.{name}: no column {col!r} in "
                                f"the file (columns: {', '.join(map(str, row))})")


def open_import(params: ImportParams) -> ImportScan:
    path = Path(params.path)
    fmt = resolve_format(path, params.format)
    return ImportScan(path, fmt, source_sha256(path), params.columns.mapping())


def scan(imp: ImportScan, params: ImportParams,
         limit: int | None = None) -> Iterator[Row | Rejection]:
    """Each row of the file in order, accepted or rejected; fills imp.rows and duplicates."""
    first_situation: dict[str, int] = {}
    seen_ids: dict[str, int] = {}
    for number, row in iter_rows(imp.path, imp.format, params.split):
        if limit is not None and number > limit:
            break
        if number == 1:
            check_columns(imp.path, row, imp.columns)
        imp.rows = number
        try:
            if isinstance(row, BadRow):
                raise Rejected("unreadable", str(row))
            fields = {name: _field(row, name, cols, params.max_chars)
                      for name, cols in imp.columns.items()}
            _check_age(fields.get("age", ""))
            event_id = _event_id(imp.sha256, number, fields.get("id"))
            if fields.get("id"):
                if fields["id"] in seen_ids:
                    raise Rejected("duplicate_id", f"id {fields['id']!r} is also row "
                                   f"{seen_ids[fields['id']]}'s")
                seen_ids[fields["id"]] = number
        except Rejected as exc:
            yield Rejection(number, exc.reason, str(exc), _raw(row))
            continue
        key = " ".join(fields["situation"].lower().split())
        if key in first_situation:
            imp.duplicates.append((number, first_situation[key]))
        else:
            first_situation[key] = number
        yield Row(number, fields, event_id)


def _event_id(sha256: str, number: int, row_id: str | None) -> str:
    """From the row's own id where the mapping names one, else from the file and row."""
    key = f"import-id:{row_id}" if row_id else f"import:{sha256}:{number}"
    return "event-" + hashlib.sha256(key.encode()).hexdigest()[:16]
