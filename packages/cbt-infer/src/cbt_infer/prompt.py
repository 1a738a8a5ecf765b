"""The chat prompt: system prompt, chat template rendering, and the end-of-turn token."""

from __future__ import annotations

from pathlib import Path

from cbt_schema.errors import UserError

# Used only when neither the caller nor the model folder gives one; the pipeline passes the
# dataset's prompts/system.txt so the student sees the prompt it was trained with.
DEFAULT_SYSTEM_PROMPT = (
    "You help people notice unhelpful thinking patterns, using the thought-distortion worksheet "
    "of cognitive behavioural therapy. Acknowledge their feelings in a sentence or two, then "
    'write "Possible thought distortions:" and list each distortion you see with the thought '
    "that shows it and one concrete, kind challenge. Finish with a short, encouraging note."
)
SYSTEM_PROMPT_FILE = "system_prompt.txt"
_MARK = "\x00cbt-probe\x00"


def resolve_system_prompt(explicit: str | Path | None, *model_dirs: str | Path | None) -> str:
    """The explicit prompt (text, or a path to a file), else `system_prompt.txt` in a model
    folder, else the built-in default."""
    if isinstance(explicit, Path) or (isinstance(explicit, str) and explicit.endswith(".txt")):
        path = Path(explicit)
        if not path.is_file():
            raise UserError(f"{path}: system prompt file not found")
        return path.read_text(encoding="utf-8").strip()
    if explicit:
        return explicit
    for folder in model_dirs:
        if folder and (Path(folder) / SYSTEM_PROMPT_FILE).is_file():
            return (Path(folder) / SYSTEM_PROMPT_FILE).read_text(encoding="utf-8").strip()
    return DEFAULT_SYSTEM_PROMPT


def messages_for(system_prompt: str, situation: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": system_prompt}, {"role": "user", "content": situation}]


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
