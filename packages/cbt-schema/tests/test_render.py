from hypothesis import given, settings
from hypothesis import strategies as st

from cbt_schema import Assessment, Distortion, Finding, parse_assessment, render_assessment

_WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJ ,.!?'0123456789-", min_size=1,
                 max_size=60).map(str.strip).filter(lambda s: s and s[0].isalpha())


def _sentence(max_size: int) -> st.SearchStrategy[str]:
    return _WORDS.map(lambda s: s[:max_size])


findings = st.builds(Finding, distortion=st.sampled_from(list(Distortion)),
                     thought=_sentence(300), challenge=_sentence(500))
# a closing has real words: parse_assessment reports one that has none
_closings = st.from_regex(r"[A-Z][a-z]{1,12}( [a-z]{1,12},?){0,20}[.!]?", fullmatch=True)
assessments = st.builds(Assessment, validation=_sentence(800),
                        findings=st.lists(findings, max_size=10), closing=_closings)


@settings(max_examples=200, deadline=None)
@given(assessments)
def test_render_then_parse_round_trips(assessment: Assessment) -> None:
    result = parse_assessment(render_assessment(assessment))
    assert result.problems == []
    assert result.assessment == assessment


def test_parser_tolerates_model_style_variations() -> None:
    text = """It's completely understandable to feel this way.

Here are some COGNITIVE DISTORTIONS I noticed:

* **Magnification (catastrophizing):** “This one mistake ruins everything.”
  *Challenge:* Ask how much this will matter in a year.
1. overgeneralization - no colon here
• Mind reading: "They must think I'm useless."
    Challenge: What is the evidence
    for and against this?
- **Labeling**: "I'm a terrible team member" Challenge: Describe the behaviour instead.

Be kind to yourself as you move forward."""
    result = parse_assessment(text)
    assert [f.distortion for f in result.findings] == [
        Distortion.MAGNIFICATION, Distortion.JUMPING_TO_CONCLUSIONS, Distortion.LABELING]
    assert result.findings[0].thought == "This one mistake ruins everything."
    assert result.findings[1].challenge == "What is the evidence for and against this?"
    assert result.findings[2].challenge == "Describe the behaviour instead."
    assert result.assessment is not None
    assert result.assessment.closing == "Be kind to yourself as you move forward."
    assert len(result.problems) == 1 and "Overgeneralization has no challenge" in result.problems[0]


def test_parser_reports_unknown_distortions_and_missing_parts() -> None:
    result = parse_assessment('Possible thought distortions:\n- Wishful thinking: "x"\n'
                              "  Challenge: y\n")
    assert result.assessment is None
    assert any("unknown distortion 'Wishful thinking'" in p for p in result.problems)
    assert "missing the validating opening" in result.problems
    assert "missing the closing paragraph" in result.problems
    assert not result.ok


def test_parser_reports_text_without_a_list() -> None:
    result = parse_assessment("I loop I loop I loop I loop")
    assert result.assessment is None
    assert result.problems == ["no list of thought distortions found"]


def test_no_findings_renders_and_parses_as_empty() -> None:
    a = Assessment(validation="That sounds hard.", findings=[], closing="Take care.")
    text = render_assessment(a)
    assert "None stand out" in text
    assert parse_assessment(text).assessment == a


def test_a_closing_without_real_words_is_reported() -> None:
    a = Assessment(validation="That sounds hard.", closing="Take care.", findings=[
        Finding(distortion=Distortion.LABELING, thought="I'm useless", challenge="Is it true?")])
    for junk in ("{", "}", "---", "1.", '{"a": 1}', "**"):
        result = parse_assessment(render_assessment(a).replace("Take care.", junk))
        assert not result.ok, junk
        assert result.problems == [f"the closing is not a sentence: {junk!r}"]
    for fine in ("Take care.", "Breathe.", "You scored 80% on a 100-point test: well done!"):
        assert parse_assessment(render_assessment(a).replace("Take care.", fine)).ok, fine
