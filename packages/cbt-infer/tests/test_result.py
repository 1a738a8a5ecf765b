"""Parsing answers into results: structured when possible, raw text and problems otherwise."""

from __future__ import annotations

import json

from cbt_infer.result import Generation, from_generation
from cbt_infer.safety import NOTICE
from cbt_schema import Assessment, Distortion, Finding, render_assessment

ASSESSMENT = Assessment(
    validation="Failing a test you prepared for is painful.",
    findings=[Finding(distortion=Distortion.LABELING, thought="I'm useless",
                      challenge="One test result does not define a whole person.")],
    closing="You can book another try and practise the parts that went wrong.")


def test_a_well_formed_answer_parses() -> None:
    gen = Generation(text=render_assessment(ASSESSMENT), tokens=60, finish_reason="stop")
    result = from_generation("s", gen, NOTICE, "transformers", 384)
    assert result.parsed and result.assessment == ASSESSMENT
    assert result.display.endswith(NOTICE)
    data = json.loads(json.dumps(result.to_dict()))
    assert Assessment.model_validate(data["assessment"]) == ASSESSMENT


def test_an_unreadable_answer_keeps_the_raw_text_and_says_why() -> None:
    gen = Generation(text="I'm sorry you feel that way.", tokens=8, finish_reason="stop")
    result = from_generation("s", gen, NOTICE, "transformers", 384)
    assert not result.parsed and result.assessment is None
    assert result.raw == "I'm sorry you feel that way." and result.message == result.raw
    assert "no list of thought distortions found" in result.problems
    assert result.to_dict()["parsed"] is False


def test_an_answer_cut_at_the_token_limit_is_flagged() -> None:
    gen = Generation(text=render_assessment(ASSESSMENT), tokens=384, finish_reason="length")
    result = from_generation("s", gen, NOTICE, "transformers", 384)
    assert not result.parsed and result.assessment is not None
    assert "max_new_tokens (384)" in result.problems[0]
