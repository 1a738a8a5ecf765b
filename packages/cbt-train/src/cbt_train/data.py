"""The one data path of both backends: ChatExample JSONL -> checked, tokenized examples."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from cbt_schema.errors import UserError
from cbt_schema.jsonl import read_jsonl
from cbt_schema.records import ChatExample
from cbt_train.chat_template import encode


@dataclass
class Split:
    """One split: its file, records, sha256 and (after `measure`) token counts."""

    path: Path
    examples: list[ChatExample]
    sha256: str
    tokens: int = 0
    trained_tokens: int = 0

    def conversations(self) -> list[dict]:
        return [{"messages": [m.model_dump() for m in ex.messages]} for ex in self.examples]


def load_split(path: Path, name: str) -> Split:
    """Read and validate a split; an empty file or an example with no reply is an error."""
    examples = read_jsonl(path, ChatExample)
    if not examples:
        raise UserError(f"{path}: the {name} split is empty")
    for lineno, ex in enumerate(examples, 1):
        replies = [m for m in ex.messages if m.role == "assistant"]
        if not replies or not any(m.content.strip() for m in replies):
            raise UserError(f"{path}:{lineno}: example {ex.id} has no assistant reply to "
                            f"train on")
    return Split(path, examples, hashlib.sha256(path.read_bytes()).hexdigest())


def measure(split: Split, tokenizer, template: str, max_length: int) -> None:
    """Tokenize like trl does (keep the start, cut at max_length) and count trained tokens
    (cbt_train.chat_template.encode finds them).

    Every example must keep at least one assistant token after truncation, otherwise its loss
    is silently zero (or the whole batch's loss is NaN): that is an error here, before training.
    """
    total = trained = 0
    whole = encode(split.conversations(), tokenizer, template, max_length=None)
    for lineno, (ex, full) in enumerate(zip(split.examples, whole, strict=True), 1):
        kept = full.cut(max_length)
        if not any(kept.assistant):
            why = (f"the prompt alone is {len(full.ids) - sum(full.assistant)} tokens, more "
                   f"than train.max_length={max_length}" if any(full.assistant) else
                   "the chat template marks no assistant tokens")
            raise UserError(f"{split.path}:{lineno}: example {ex.id} has no assistant tokens "
                            f"to train on ({why}); its loss would be zero")
        total += len(kept.ids)
        trained += sum(kept.assistant)
    split.tokens, split.trained_tokens = total, trained


def response_markers(tokenizer, template: str) -> tuple[str, str]:
    """The text that opens a user turn and an assistant turn (for unsloth's response masking)."""
    system = [{"role": "system", "content": "S"}]
    user = [*system, {"role": "user", "content": "\x00U"}]

    def render(conv: list[dict], gen: bool = False) -> str:
        return tokenizer.apply_chat_template(conv, chat_template=template, tokenize=False,
                                             add_generation_prompt=gen)

    head = render(system)
    text = render(user)
    instruction = text[len(head):text.index("\x00U")] if text.startswith(head) else ""
    response = render(user, gen=True)[len(text):]
    if not instruction.strip() or not response.strip():
        raise UserError("cannot find the user/assistant turn markers in the chat template")
    return instruction, response
