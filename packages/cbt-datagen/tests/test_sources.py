"""Where records come from: teacher.provider read once, by cbt_datagen.sources."""

from __future__ import annotations

import pytest

from cbt_datagen.prompts import schema_for
from cbt_datagen.sources import PROVIDERS, ImportSource, TeacherSource, imports, open_source
from cbt_datagen.tasks import events
from cbt_schema import EventDraft
from cbt_schema.params import PipelineParams
from cbt_schema.params.teacher import Provider

FILE = {"path": "data/import/pairs.csv", "columns": {"situation": "s", "assessment": "a"}}


def _params(**teacher) -> PipelineParams:
    return PipelineParams.model_validate({"base": {"seed": 3}, "teacher": teacher})


def test_every_provider_the_params_allow_has_a_source() -> None:
    """The params schema's providers are the factory's, plus the one import source."""
    allowed = set(Provider.__args__)
    imported = {p for p in allowed if imports(_params(provider=p, file=FILE).teacher)}
    assert len(imported) == 1 and allowed - imported == set(PROVIDERS)
    for name in allowed:
        source = open_source(_params(provider=name, file=FILE))
        assert type(source) is (ImportSource if name in imported else TeacherSource)


def test_opening_a_source_makes_no_provider(monkeypatch) -> None:
    """No key, no model, no base_url is needed until the stage runs."""
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    for name in PROVIDERS:
        assert isinstance(open_source(_params(provider=name)), TeacherSource)


@pytest.mark.parametrize("name", ["local", "openai-compatible"])
def test_a_sampling_teacher_keys_requests_on_its_sampling(name: str) -> None:
    source = TeacherSource(_params(provider=name, temperature=0.4, top_p=0.8,
                                   repetition_penalty=1.2))
    assert source.key_params(300) == {"max_tokens": 300, "temperature": 0.4, "top_p": 0.8,
                                      "repetition_penalty": 1.2, "seed": 3}


@pytest.mark.parametrize("name", ["anthropic", "anthropic-batch"])
def test_claude_keys_requests_on_thinking_never_on_sampling(name: str) -> None:
    plain = TeacherSource(_params(provider=name, temperature=0.4))
    assert plain.key_params(300) == {"max_tokens": 300, "thinking": "disabled", "effort": None}
    thinking = TeacherSource(_params(provider=name, thinking="adaptive", effort="low",
                                     thinking_max_tokens=2048))
    assert thinking.key_params(300) == {"max_tokens": 300, "thinking": "adaptive",
                                        "effort": "low", "thinking_max_tokens": 2048}


def test_batch_pricing_and_the_decoded_schema_follow_the_provider(tmp_path) -> None:
    assert [n for n in PROVIDERS if TeacherSource(_params(provider=n)).batch] == [
        "anthropic-batch"]
    (tmp_path / "e.j2").write_text("{% macro system() %}S{% endmacro %}"
                                   "{% macro user(s) %}U{% endmacro %}")
    from cbt_datagen.prompts import load_prompt

    task = events.task(load_prompt(tmp_path / "e.j2"), 200)
    own = schema_for(EventDraft)
    assert TeacherSource(_params(provider="anthropic")).decoded_schema(task) == own
    local = TeacherSource(_params(provider="local")).decoded_schema(task)
    assert local["properties"]["situation"]["maxLength"] < own["properties"]["situation"][
        "maxLength"]
