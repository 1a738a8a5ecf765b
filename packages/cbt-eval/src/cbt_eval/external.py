"""Labelled files of real texts (CSV or JSONL) mapped onto the ten distortions."""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from cbt_schema import Distortion, UserError, distortion_from_name

NONE, DROP = "none", "drop"


def _norm(label: str) -> str:
    return " ".join(label.lower().replace("_", " ").replace("-", " ").split())


@dataclass
class LabelMapping:
    """label (normalised) -> Distortion value, NONE or DROP."""

    entries: dict[str, str]
    source: str = "mapping"

    @classmethod
    def load(cls, path: str | Path | None) -> LabelMapping:
        if path is None:
            return cls({}, "built-in names")
        path = Path(path)
        if not path.is_file():
            raise UserError(f"{path}: mapping file not found")
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        labels = raw.get("labels") if isinstance(raw, dict) else None
        if not isinstance(labels, dict):
            raise UserError(f"{path}: expected a `labels:` mapping of label -> distortion")
        allowed = {d.value for d in Distortion} | {NONE, DROP}
        entries = {}
        for label, target in labels.items():
            target = str(target).strip().lower()
            if target not in allowed:
                raise UserError(f"{path}: labels.{label}: {target!r} is not one of "
                                f"{', '.join(sorted(allowed))}")
            entries[_norm(str(label))] = target
        return cls(entries, str(path))

    def resolve(self, label: str) -> str | None:
        key = _norm(label)
        if key in self.entries:
            return self.entries[key]
        known = distortion_from_name(label)
        return known.value if known else None


@dataclass
class LabelledSet:
    texts: list[str] = field(default_factory=list)
    gold: list[frozenset[str]] = field(default_factory=list)
    rows: int = 0
    excluded_rows: int = 0
    label_counts: Counter = field(default_factory=Counter)
    dropped_labels: Counter = field(default_factory=Counter)

    def report(self) -> dict:
        return {"rows": self.rows, "scored_rows": len(self.texts),
                "excluded_rows_without_known_label": self.excluded_rows,
                "labels": dict(self.label_counts.most_common()),
                "dropped_labels": dict(self.dropped_labels.most_common())}


def _rows(path: Path) -> list[dict]:
    if not path.is_file():
        raise UserError(f"{path}: file not found")
    if path.suffix.lower() in {".jsonl", ".json"}:
        text = path.read_text(encoding="utf-8")
        if text.lstrip().startswith("["):  # one JSON array of objects (CBT-Bench's files)
            try:
                rows = json.loads(text)
            except json.JSONDecodeError as exc:
                raise UserError(f"{path}:{exc.lineno}: not valid JSON") from None
            if not all(isinstance(r, dict) for r in rows):
                raise UserError(f"{path}: expected an array of objects")
            return rows
        rows = []
        for lineno, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    raise UserError(f"{path}:{lineno}: not valid JSON") from None
        return rows
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _split(cell: object, sep: str) -> list[str]:
    if cell is None:
        return []
    if isinstance(cell, list):
        return [str(c).strip() for c in cell if str(c).strip()]
    return [part.strip() for part in str(cell).split(sep) if part.strip()]


def load_labelled(path: str | Path, text_col: str, label_cols: list[str],
                  mapping: LabelMapping, sep: str = ";") -> LabelledSet:
    """Read texts and gold label sets; unknown labels are errors that name them."""
    path = Path(path)
    rows = _rows(path)
    if not rows:
        raise UserError(f"{path}: no rows")
    columns = set(rows[0])
    for col in [text_col, *label_cols]:
        if col not in columns:
            raise UserError(f"{path}: no column {col!r} (columns: {', '.join(sorted(columns))})")
    if not any(_split(row.get(col), sep) for row in rows for col in label_cols):
        raise UserError(f"{path}: no gold labels: {', '.join(map(repr, label_cols))} empty in "
                        f"every one of {len(rows)} rows (scoring needs labelled texts)")
    out = LabelledSet(rows=len(rows))
    unknown: Counter = Counter()
    for row in rows:
        text = str(row.get(text_col) or "").strip()
        labels = [lab for col in label_cols for lab in _split(row.get(col), sep)]
        gold: set[str] = set()
        known = False
        for label in labels:
            target = mapping.resolve(label)
            if target is None:
                unknown[label] += 1
                continue
            out.label_counts[label] += 1
            if target == DROP:
                out.dropped_labels[label] += 1
            else:
                known = True
                if target != NONE:
                    gold.add(target)
        if not text or not known:
            out.excluded_rows += 1
            continue
        out.texts.append(text)
        out.gold.append(frozenset(gold))
    if unknown:
        names = ", ".join(f"{k!r} ({v}x)" for k, v in unknown.most_common())
        raise UserError(f"{path}: labels not in the ten and not in {mapping.source}: {names}; "
                        "map them (to a distortion, none or drop) in a mapping file")
    if not out.texts:
        raise UserError(f"{path}: no row has both text and a known label")
    return out
