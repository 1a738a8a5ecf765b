"""Files of (situation, assessment) pairs in every layout the import reads, for tests and the
import benchmark. Situations span several lines (so a CSV quotes them); every `unread_every`-th
assessment is free text the parser cannot read; the rest are in this project's format."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path
from typing import Any

from cbt_schema import Assessment, Distortion, Finding, render_assessment

PLACES = ("at work", "at my sister's wedding", "in the exam hall", "on the bus", "at dinner")
EMOTIONS = ("anxious", "ashamed", "lonely", "angry", "guilty")


def pair_rows(n: int, *, seed: int = 0, unread_every: int = 5) -> list[dict[str, Any]]:
    """n rows: id, situation, analysis, emotion, age, a nested chat `messages` copy."""
    rng = random.Random(seed)
    kinds = list(Distortion)
    rows = []
    for i in range(n):
        place = rng.choice(PLACES)
        situation = (f"Row {i}: something went wrong {place} today.\n"
                     f"I keep thinking about it, number {rng.randint(0, 10**9)}, "
                     f'and I said "I always ruin everything", then left.')
        if unread_every and i % unread_every == unread_every - 1:
            analysis = f"That sounds hard. Maybe talk to someone about the day {place}."
        else:
            kind = kinds[i % len(kinds)]
            analysis = render_assessment(Assessment(
                validation=f"It makes sense to feel shaken after what happened {place}.",
                findings=[Finding(distortion=kind, thought="I always ruin everything",
                                  challenge="Is there a time it went fine?")],
                closing="You noticed the thought, which is the first step."))
        rows.append({"id": f"r{i}", "situation": situation, "analysis": analysis,
                     "emotion": EMOTIONS[i % len(EMOTIONS)], "age": 20 + i % 50,
                     "messages": [{"role": "user", "content": situation},
                                  {"role": "assistant", "content": analysis}]})
    return rows


def write_pairs(path: Path, rows: list[dict[str, Any]], fmt: str) -> Path:
    """Write rows as csv, jsonl, parquet or a `datasets` folder (save_to_disk) at `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    flat = [{k: v for k, v in r.items() if k != "messages"} for r in rows]
    if fmt == "csv":
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(flat[0]))
            writer.writeheader()
            writer.writerows(flat)
    elif fmt == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    elif fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), path)
    elif fmt == "datasets":
        from datasets import Dataset, DatasetDict

        DatasetDict({"train": Dataset.from_list(rows)}).save_to_disk(str(path))
    else:
        raise ValueError(fmt)
    return path
