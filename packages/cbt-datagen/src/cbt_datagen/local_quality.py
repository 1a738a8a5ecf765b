"""Loop and copy rates of a small teacher's replies (the local provider's known failure modes).

- loop: the reply repeats itself (cbt_datagen.quality's repeated word 4-gram share over its
  threshold) or ran into a length cap: stopped at max_tokens, or a string field filled the
  maxLength the grammar allowed (the grammar then closed the string mid-sentence).
- copy: the reply contains a run of `n` (default 6) or more words copied verbatim from the
  references (the system prompt with its worksheet and few-shot examples).

    quality_metrics(replies, references=[system_prompt], schema=fitted_schema)
    -> {"loop_rate": ..., "copy_rate": ..., "cap_rate": ..., "repeat_rate": ...}
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from cbt_datagen.quality import LOOP_THRESHOLD, repeated_ngram_share, words

COPY_NGRAM = 6


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


def ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    w = words(text)
    return {tuple(w[i:i + n]) for i in range(len(w) - n + 1)}


def copied(text: str, reference_grams: set[tuple[str, ...]], n: int = COPY_NGRAM) -> bool:
    return not ngrams(text, n).isdisjoint(reference_grams)


def _share(flags: Iterable[bool]) -> float:
    flags = list(flags)
    return round(sum(flags) / len(flags), 4) if flags else 0.0


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
        repeat.append(repeated_ngram_share(text) > LOOP_THRESHOLD)
        cap.append(stop == "max_tokens" or (schema is not None and obj is not None
                                            and at_cap(obj, schema)))
        copy.append(copied(text, ref, n))
    return {"loop_rate": _share(r or c for r, c in zip(repeat, cap, strict=True)),
            "repeat_rate": _share(repeat), "cap_rate": _share(cap),
            "copy_rate": _share(copy)}
