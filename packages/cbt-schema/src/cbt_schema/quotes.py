"""Quote fidelity: is a finding's quoted thought in the person's own words?

A finding quotes "the thought that shows" a distortion. The quote is looked for in the text the
person wrote, loosely: both sides are normalised (case, punctuation, curly quotes, apostrophes
dropped so "I'm" and "Im" match, whitespace), then the quote is compared with every window of
the text of about its own length (one word shorter or longer too, so one word added or dropped
still matches) by difflib's character-level similarity ratio. A window scoring at least
THRESHOLD counts as found: a typo, a changed contraction or one word changed in a quote of
several words stays above it; a paraphrase in other words, or a one-word change in a
two-or-three-word quote, falls below. A quote in parts joined by an ellipsis ("I failed
... I'm useless") is found when every part is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from difflib import SequenceMatcher

THRESHOLD = 0.8

_APOSTROPHES = re.compile(r"['’‘`´]")
_NON_WORD = re.compile(r"[\W_]+")
_ELLIPSIS = re.compile(r"\.{3,}|…")


def words(text: str) -> list[str]:
    """Lowercased words with punctuation removed and apostrophes dropped."""
    text = _APOSTROPHES.sub("", text.lower())
    return _NON_WORD.sub(" ", text).split()


def _close_window(quote: list[str], text: list[str], threshold: float) -> bool:
    """True when some window of the text of about the quote's length is similar enough."""
    matcher = SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(" ".join(quote))
    for size in sorted({max(1, len(quote) - 1), len(quote), len(quote) + 1}):
        for start in range(max(1, len(text) - size + 1)):
            matcher.set_seq1(" ".join(text[start:start + size]))
            if (matcher.real_quick_ratio() >= threshold and matcher.quick_ratio() >= threshold
                    and matcher.ratio() >= threshold):
                return True
    return False


def quote_found(quote: str, text: str, threshold: float = THRESHOLD) -> bool:
    """True when `quote` appears in `text`, allowing small differences (see the module)."""
    parts = [words(p) for p in _ELLIPSIS.split(quote)]
    parts = [p for p in parts if p]
    source = words(text)
    if not parts or not source:
        return False
    joined = f" {' '.join(source)} "
    return all(f" {' '.join(p)} " in joined or _close_window(p, source, threshold)
               for p in parts)


def quotes_found(thoughts: Iterable[str], text: str) -> list[bool]:
    """quote_found for each quoted thought, in order."""
    return [quote_found(thought, text) for thought in thoughts]


def fidelity(found: Sequence[bool]) -> float | None:
    """The share of quotes found; None when there are none."""
    return sum(found) / len(found) if found else None
