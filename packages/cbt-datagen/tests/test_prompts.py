from pathlib import Path

import pytest

from cbt_datagen.prompts import FewShotExample, load_examples, load_prompt, schema_for
from cbt_schema import DISTORTIONS, Assessment, Distortion, EventDraft, Seed, UserError
from cbt_schema.jsonl import read_jsonl

ROOT = Path(__file__).resolve().parents[3]
ASSESSMENT = ROOT / "prompts/assessment.j2"
EVENT = ROOT / "prompts/event.j2"
EXAMPLES = ROOT / "prompts/assessment_examples.jsonl"


def test_examples_validate_and_the_first_five_cover_all_ten_distortions() -> None:
    examples = read_jsonl(EXAMPLES, FewShotExample)
    assert len(examples) >= 5
    covered = {f.distortion for ex in examples[:5] for f in ex.assessment.findings}
    assert covered == set(Distortion)
    for ex in examples:  # each quoted thought really is in the example's own event
        text = f"{ex.event.situation} {ex.event.reaction}"
        for finding in ex.assessment.findings:
            assert finding.thought.rstrip(".") in text, (ex.id, finding.thought)


def test_worksheet_comes_from_cbt_schema_not_the_template() -> None:
    source = ASSESSMENT.read_text()
    system = load_prompt(ASSESSMENT, few_shot=0).system
    for d, info in DISTORTIONS.items():
        assert info.description not in source and info.challenge not in source
        assert info.description in system and info.challenge in system
        assert f"(label: {d.value})" in system


def test_few_shot_count_selects_examples_and_changes_the_sha() -> None:
    none = load_prompt(ASSESSMENT, few_shot=0)
    five = load_prompt(ASSESSMENT, few_shot=5)
    assert "<example>" not in none.system
    assert five.system.count("<example>") == 5
    assert none.sha256 != five.sha256 and len(five.sha256) == 64
    assert none.prompt_id == "assessment"
    with pytest.raises(UserError, match=r"assessments\.few_shot: 50 examples asked for"):
        load_prompt(ASSESSMENT, few_shot=50)


def test_user_messages_are_short_and_carry_the_item() -> None:
    seed = Seed(id="s", sex="female", age=34, occupation="bus driver",
                relationship_status="divorced", emotion="resentment")
    event = load_prompt(EVENT)
    user = event.user(seed)
    assert "34 years old, bus driver, divorced" in user and "resentment" in user
    assert len(user) < 200 < len(event.system)
    draft = EventDraft(situation="My manager moved my shift again without asking.",
                       reaction="I feel used. They always dump the worst hours on me.")
    assert draft.situation in load_prompt(ASSESSMENT).user(draft)


def test_schema_is_self_contained_with_bounds() -> None:
    schema = schema_for(Assessment)
    assert "$defs" not in schema and "$ref" not in str(schema)
    finding = schema["properties"]["findings"]["items"]
    assert finding["properties"]["distortion"]["enum"] == [d.value for d in Distortion]
    assert schema["properties"]["findings"]["maxItems"] == 10
    assert schema_for(EventDraft)["properties"]["situation"]["maxLength"] == 600


def test_missing_template_and_examples_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="prompt template not found"):
        load_prompt(tmp_path / "nope.j2")
    (tmp_path / "assessment_examples.jsonl").write_text('{"id": "x"}\n')
    with pytest.raises(UserError, match=r"assessment_examples.jsonl:1: event"):
        load_examples(tmp_path / "assessment_examples.jsonl", 1)


def test_a_stable_share_of_seeds_is_asked_for_balanced_thinking() -> None:
    from cbt_datagen.tasks.events import is_balanced
    from cbt_testing.teacher_servers.helpers import make_seeds

    seeds = make_seeds(400)
    chosen = [s for s in seeds if is_balanced(s.id, 0.25)]
    assert 70 < len(chosen) < 130 and not any(is_balanced(s.id, 0.0) for s in seeds)
    assert chosen == [s for s in seeds if is_balanced(s.id, 0.25)]  # the same every run
    event = load_prompt(ROOT / "prompts/event.j2")
    assert "balanced, realistic way" in event.user(seeds[0], True)
    assert "balanced" not in event.user(seeds[0], False)
    assert event.user(seeds[0]) == event.user(seeds[0], False)
