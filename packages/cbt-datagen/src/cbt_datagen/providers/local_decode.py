"""Batched, grammar-constrained sampling for the local teacher (transformers + xgrammar).

One call decodes a batch of prompts in lock step: the prompts' shared token prefix (the long
system prompt) is prefilled once and its KV cache reused for every row, the per-row suffixes
are left-padded behind it, and each row has its own xgrammar matcher (its JSON schema), its own
token budget and its own torch.Generator seeded from the request, so a request's sample does
not depend on which other requests share its batch (up to float rounding of padded batches).
Finished rows leave the batch, so a long row does not keep short ones busy.

Sampling order per step: repetition penalty (HF formula, on the tokens this row generated so
far) -> grammar mask -> temperature -> top-p -> draw. Temperature 0 is greedy.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Sampling:
    temperature: float = 0.7
    top_p: float = 0.9
    repetition_penalty: float = 1.15


@dataclass
class Decoded:
    tokens: list[int]       # generated ids, without the stop token
    prompt_tokens: int
    stopped: bool           # True: the grammar finished and the stop token came; False: cap hit


class PrefixCache:
    """The KV cache of the last shared prefix, kept across batches (the system prompt)."""

    def __init__(self) -> None:
        self.tokens: tuple[int, ...] = ()
        self.cache: Any = None

    def get(self, model: Any, prefix: list[int]) -> Any:
        import torch
        from transformers import DynamicCache

        if tuple(prefix) != self.tokens:
            cache = DynamicCache(config=model.config)
            with torch.inference_mode():
                model(input_ids=torch.tensor([prefix]), **cache_kwarg(model, cache), use_cache=True)
            self.tokens, self.cache = tuple(prefix), cache
        return copy.deepcopy(self.cache)


def cache_kwarg(model: Any, cache: Any) -> dict[str, Any]:
    """The KV cache keyword of the model's forward: transformers 5.24 renamed
    `past_key_values` to `cache`; the unsloth environment keeps 5.17, which knows the old."""
    import inspect

    params = inspect.signature(model.forward).parameters
    return {"cache" if "cache" in params else "past_key_values": cache}


def common_prefix(rows: list[list[int]]) -> int:
    """Length of the longest shared prefix, leaving every row at least one token of its own."""
    n = min(len(r) for r in rows) - 1
    first = rows[0]
    for i in range(max(n, 0)):
        if any(r[i] != first[i] for r in rows[1:]):
            return i
    return max(n, 0)


def decode_batch(model: Any, prompts: list[list[int]], matchers: list[Any], seeds: list[int],
                 max_new: list[int], sampling: Sampling, stop_ids: set[int],
                 prefix_cache: PrefixCache | None = None, prefix_len: int | None = None,
                 min_prefix: int = 32) -> list[Decoded]:
    """Decode every prompt to completion (grammar finished) or to its own max_new tokens.

    The cached prefix is the prompts' common prefix, cut at prefix_len when given (the system
    turn), so the same cache serves every batch, a batch of one included.
    """
    import torch
    import xgrammar as xgr
    from transformers import DynamicCache

    b = len(prompts)
    vocab = model.config.vocab_size
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    out: list[list[int]] = [[] for _ in range(b)]
    stopped = [False] * b
    bitmask = xgr.allocate_token_bitmask(b, vocab)

    p = common_prefix(prompts) if b > 1 or prefix_cache is not None else 0
    if prefix_len is not None:
        p = min(p, prefix_len)
    if p >= min_prefix:
        cache = (prefix_cache or PrefixCache()).get(model, prompts[0][:p])
        if b > 1:
            cache.batch_repeat_interleave(b)
    else:
        p, cache = 0, DynamicCache(config=model.config)
    suffixes = [r[p:] for r in prompts]
    width = max(len(s) for s in suffixes)
    ids = torch.zeros((b, width), dtype=torch.long)
    mask = torch.zeros((b, p + width), dtype=torch.long)
    mask[:, :p] = 1
    pos = torch.zeros((b, width), dtype=torch.long)
    for i, s in enumerate(suffixes):
        ids[i, width - len(s):] = torch.tensor(s)
        mask[i, p + width - len(s):] = 1
        pos[i, width - len(s):] = torch.arange(p, p + len(s))
    next_pos = torch.tensor([len(r) for r in prompts])
    active = list(range(b))
    kv = cache_kwarg(model, cache)

    with torch.inference_mode():
        logits = model(input_ids=ids, attention_mask=mask, position_ids=pos,
                       **kv, use_cache=True).logits[:, -1, :].float()
        while active:
            chosen = _choose(logits, active, out, matchers, gens, bitmask, sampling)
            keep: list[int] = []
            for row, i in enumerate(active):
                tok = chosen[row]
                if not matchers[i].accept_token(tok):
                    raise RuntimeError(f"grammar rejected token {tok} in row {i}")
                if matchers[i].is_terminated() or tok in stop_ids:
                    stopped[i] = True
                    continue
                out[i].append(tok)
                if len(out[i]) >= max_new[i]:
                    continue
                keep.append(row)
            if not keep:
                break
            if len(keep) < len(active):
                cache.batch_select_indices(torch.tensor(keep))
                mask = mask[keep]
            active = [active[r] for r in keep]
            step = torch.tensor([[out[i][-1]] for i in active])
            mask = torch.cat([mask, torch.ones((len(active), 1), dtype=torch.long)], dim=1)
            step_pos = next_pos[active].unsqueeze(1)
            next_pos[active] += 1
            logits = model(input_ids=step, attention_mask=mask, position_ids=step_pos,
                           **kv, use_cache=True).logits[:, -1, :].float()
    return [Decoded(out[i], len(prompts[i]), stopped[i]) for i in range(b)]


def _choose(logits: Any, active: list[int], out: list[list[int]], matchers: list[Any],
            gens: list[Any], bitmask: Any, s: Sampling) -> list[int]:
    """One token per active row: penalty, grammar mask, temperature, top-p, draw."""
    import torch
    import xgrammar as xgr

    if s.repetition_penalty != 1.0:
        for row, i in enumerate(active):
            if out[i]:
                seen = torch.tensor(sorted(set(out[i])))
                vals = logits[row, seen]
                logits[row, seen] = torch.where(vals < 0, vals * s.repetition_penalty,
                                                vals / s.repetition_penalty)
    mask = bitmask[: len(active)]
    for row, i in enumerate(active):
        matchers[i].fill_next_token_bitmask(mask, row)
    xgr.apply_token_bitmask_inplace(logits, mask)
    if s.temperature == 0:
        return logits.argmax(dim=-1).tolist()
    probs = torch.softmax(logits / s.temperature, dim=-1)
    if s.top_p < 1.0:
        sorted_p, order = probs.sort(dim=-1, descending=True)
        drop = sorted_p.cumsum(dim=-1) - sorted_p > s.top_p  # keep the first token always
        sorted_p[drop] = 0.0
        probs = torch.zeros_like(probs).scatter_(-1, order, sorted_p)
    return [int(torch.multinomial(probs[row], 1, generator=gens[i]))
            for row, i in enumerate(active)]
