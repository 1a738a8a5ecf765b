"""What a file to import holds: its columns, a sample, and a suggested column mapping."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from cbt_datagen.importing.formats import BadRow, iter_rows, resolve_format
from cbt_schema import UserError

# field -> name patterns, most telling first (a guess for a person to check, never applied)
HINTS = {
    "situation": r"situation|scenario|event|trigger|prompt|input|user|question|text",
    "assessment": r"assessment|analysis|distortion|response|output|answer|completion|assistant",
    "reaction": r"reaction|thought|feeling",
    "emotion": r"emotion|feeling",
    "sex": r"sex|gender",
    "age": r"\bage\b|^age",
    "occupation": r"occupation|job|profession",
    "relationship_status": r"relationship|marital",
    "id": r"^id$|_id$|^uuid$",
}


def describe(path: Path, fmt: str = "auto", split: str | None = None,
             sample: int = 1) -> tuple[list[str], list[dict[str, Any]]]:
    """The first row's column names and up to `sample` rows."""
    rows: list[dict[str, Any]] = []
    for _, row in iter_rows(path, resolve_format(path, fmt), split):
        if isinstance(row, BadRow):
            continue
        rows.append(row)
        if len(rows) >= sample:
            break
    if not rows:
        raise UserError(f"{path}: no readable rows")
    return list(rows[0]), rows


def suggest_mapping(columns: list[str]) -> dict[str, str]:
    """A first guess at teacher.file.columns from the column names; each column used once."""
    taken: set[str] = set()
    out: dict[str, str] = {}
    for field, pattern in HINTS.items():
        for hint in pattern.split("|"):
            match = next((c for c in columns if c not in taken
                          and re.search(hint, c, re.IGNORECASE)), None)
            if match:
                out[field] = match
                taken.add(match)
                break
    return out
