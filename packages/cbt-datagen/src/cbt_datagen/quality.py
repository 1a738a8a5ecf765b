"""Cheap content checks on generated text: loops, copies, repeated openings.

One definition of a loop, for the stage metrics and the benchmarks alike: a reply loops when it
repeats itself (the share of repeated word 4-grams is over LOOP_THRESHOLD) or ran into a length
cap: it stopped at max_tokens, or a string filled the maxLength of the schema it was decoded
against (a constrained decoder then closes the string mid-sentence). A copy is a run of
COPY_NGRAM or more words taken verbatim from the references (the system prompt, its worksheet
and few-shot examples). A small teacher loops, copies and starts every event the same way; these
rates go into metrics/datagen.json so that shows up in numbers; each task's own check
(cbt_datagen.tasks) is built from these.

    quality_metrics(replies, references=[system_prompt], schema=fitted_schema)
    -> {"loop_rate": ..., "copy_rate": ..., "cap_rate": ..., "repeat_rate": ...}
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

LOOP_THRESHOLD = 0.25
COPY_NGRAM = 6
_WORD = re.compile(r"[a-z']+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def repeated_ngram_share(text: str, n: int = 4) -> float:
    """Share of word n-grams that are repeats of an earlier one (0 = no repetition)."""
    w = words(text)
    grams = [tuple(w[i:i + n]) for i in range(len(w) - n + 1)]
    return 1 - len(set(grams)) / len(grams) if grams else 0.0


def strings_of(obj: Any) -> list[str]:
    """Every free-text string in a parsed reply (dict keys and enum labels are left out)."""
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in strings_of(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in strings_of(v)]
    return [obj] if isinstance(obj, str) and " " in obj.strip() else []


def reply_text(raw: str) -> str:
    """The reply's free text joined, or the raw text when it is not JSON."""
    try:
        return " ".join(strings_of(json.loads(raw)))
    except (json.JSONDecodeError, TypeError):
        return raw


def at_cap(obj: Any, schema: dict[str, Any], slack: int = 2) -> bool:
    """True when some string in obj is within `slack` characters of its maxLength in schema."""
    if isinstance(obj, str):
        cap = schema.get("maxLength")
        return cap is not None and len(obj) >= cap - slack
    if isinstance(obj, dict):
        props = schema.get("properties", {})
        return any(at_cap(v, props.get(k, {}), slack) for k, v in obj.items())
    if isinstance(obj, list):
        return any(at_cap(v, schema.get("items", {}), slack) for v in obj)
    return False


def loops(text: str, obj: Any = None, schema: dict[str, Any] | None = None,
          stop: str | None = None) -> tuple[bool, bool]:
    """(repeats itself, ran into a length cap) for one reply: it loops if either is true."""
    capped = stop == "max_tokens" or (schema is not None and obj is not None
                                      and at_cap(obj, schema))
    return repeated_ngram_share(text) > LOOP_THRESHOLD, capped


def ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    w = words(text)
    return {tuple(w[i:i + n]) for i in range(len(w) - n + 1)}


def copied(text: str, reference_grams: set[tuple[str, ...]], n: int = COPY_NGRAM) -> bool:
    return not ngrams(text, n).isdisjoint(reference_grams)


def share(flags: Iterable[bool]) -> float:
    """The share of true flags, to 4 places (0.0 for none)."""
    flags = list(flags)
    return round(sum(flags) / len(flags), 4) if flags else 0.0


def norm(text: str) -> str:
    """The text as its lower-case words, for comparing texts verbatim up to punctuation."""
    return " ".join(words(text))


def quality_metrics(replies: Sequence[str], references: Sequence[str] = (),
                    schema: dict[str, Any] | None = None,
                    stop_reasons: Sequence[str | None] | None = None,
                    n: int = COPY_NGRAM) -> dict[str, float]:
    """Rates over raw reply texts (JSON): loop_rate = repeat or cap; see the module docstring."""
    ref = set().union(*(ngrams(r, n) for r in references)) if references else set()
    stops = stop_reasons or [None] * len(replies)
    repeat, cap, copy = [], [], []
    for raw, stop in zip(replies, stops, strict=True):
        text = reply_text(raw)
        try:
            obj = json.loads(raw)
        except (json.JSONDecodeError, TypeError):
            obj = None
        r, c = loops(text, obj, schema, stop)
        repeat.append(r)
        cap.append(c)
        copy.append(copied(text, ref, n))
    return {"loop_rate": share(r or c for r, c in zip(repeat, cap, strict=True)),
            "repeat_rate": share(repeat), "cap_rate": share(cap),
            "copy_rate": share(copy)}
