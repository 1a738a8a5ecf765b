"""Parsing answers into results: structured when possible, raw text and problems otherwise."""

from __future__ import annotations

import json

from cbt_infer.cli import NOT_YOURS, format_text
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


def test_a_looping_answer_is_never_parsed_and_says_where_it_stopped() -> None:
    gen = Generation(text=render_assessment(ASSESSMENT), tokens=57, finish_reason="loop")
    result = from_generation("s", gen, NOTICE, "llama", 384)
    assert result.finish_reason == "loop" and not result.parsed
    assert result.problems[0] == "the answer repeated itself and was stopped after 57 tokens"
    assert result.to_dict()["parsed"] is False


def test_each_quote_is_checked_against_the_persons_words() -> None:
    two = ASSESSMENT.model_copy(update={"findings": [
        *ASSESSMENT.findings,
        Finding(distortion=Distortion.MAGNIFICATION, thought="It's the worst day of my life!",
                challenge="Will this matter in a year?")]})
    gen = Generation(text=render_assessment(two), tokens=90, finish_reason="stop")
    situation = "I failed my driving test again. I'm useless."
    result = from_generation(situation, gen, NOTICE, "transformers", 384)
    assert result.parsed and result.quote_found == [True, False]
    data = json.loads(json.dumps(result.to_dict()))
    assert data["quote_found"] == [True, False] and data["quote_fidelity"] == 0.5
    text = format_text(result)
    assert "I'm useless\"\n" in text
    assert '"It\'s the worst day of my life!" (not your words)' in text
    assert text.count(NOT_YOURS) == 2  # the thought, and the one note that explains the mark
    none = Assessment(validation="That sounds calm.", findings=[], closing="Enjoy your day.")
    gen = Generation(text=render_assessment(none), tokens=20, finish_reason="stop")
    result = from_generation(situation, gen, NOTICE, "transformers", 384)
    assert result.quote_found == [] and result.to_dict()["quote_fidelity"] is None
    assert NOT_YOURS not in format_text(result)


def test_an_answer_cut_before_its_closing_keeps_the_findings_the_parser_read() -> None:
    """from_generation reads the answer with the student task's parser, once: `findings` is all
    it read (what evaluation scores), `assessment` None; to_dict is unchanged by it."""
    from cbt_schema.student import StudentTask

    text = render_assessment(ASSESSMENT).replace(ASSESSMENT.closing, "")
    gen = Generation(text=text, tokens=384, finish_reason="length")
    result = from_generation("I'm useless", gen, NOTICE, "transformers", 384)
    read = StudentTask.parse(text)
    assert result.assessment is None and read.assessment is None
    assert result.findings == read.findings == ASSESSMENT.findings
    assert result.quote_found == []  # quotes are checked for the assessment's findings
    assert "findings" not in result.to_dict()
