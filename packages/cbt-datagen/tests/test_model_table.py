"""The model table: lifecycle decided by date, one line for what cannot be used, prices."""

from datetime import date

import pytest

from cbt_datagen.model_table import check_model, load_table, lookup
from cbt_schema import UserError
from cbt_schema.params import TeacherParams


def _teacher(model: str, **kw) -> TeacherParams:
    return TeacherParams(provider="anthropic", model=model, **kw)


def test_every_row_is_complete_and_replacements_are_active() -> None:
    table = load_table()
    assert "claude-haiku-5-5" in table and table["claude-haiku-5-5"].status == "active"
    for info in table.values():
        if info.provider == "anthropic":
            assert info.prices.input > 0 and info.prices.output > info.prices.input
            assert info.min_cache_tokens and info.chars_per_token > 0
        if info.replacement:
            assert table[info.replacement].retired_on(date(2026, 11, 30)) is None
    # an alias row is the same model
    assert lookup("claude-haiku-4-5-20251001").prices == lookup("claude-haiku-4-5").prices


def test_a_deprecated_model_retires_on_its_date(capsys) -> None:
    sonnet = _teacher("claude-sonnet-4-5")
    assert check_model(sonnet, today=date(2026, 11, 1)).id == "claude-sonnet-4-5"
    assert "deprecated and retires on 2026-11-30; move to claude-sonnet-5-5" in (
        capsys.readouterr().err)
    with pytest.raises(UserError, match=r"^params.yaml: teacher.model: claude-sonnet-4-5 was "
                                        r"retired on 2026-11-30 and requests to it fail; use "
                                        r"claude-sonnet-5-5$"):
        check_model(sonnet, today=date(2026, 11, 30))


def test_a_model_that_cannot_stop_thinking_needs_adaptive() -> None:
    with pytest.raises(UserError, match=r"teacher.thinking: claude-sonnet-5-5 cannot turn "
                                        r"thinking off.*set teacher.thinking: adaptive"):
        check_model(_teacher("claude-sonnet-5-5"))
    assert check_model(_teacher("claude-sonnet-5-5", thinking="adaptive")).status == "active"


def test_effort_above_high_needs_thinking_on() -> None:
    with pytest.raises(ValueError, match="effort max needs thinking: adaptive"):
        _teacher("claude-haiku-5-5", effort="max")
    assert _teacher("claude-haiku-5-5", effort="max", thinking="adaptive").effort == "max"


def test_models_outside_the_table() -> None:
    own = TeacherParams(provider="openai-compatible", model="my-vllm-model",
                        prices={"my-vllm-model": {"input": 0.0, "output": 0.0}})
    assert check_model(own) is None
    with pytest.raises(UserError, match="no price for model 'other-model'"):
        check_model(TeacherParams(provider="openai-compatible", model="other-model"))
    # a newer Claude id than the table knows runs once the team prices it
    newer = _teacher("claude-haiku-6", prices={"claude-haiku-6": {"input": 1, "output": 2}})
    assert check_model(newer) is None
