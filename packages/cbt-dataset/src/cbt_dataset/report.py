"""The diversity report: distributions as plot tables, and the scalar metrics DVC shows."""

from __future__ import annotations

import csv
import itertools
import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cbt_dataset.chat import target_text
from cbt_dataset.join import Sample
from cbt_schema import UNKNOWN, Distortion

AGE_BANDS = ((18, 24), (25, 34), (35, 44), (45, 54), (55, 64), (65, 200))
HISTOGRAM_BINS = 12  # about this many bins per length histogram


def age_band(age: int | None) -> str:
    if age is None:
        return UNKNOWN
    for lo, hi in AGE_BANDS:
        if lo <= age <= hi:
            return f"{lo}+" if hi >= 200 else f"{lo}-{hi}"
    return f"<{AGE_BANDS[0][0]}"


def _words(text: str) -> int:
    return len(text.split())


def _summary(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {}
    return {"min": min(values), "median": statistics.median(values), "max": max(values),
            "mean": round(statistics.fmean(values), 2)}


def _entropy(counts: Counter) -> float:
    """Shannon entropy normalised to [0, 1] (1: perfectly even over the values seen)."""
    total = sum(counts.values())
    if len(counts) < 2:
        return 0.0
    h = -sum(c / total * math.log(c / total) for c in counts.values())
    return round(h / math.log(len(counts)), 4)


@dataclass
class Report:
    metrics: dict
    tables: dict[str, list[dict]] = field(default_factory=dict)  # plot file stem -> rows
    lengths: list[dict] = field(default_factory=list)  # one row per example


def _histogram(values: Sequence[int], unit: str, column: str) -> list[dict]:
    """Counts in bins of a round width (a multiple of 5) chosen for about HISTOGRAM_BINS bins."""
    if not values:
        return []
    width = max(5, math.ceil((max(values) - min(values) + 1) / HISTOGRAM_BINS / 5) * 5)
    bins = Counter(v // width for v in values)
    return [{unit: f"{b * width}-{b * width + width - 1}", column: bins[b]}
            for b in range(min(bins), max(bins) + 1)]


def build_report(samples: Sequence[Sample], train: Sequence[int], test: Sequence[int],
                 tokens: list[int] | None, max_length: int, verbatim: bool = False) -> Report:
    """Distributions over the final dataset (after exclusions and dedup), both splits; the
    distortion figures over the labelled records (an import the parser could not read has
    none)."""
    split_of = {i: "train" for i in train} | {i: "test" for i in test}
    order = [i for i in range(len(samples)) if i in split_of]
    ev_words = [_words(samples[i].event.text) for i in order]
    as_words = [_words(target_text(samples[i], verbatim)) for i in order]
    seeds = [samples[i].seed for i in order]
    findings = [samples[i].findings for i in order if samples[i].labelled]
    rank = {d: k for k, d in enumerate(Distortion)}
    labels = [sorted({f.distortion for f in fs}, key=rank.__getitem__) for fs in findings]

    emotion = Counter(s.emotion for s in seeds)
    emotion_split = Counter((s.emotion, split_of[i]) for s, i in zip(seeds, order, strict=True))
    tables: dict[str, list[dict]] = {
        "emotion": [{"emotion": e, "count": c, "train": emotion_split[e, "train"],
                     "test": emotion_split[e, "test"]} for e, c in sorted(emotion.items())],
    }
    for key, getter in (("sex", lambda s: s.sex), ("age_band", lambda s: age_band(s.age)),
                        ("occupation", lambda s: s.occupation),
                        ("relationship_status", lambda s: s.relationship_status)):
        counts = Counter(getter(s) for s in seeds)
        tables[key] = [{key: k, "count": v} for k, v in sorted(counts.items())]

    per_label = Counter(d for ls in labels for d in ls)
    per_finding = Counter(f.distortion for fs in findings for f in fs)
    tables["distortion"] = [{"distortion": d.title, "assessments": per_label[d],
                             "findings": per_finding[d]} for d in Distortion]
    pairs = Counter(p for ls in labels for p in itertools.combinations(ls, 2))
    tables["cooccurrence"] = [{"pair": f"{a.title} + {b.title}", "assessments": pairs[a, b]}
                              for a, b in itertools.combinations(list(Distortion), 2)]
    per_assessment = Counter(len(fs) for fs in findings)
    tables["findings_per_assessment"] = [
        {"findings": str(k), "assessments": per_assessment[k]}
        for k in range(max(per_assessment, default=0) + 1)]
    tables["event_words"] = _histogram(ev_words, "words", "events")
    tables["assessment_words"] = _histogram(as_words, "words", "assessments")

    lengths = []
    for pos, i in enumerate(order):
        row = {"id": samples[i].id, "split": split_of[i], "emotion": seeds[pos].emotion,
               "event_words": ev_words[pos], "assessment_words": as_words[pos]}
        if tokens is not None:
            row["tokens"] = tokens[i]
            row["over_max_length"] = int(tokens[i] > max_length)
        lengths.append(row)
    if tokens is not None:
        tables["tokens"] = _histogram([tokens[i] for i in order], "tokens", "examples")

    n = max(1, len(findings))  # the labelled records
    metrics = {
        "labelled": len(findings), "unlabelled": len(order) - len(findings),
        "emotions": len(emotion), "emotion_evenness": _entropy(emotion),
        "emotion_min_count": min(emotion.values()), "emotion_max_count": max(emotion.values()),
        "sexes": len({s.sex for s in seeds}), "occupations": len({s.occupation for s in seeds}),
        "relationship_statuses": len({s.relationship_status for s in seeds}),
        "age": _summary([s.age for s in seeds if s.age is not None]),
        "event_words": _summary(ev_words), "assessment_words": _summary(as_words),
        "findings_per_assessment": _summary([len(fs) for fs in findings]),
        "no_findings_fraction": round(per_assessment[0] / n, 4),
        "distortions_seen": len(per_label),
        "distortion_fraction": {d.value: round(per_label[d] / n, 4) for d in Distortion},
        "top_cooccurrence": max(pairs.items(), key=lambda kv: kv[1], default=(None, 0))[1],
    }
    return Report(metrics=metrics, tables=tables, lengths=lengths)


def write_csv(path: Path, rows: Sequence[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        if not rows:
            return
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
