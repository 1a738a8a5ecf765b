"""A cost ceiling for one run: requests go out in waves that the money left covers at worst.

A reply's cost is known only once it is back, and a wave's requests are in flight together, so
each wave holds only as many requests as the remaining money pays for if every one of them
costs the most it can: the largest prompt seen so far (+25%, + one reply for a repair attempt)
at the dearer of the input and cache-write rates, plus `max_output_tokens` of output. Before
any reply is seen, one request goes alone, its prompt bounded at one token per two characters.
When not even one more request fits, the run stops: what was paid for is kept and reported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from cbt_datagen.costs import cost_usd
from cbt_schema import Usage
from cbt_schema.params import Price

PROMPT_MARGIN = 1.25
CHARS_PER_TOKEN_FLOOR = 2  # no tokenizer in use packs fewer than 2 characters per token


def prompt_tokens(usage: Usage) -> int:
    return (usage.input_tokens + usage.cache_read_input_tokens
            + usage.cache_creation_input_tokens)


@dataclass
class Budget:
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
