import pytest

from cbt_datagen.costs import add_usage, cost_usd, price_for
from cbt_schema import Usage, UserError
from cbt_schema.params import Price

HAIKU = Price(input=0.25, output=1.25, cache_write=0.30, cache_read=0.03, batch_discount=0.5)


def test_cost_prices_every_token_class_per_million() -> None:
    usage = Usage(input_tokens=1_000_000, output_tokens=2_000_000,
                  cache_creation_input_tokens=3_000_000, cache_read_input_tokens=4_000_000)
    assert cost_usd(usage, HAIKU) == pytest.approx(0.25 + 2 * 1.25 + 3 * 0.30 + 4 * 0.03)


def test_batch_discount_is_the_fraction_taken_off() -> None:
    usage = Usage(input_tokens=1000, output_tokens=500)
    full = cost_usd(usage, HAIKU)
    assert full == pytest.approx((1000 * 0.25 + 500 * 1.25) / 1e6)
    assert cost_usd(usage, HAIKU, batch=True) == pytest.approx(full / 2)
    no_discount = HAIKU.model_copy(update={"batch_discount": 0.0})
    assert cost_usd(usage, no_discount, batch=True) == pytest.approx(full)


def test_free_model_costs_nothing() -> None:
    assert cost_usd(Usage(input_tokens=10**9, output_tokens=10**9), Price(input=0, output=0)) == 0


def test_unknown_model_is_a_user_error_naming_the_key() -> None:
    with pytest.raises(UserError, match=r"params.yaml: teacher.prices: no price for model "
                                        r"'claude-x'.*priced models: claude-3-haiku"):
        price_for("claude-x", {"claude-3-haiku-20240307": HAIKU})
    assert price_for("claude-3-haiku-20240307", {"claude-3-haiku-20240307": HAIKU}) is HAIKU


def test_add_usage() -> None:
    total = add_usage(Usage(input_tokens=1, output_tokens=2, cache_read_input_tokens=3),
                      Usage(input_tokens=10, cache_creation_input_tokens=5))
    assert total == Usage(input_tokens=11, output_tokens=2, cache_read_input_tokens=3,
                          cache_creation_input_tokens=5)
