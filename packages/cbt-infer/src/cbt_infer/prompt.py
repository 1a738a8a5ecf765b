"""Reading the student's task from a model, and the end-of-turn token of a chat template.

What the task is (system prompt, answer format, parsing) is owned by cbt_schema.student; this
module only finds it in what inference loads and settles an explicit prompt against it."""

from __future__ import annotations

import logging
from pathlib import Path

from cbt_schema.errors import UserError
from cbt_schema.student import StudentTask, choose_task

log = logging.getLogger(__name__)

_MARK = "\x00cbt-probe\x00"


def explicit_prompt(value: str | Path | None) -> str | None:
    """An explicit system prompt: text, or a path to a .txt file."""
    if isinstance(value, Path) or (isinstance(value, str) and value.endswith(".txt")):
        path = Path(value)
        if not path.is_file():
            raise UserError(f"{path}: system prompt file not found")
        return path.read_text(encoding="utf-8").strip()
    return value


def task_for(explicit: str | Path | None, carried: StudentTask | None) -> StudentTask:
    """The task to ask with; a prompt that is not the trained one is said on stderr (and
    the task's `source` says it in every result)."""
    task, note = choose_task(explicit_prompt(explicit), carried)
    if note:
        log.warning("cbt-infer: note: %s", note)
    return task


def end_of_turn_text(render) -> str | None:
    """The text a template puts right after a message's content (e.g. '<|im_end|>').

    `render(messages) -> str` renders without a generation prompt. This is the token a
    fine-tune must stop on, whatever the tokenizer's `eos_token` says (SmolLM2's GGUF tokenizer
    calls <|im_start|> its eos).
    """
    text = render([{"role": "user", "content": _MARK}])
    after = text.split(_MARK, 1)[1] if _MARK in text else ""
    after = after.split("\n", 1)[0].strip()
    return after or None
