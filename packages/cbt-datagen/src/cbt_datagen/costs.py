"""Dollar cost of teacher requests, from token usage and the per-model price table in params.

Prices are dollars per million tokens (`teacher.prices.<model>` in params.yaml). Anthropic's
`usage.input_tokens` counts only the uncached input; cache writes and cache reads are reported
separately and priced separately. The batch API bills every token class at a discount:
`batch_discount` is the fraction taken off (0.5 = half price, 0.0 = no discount).
"""

from __future__ import annotations

from collections.abc import Mapping

from cbt_schema import Usage, UserError
from cbt_schema.params import Price

PER_MILLION = 1_000_000


def cost_usd(usage: Usage, price: Price, batch: bool = False) -> float:
    """What one request (or a sum of requests) cost in dollars."""
    dollars = (
        usage.input_tokens * price.input
        + usage.output_tokens * price.output
        + usage.cache_creation_input_tokens * price.cache_write
        + usage.cache_read_input_tokens * price.cache_read
    ) / PER_MILLION
    if batch:
        dollars *= 1.0 - price.batch_discount
    return dollars


def price_for(model: str, prices: Mapping[str, Price], source: str = "params.yaml") -> Price:
    """The price entry of `model`; a model missing from the table is a UserError naming the key.

    Checked before any request is sent, so nothing is spent on a run that cannot be costed.
    """
    try:
        return prices[model]
    except KeyError:
        known = ", ".join(sorted(prices)) or "none"
        raise UserError(
            f"{source}: teacher.prices: no price for model {model!r} "
            f"(add teacher.prices.{model}: {{input: ..., output: ...}} in dollars per million "
            f"tokens; priced models: {known})"
        ) from None


def add_usage(a: Usage, b: Usage) -> Usage:
    """Sum two Usage records field by field."""
    return Usage(
        input_tokens=a.input_tokens + b.input_tokens,
        output_tokens=a.output_tokens + b.output_tokens,
        cache_read_input_tokens=a.cache_read_input_tokens + b.cache_read_input_tokens,
        cache_creation_input_tokens=a.cache_creation_input_tokens + b.cache_creation_input_tokens,
    )
