"""Money: what a teacher request costs, a ceiling for a run, and a run repriced at today's prices.

Prices are dollars per million tokens (the model table, cbt_datagen/models.yaml, overridden by
`teacher.prices.<model>` in params.yaml; cbt_datagen.model_table.price_for finds them).
Anthropic's `usage.input_tokens` counts only the uncached input; cache writes and cache reads
are reported separately and priced separately; `output_tokens` includes thinking tokens, which
are billed as output. A request whose prompt (input + cache reads + cache writes) is longer
than a price's `long_prompt.threshold_tokens` pays the long-prompt rates on every token. The
batch API bills every token class at a discount: `batch_discount` is the fraction taken off
(0.5 = half price, 0.0 = no discount).

    cost_usd(usage, price, batch=False)         # one request, in dollars
    Budget(max_usd, price, batch, max_output)   # a ceiling: admit the requests it covers
    reprice(metrics, prices)                    # the teacher_cost stage's report
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cbt_schema import Usage
from cbt_schema.params import Price

PER_MILLION = 1_000_000
STAGES = ("events", "assessments")  # the metered teacher stages (metrics/datagen.json)
PROMPT_MARGIN = 1.25
CHARS_PER_TOKEN_FLOOR = 2  # no tokenizer in use packs fewer than 2 characters per token


def prompt_tokens(usage: Usage) -> int:
    return (usage.input_tokens + usage.cache_read_input_tokens
            + usage.cache_creation_input_tokens)


def cost_usd(usage: Usage, price: Price, batch: bool = False) -> float:
    """What one request cost in dollars (for a sum of requests, sum their costs: the
    long-prompt rates are decided per request)."""
    rates = price
    if price.long_prompt is not None and prompt_tokens(usage) > price.long_prompt.threshold_tokens:
        rates = price.long_prompt
    dollars = (
        usage.input_tokens * rates.input
        + usage.output_tokens * rates.output
        + usage.cache_creation_input_tokens * rates.cache_write
        + usage.cache_read_input_tokens * rates.cache_read
    ) / PER_MILLION
    if batch:
        dollars *= 1.0 - price.batch_discount
    return dollars


def add_usage(a: Usage, b: Usage) -> Usage:
    """Sum two Usage records field by field."""
    return Usage(
        input_tokens=a.input_tokens + b.input_tokens,
        output_tokens=a.output_tokens + b.output_tokens,
        cache_read_input_tokens=a.cache_read_input_tokens + b.cache_read_input_tokens,
        cache_creation_input_tokens=a.cache_creation_input_tokens + b.cache_creation_input_tokens,
        thinking_tokens=a.thinking_tokens + b.thinking_tokens,
    )


@dataclass
class Budget:
    """A cost ceiling for one run: requests go out in waves that the money left covers at worst.

    A reply's cost is known only once it is back, and a wave's requests are in flight together,
    so each wave holds only as many requests as the remaining money pays for if every one of
    them costs the most it can: the largest prompt seen so far (+25%, + one reply for a repair
    attempt) at the dearer of the input and cache-write rates, plus `max_output_tokens` of
    output. Before any reply is seen, one request goes alone, its prompt bounded at one token
    per two characters. When not even one more request fits, the run stops: what was paid for
    is kept and reported.
    """

    max_usd: float
    price: Price
    batch: bool
    max_output_tokens: int
    spent: float = 0.0
    largest_prompt: int = 0
    next_cost: float = 0.0  # the worst case of the first request that did not fit

    def observe(self, usage: Usage, cost: float, *, paid_now: bool) -> None:
        self.largest_prompt = max(self.largest_prompt, prompt_tokens(usage))
        if paid_now:
            self.spent += cost

    def worst_case(self, prompt: int) -> float:
        dearer = ("cache_creation_input_tokens" if self.price.cache_write > self.price.input
                  else "input_tokens")
        usage = Usage(**{dearer: prompt, "output_tokens": self.max_output_tokens})
        return cost_usd(usage, self.price, batch=self.batch)

    def admit(self, requests: list[Any]) -> list[Any]:
        """The leading requests (GenRequest) that fit in the money left."""
        room = self.max_usd - self.spent
        admitted = []
        for req in requests if self.largest_prompt else requests[:1]:
            if self.largest_prompt:
                repair = len(req.messages) > 1
                prompt = math.ceil(self.largest_prompt * PROMPT_MARGIN) + (
                    self.max_output_tokens if repair else 0)
            else:
                chars = len(req.system) + sum(len(m["content"]) for m in req.messages)
                prompt = math.ceil(chars / CHARS_PER_TOKEN_FLOOR)
            cost = self.worst_case(prompt)
            if cost > room:
                self.next_cost = cost
                break
            room -= cost
            admitted.append(req)
        return admitted

    def report(self, not_asked: int) -> dict[str, Any]:
        return {"max_usd": self.max_usd, "spent_usd": round(self.spent, 6),
                "stopped": not_asked > 0, "not_asked": not_asked,
                "next_request_worst_case_usd": round(self.next_cost, 6) if not_asked else None}


def reprice_stage(section: dict[str, Any], prices: Mapping[str, Price]) -> dict[str, Any]:
    """One stage's metered tokens priced now: dollars, the model, whether the figure is exact.

    Long-prompt rates apply per request, and only the stage's largest prompt is kept: when it
    is over the threshold, the figure (at the base rates) is a lower bound, `exact: false`.
    """
    from cbt_datagen.model_table import price_for

    tokens = section.get("tokens") or {}
    model = section.get("model") or ""
    usage = Usage(input_tokens=tokens.get("input", 0), output_tokens=tokens.get("output", 0),
                  cache_read_input_tokens=tokens.get("cache_read", 0),
                  cache_creation_input_tokens=tokens.get("cache_write", 0))
    if not any(usage.model_dump().values()):
        return {"model": model, "cost_usd": 0.0, "exact": True, "tokens": tokens}
    price = price_for(model, prices)
    largest = section.get("largest_prompt_tokens")
    threshold = price.long_prompt.threshold_tokens if price.long_prompt else None
    exact = threshold is None or (largest is not None and largest <= threshold)
    # the totals are priced at the base rates (cost_usd would judge the summed prompt long)
    base = price.model_copy(update={"long_prompt": None})
    dollars = cost_usd(usage, base, batch=section.get("provider") == "anthropic-batch")
    return {"model": model, "cost_usd": round(dollars, 6), "exact": exact,
            "cost_usd_when_run": section.get("cost_usd"), "tokens": tokens,
            "price_per_million": price.model_dump(exclude_none=True)}


def reprice(metrics: dict[str, Any], prices: Mapping[str, Price]) -> dict[str, Any]:
    """The teacher run (metrics/datagen.json) at today's prices, stage by stage and in all."""
    stages = {name: reprice_stage(metrics[name], prices)
              for name in STAGES if isinstance(metrics.get(name), dict)}
    return {"stages": stages,
            "total_usd": round(sum(s["cost_usd"] for s in stages.values()), 6),
            "exact": all(s["exact"] for s in stages.values())}
