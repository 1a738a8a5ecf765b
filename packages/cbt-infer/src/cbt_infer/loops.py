"""Has an answer degenerated into a loop? Decided from the text generated so far.

Two signs, either one enough:
- the last words repeat one span at least MIN_REPEATS times in a row, the repeated stretch
  covering at least MIN_LOOP_WORDS words (a span of 1 to MAX_PERIOD words: "very very very
  ...", a sentence said again and again, a whole finding written out again and again). Words
  are compared lowercased, without punctuation and with digits as 0, so a counter that goes up
  ("1. I failed 2. I failed ...") still repeats;
- one complete line of at least MIN_LINE_WORDS words occurs MIN_REPEATS times.
The assessment format repeats a prefix ("- Name:", "  Challenge:") but not whole lines or
spans: its findings name different distortions, thoughts and challenges. Short lines
("Challenge: Is that true?") are left to the first sign, so a terse answer is not cut.

Both backends watch their output with it: llama.cpp chunk by chunk (LoopWatch), transformers
token by token (LoopStop, a stopping criterion), and stop the answer with finish_reason "loop".
"""

from __future__ import annotations

import re
from collections import Counter

MIN_REPEATS = 3
MIN_LOOP_WORDS = 20
MAX_PERIOD = 80
MIN_LINE_WORDS = 6

_PUNCT = re.compile(r"[^\w\s]+")
_DIGITS = re.compile(r"\d+")


def _norm(text: str) -> list[str]:
    return _DIGITS.sub("0", _PUNCT.sub(" ", text.lower())).split()


def _repeating_tail(words: list[str]) -> bool:
    """The last words are one span of `period` words repeated: tail[p:] == tail[:-p]."""
    for period in range(1, MAX_PERIOD + 1):
        repeats = max(MIN_REPEATS, -(-MIN_LOOP_WORDS // period))
        size = repeats * period
        if size > len(words):
            break
        tail = words[-size:]
        if tail[period:] == tail[:-period]:
            return True
    return False


def _repeated_line(text: str) -> bool:
    """A complete line (one followed by a newline) of enough words occurs MIN_REPEATS times."""
    lines = [" ".join(words) for line in text.split("\n")[:-1]
             if len(words := _norm(line)) >= MIN_LINE_WORDS]
    return any(n >= MIN_REPEATS for n in Counter(lines).values())


def is_looping(text: str) -> bool:
    """True when the text generated so far ends in a loop (see the module)."""
    return _repeating_tail(_norm(text)) or _repeated_line(text)


class LoopWatch:
    """Text fed chunk by chunk as it streams; `feed` says whether it now loops."""

    def __init__(self) -> None:
        self.text = ""

    def feed(self, chunk: str) -> bool:
        self.text += chunk
        return is_looping(self.text)


class LoopStop:
    """A transformers stopping criterion: ends each row whose generated text loops.

    `looped` maps a batch row to the number of tokens it had generated when its loop was
    seen (the backend keeps the answer up to there). Rows are decoded after `prompt_width`,
    the (left-padded) prompt length."""

    def __init__(self, tokenizer, prompt_width: int) -> None:
        self.tokenizer = tokenizer
        self.prompt_width = prompt_width
        self.looped: dict[int, int] = {}

    def __call__(self, input_ids, scores=None, **kwargs):
        import torch

        done = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
        for row in range(input_ids.shape[0]):
            if row not in self.looped:
                new = input_ids[row, self.prompt_width:].tolist()
                if is_looping(self.tokenizer.decode(new, skip_special_tokens=True)):
                    self.looped[row] = len(new)
            done[row] = row in self.looped
        return done
