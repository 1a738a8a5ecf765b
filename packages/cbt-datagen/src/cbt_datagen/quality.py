"""Cheap content checks on generated text: loops, copied examples, repeated openings.

A small teacher tends to loop until the length cap, copy the few-shot examples and start every
event the same way; these rates go into metrics/datagen.json so that shows up in numbers.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

from cbt_schema import DISTORTIONS, AssessmentRecord, Event

LOOP_THRESHOLD = 0.25
_WORD = re.compile(r"[a-z']+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def repeated_ngram_share(text: str, n: int = 4) -> float:
    """Share of word n-grams that are repeats of an earlier one (0 = no repetition)."""
    w = words(text)
    grams = [tuple(w[i:i + n]) for i in range(len(w) - n + 1)]
    return 1 - len(set(grams)) / len(grams) if grams else 0.0


def loop_rate(texts: Sequence[str]) -> float:
    return _share(repeated_ngram_share(t) > LOOP_THRESHOLD for t in texts)


def _share(flags: Iterable[bool]) -> float:
    flags = list(flags)
    return round(sum(flags) / len(flags), 4) if flags else 0.0


def _norm(text: str) -> str:
    return " ".join(words(text))


def event_quality(events: Sequence[Event]) -> dict[str, float]:
    openings = Counter(" ".join(words(e.situation)[:4]) for e in events)
    return {"loop_rate": loop_rate([e.text for e in events]),
            "repeated_opening_rate": _share(openings[" ".join(words(e.situation)[:4])] > 1
                                            for e in events)}


def assessment_quality(records: Sequence[AssessmentRecord],
                       example_texts: Iterable[str] = ()) -> dict[str, float]:
    """Loop rate, and the share of findings whose thought or challenge is copied verbatim from
    a few-shot example or from the worksheet."""
    copied = {_norm(t) for t in example_texts}
    copied |= {_norm(info.challenge) for info in DISTORTIONS.values()}
    findings = [f for r in records for f in r.assessment.findings]
    texts = [" ".join([r.assessment.validation, *(f.challenge for f in r.assessment.findings),
                       r.assessment.closing]) for r in records]
    return {"loop_rate": loop_rate(texts),
            "copied_finding_rate": _share(_norm(f.thought) in copied or _norm(f.challenge)
                                          in copied for f in findings),
            "findings_per_assessment": round(len(findings) / len(records), 3) if records
            else 0.0}
