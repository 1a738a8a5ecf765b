"""Token counts of chat examples with the student's tokenizer (none only when it is not set).

A tokenizer that is set but cannot be loaded stops the stage with one line saying what to
fetch: without it, the examples longer than train.max_length would only show at train time.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cbt_schema import ChatExample, UserError


@dataclass
class TokenCounts:
    counts: list[int] | None  # per example, None when skipped
    note: str  # what was counted with, or why it was skipped


def _cached(name: str) -> bool:
    """Whether a hub id's tokenizer is already in the local Hugging Face cache (no network)."""
    try:
        from huggingface_hub import try_to_load_from_cache
        hit = try_to_load_from_cache(name, "tokenizer_config.json")
    except (ImportError, ValueError):
        return False
    return isinstance(hit, str)


def _load(name: str):  # -> PreTrainedTokenizerBase, or a str saying why not
    if not Path(name).exists() and not _cached(name):
        # checked before importing transformers, which takes seconds
        return (f"{name} is neither a folder nor a hub id in the local Hugging Face cache "
                "(the base_model stage writes models/base)")
    try:
        from transformers import AutoTokenizer
    except ImportError:
        return "transformers is not installed (pip install 'cbt-dataset[tokens]')"
    try:
        return AutoTokenizer.from_pretrained(name, local_files_only=not Path(name).exists())
    except (OSError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return f"{name} holds no usable tokenizer ({first[:160]})"


def count_tokens(examples: Sequence[ChatExample], tokenizer: str | None,
                 batch: int = 512, source: str = "params.yaml") -> TokenCounts:
    """Tokens of each example as the trainer sees it: the chat template applied to all turns."""
    if not tokenizer:
        return TokenCounts(None, "skipped: dataset.tokenizer is not set")
    tok = _load(tokenizer)
    if isinstance(tok, str):
        raise UserError(f"{source}: dataset.tokenizer: {tok}; run `dvc repro base_model` (a "
                        "hub student needs its tokenizer fetched once from huggingface.co), "
                        "or set dataset.tokenizer: null to skip token counts and the "
                        "train.max_length check")
    from tqdm import tqdm

    templated = getattr(tok, "chat_template", None) is not None
    counts: list[int] = []
    for start in tqdm(range(0, len(examples), batch), desc="tokens", file=sys.stderr,
                      disable=None, mininterval=1.0):
        chunk = examples[start:start + batch]
        convs = [[m.model_dump() for m in ex.messages] for ex in chunk]
        if templated:
            texts = [tok.apply_chat_template(c, tokenize=False) for c in convs]
        else:
            texts = ["\n\n".join(f"{m['role']}: {m['content']}" for m in c) for c in convs]
        ids = tok(texts, add_special_tokens=not templated)["input_ids"]
        counts.extend(len(x) for x in ids)
    how = "its chat template" if templated else "plain role: content text (no chat template)"
    return TokenCounts(counts, f"counted with {tokenizer} ({type(tok).__name__}, {how})")
