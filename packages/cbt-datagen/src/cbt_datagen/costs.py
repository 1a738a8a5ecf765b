"""Dollar cost of teacher requests, from token usage and the model table's prices.

Prices are dollars per million tokens (cbt_datagen/models.yaml, overridden by
`teacher.prices.<model>` in params.yaml). Anthropic's `usage.input_tokens` counts only the
uncached input; cache writes and cache reads are reported separately and priced separately;
`output_tokens` includes thinking tokens, which are billed as output. A request whose prompt
(input + cache reads + cache writes) is longer than a price's `long_prompt.threshold_tokens`
pays the long-prompt rates on every token. The batch API bills every token class at a
discount: `batch_discount` is the fraction taken off (0.5 = half price, 0.0 = no discount).
"""

from __future__ import annotations

from cbt_datagen.model_table import price_for
from cbt_schema import Usage
from cbt_schema.params import Price

__all__ = ["add_usage", "cost_usd", "price_for"]

PER_MILLION = 1_000_000


def cost_usd(usage: Usage, price: Price, batch: bool = False) -> float:
    """What one request cost in dollars (for a sum of requests, sum their costs: the
    long-prompt rates are decided per request)."""
    rates = price
    prompt = (usage.input_tokens + usage.cache_read_input_tokens
              + usage.cache_creation_input_tokens)
    if price.long_prompt is not None and prompt > price.long_prompt.threshold_tokens:
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
