import pytest

from cbt_datagen.model_table import price_for
from cbt_datagen.money import add_usage, cost_usd
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
                                        r"'vllm-x' \(it is not in the model table.*priced "
                                        r"models: .*claude-haiku-5-5.*my-model"):
        price_for("vllm-x", {"my-model": HAIKU})
    assert price_for("my-model", {"my-model": HAIKU}) is HAIKU
    # params override the table; the table prices what params do not
    assert price_for("claude-haiku-5-5", {"claude-haiku-5-5": HAIKU}) is HAIKU
    assert price_for("claude-haiku-5-5").input == 0.10


def test_long_prompts_pay_the_long_prompt_rates_on_every_token() -> None:
    """Haiku 5.5: a prompt (input + cache reads + writes) over 100,000 tokens pays $0.50 /
    $2.50, cache write $0.625, read $0.05, output included; batch halves it all."""
    haiku = price_for("claude-haiku-5-5")
    short = Usage(input_tokens=60_000, cache_read_input_tokens=40_000, output_tokens=1_000)
    assert cost_usd(short, haiku) == pytest.approx((60_000 * 0.10 + 40_000 * 0.01
                                                    + 1_000 * 0.50) / 1e6)
    long = short.model_copy(update={"cache_creation_input_tokens": 1})
    assert cost_usd(long, haiku) == pytest.approx((60_000 * 0.50 + 40_000 * 0.05 + 0.625
                                                   + 1_000 * 2.50) / 1e6)
    assert cost_usd(long, haiku, batch=True) == pytest.approx(cost_usd(long, haiku) / 2)


def test_add_usage() -> None:
    total = add_usage(Usage(input_tokens=1, output_tokens=2, cache_read_input_tokens=3),
                      Usage(input_tokens=10, cache_creation_input_tokens=5))
    assert total == Usage(input_tokens=11, output_tokens=2, cache_read_input_tokens=3,
                          cache_creation_input_tokens=5)
    thinking = add_usage(Usage(output_tokens=9, thinking_tokens=4), Usage(thinking_tokens=1))
    assert thinking.thinking_tokens == 5 and thinking.output_tokens == 9


def test_cost_command_reprices_the_metered_tokens_at_todays_prices(tmp_path, capsys) -> None:
    """The teacher_cost stage: tokens from metrics/datagen.json, prices from params now."""
    import json

    import yaml

    from cbt_datagen.cli import _main
    from cbt_schema.errors import run_cli

    tokens = {"input": 1_000_000, "output": 2_000_000, "cache_read": 4_000_000,
              "cache_write": 3_000_000, "thinking": 0}
    metrics = {"events": {"model": "my-model", "provider": "openai-compatible",
                          "tokens": tokens, "cost_usd": 9.99, "largest_prompt_tokens": 900},
               "assessments": {"model": "my-model", "provider": "anthropic-batch",
                               "tokens": tokens, "cost_usd": 1.0,
                               "largest_prompt_tokens": 200_000},
               "total": {"cost_usd": 10.99}}
    (tmp_path / "datagen.json").write_text(json.dumps(metrics))
    price = {**HAIKU.model_dump(), "long_prompt": {"threshold_tokens": 100_000, "input": 1.0,
                                                   "output": 2.0}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(
        {"teacher": {"prices": {"my-model": price}}}))
    assert run_cli("cbt-datagen", _main, [
        "cost", "--params", str(tmp_path / "params.yaml"), "--datagen",
        str(tmp_path / "datagen.json"), "--out", str(tmp_path / "cost.json")]) == 0
    report = json.loads((tmp_path / "cost.json").read_text())
    full = 0.25 + 2 * 1.25 + 3 * 0.30 + 4 * 0.03  # by hand, per million of each class
    assert report["stages"]["events"]["cost_usd"] == pytest.approx(full)
    assert report["stages"]["events"]["exact"] is True
    assert report["stages"]["events"]["cost_usd_when_run"] == 9.99
    # batch: half price; a prompt over the long-prompt threshold: not exact
    assert report["stages"]["assessments"]["cost_usd"] == pytest.approx(full / 2)
    assert report["stages"]["assessments"]["exact"] is False and report["exact"] is False
    assert report["total_usd"] == pytest.approx(full * 1.5)
    assert "a lower bound" in capsys.readouterr().out
