"""Loop/copy rates and the schema tightening of the local teacher (no model needed)."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from cbt_datagen.prompts import schema_for
from cbt_datagen.providers.local import LocalProvider, fit_schema, request_seed
from cbt_datagen.quality import at_cap, quality_metrics, reply_text
from cbt_schema import Assessment, EventDraft, UserError
from cbt_schema.params import TeacherParams

PROMPT = "Avoid stock openings such as I was walking home from work late one evening."


def test_rates_flag_loops_caps_and_copies() -> None:
    fresh = json.dumps({"situation": "My sister forgot my birthday dinner again this year.",
                        "reaction": "I feel hurt and wonder whether she cares at all."})
    loop = json.dumps({"situation": "I went to the shop.",
                       "reaction": "and then I felt sad and then I felt sad " * 4})
    copy = json.dumps({"situation": "I was walking home from work late one evening.",
                       "reaction": "A car splashed me and nobody said sorry at all."})
    capped = json.dumps({"situation": "My boss moved our weekly meeting again, the third time",
                         "reaction": "fine words here"})
    schema = {"type": "object", "properties": {"situation": {"type": "string", "maxLength": 55},
                                               "reaction": {"type": "string"}}}
    m = quality_metrics([fresh, loop, copy, capped], [PROMPT], schema=schema)
    assert m == {"loop_rate": 0.5, "repeat_rate": 0.25, "cap_rate": 0.25, "copy_rate": 0.25}
    truncated = quality_metrics(['{"situation": "cut'], stop_reasons=["max_tokens"])
    assert truncated["loop_rate"] == truncated["cap_rate"] == 1.0


def test_reply_text_skips_labels_and_keeps_raw_non_json() -> None:
    raw = json.dumps({"validation": "That sounds hard.", "findings": [
        {"distortion": "labeling", "thought": "I am useless.", "challenge": "Is that fair?"}],
        "closing": "One step at a time."})
    assert "labeling" not in reply_text(raw) and "I am useless." in reply_text(raw)
    assert reply_text("not json at all") == "not json at all"
    assert at_cap({"a": ["abc"]}, {"properties": {"a": {"items": {"maxLength": 4}}}})


@pytest.mark.parametrize(("model", "max_tokens"), [(EventDraft, 200), (Assessment, 600),
                                                   (Assessment, 120)])
def test_fit_schema_is_tighter_and_fits_the_budget(model: type, max_tokens: int) -> None:
    schema = schema_for(model)
    fitted = fit_schema(schema, max_tokens)
    props = fitted["properties"]
    strings = []
    for name, node in props.items():
        if node.get("type") == "array":
            assert node["maxItems"] == 3 and node["minItems"] == 1 and name in fitted["required"]
            strings += [(v, 3) for v in node["items"]["properties"].values() if "enum" not in v]
        else:
            strings.append((node, 1))
            assert node["maxLength"] <= schema["properties"][name]["maxLength"]
            assert node["maxLength"] > node["minLength"]
    assert sum(n["maxLength"] * k for n, k in strings) <= max_tokens * 2.5
    assert schema_for(model) == schema  # the request's schema is left alone


def test_fit_schema_output_validates_under_the_original_model() -> None:
    fitted = fit_schema(schema_for(Assessment), 300)
    f = fitted["properties"]["findings"]["items"]["properties"]
    longest = {"validation": "v" * fitted["properties"]["validation"]["maxLength"],
               "findings": [{"distortion": "labeling", "thought": "t" * f["thought"]["maxLength"],
                             "challenge": "c" * f["challenge"]["maxLength"]}] * 3,
               "closing": "c" * fitted["properties"]["closing"]["maxLength"]}
    Assessment.model_validate(longest)
    with pytest.raises(ValidationError):  # sanity: the original bounds do bite
        Assessment.model_validate({**longest, "closing": "c" * 601})


def test_request_seed_is_stable_and_differs_per_attempt() -> None:
    assert request_seed(42, "abc-1") == request_seed(42, "abc-1")
    assert len({request_seed(42, "abc-1"), request_seed(42, "abc-2"),
                request_seed(7, "abc-1")}) == 3


def test_missing_model_dir_is_a_user_error(tmp_path) -> None:
    with pytest.raises(UserError, match=r"nowhere: not a model folder \(no config.json\)"):
        LocalProvider(tmp_path / "nowhere", TeacherParams(), seed=1)
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "config.json").write_text("{}")
    with pytest.raises(UserError, match="no tokenizer files"):
        LocalProvider(tmp_path / "cfg", TeacherParams(), seed=1)


def test_corrupt_model_dir_is_a_user_error(tmp_path) -> None:
    (tmp_path / "config.json").write_text('{"model_type": "llama"')
    (tmp_path / "tokenizer.json").write_text("{}")
    with pytest.raises(UserError, match=str(tmp_path) + ": cannot load the local teacher"):
        LocalProvider(tmp_path, TeacherParams(), seed=1)


def test_an_explicit_min_items_zero_lets_the_local_teacher_find_nothing() -> None:
    open_schema = schema_for(Assessment)
    open_schema["properties"]["findings"]["minItems"] = 0
    assert fit_schema(open_schema, 600)["properties"]["findings"]["minItems"] == 0
    assert fit_schema(schema_for(Assessment), 600)["properties"]["findings"]["minItems"] == 1


def test_one_loop_definition_counts_length_caps() -> None:
    from cbt_datagen.tasks.events import quality as event_quality
    from cbt_schema import Event

    capped = Event(id="e", seed_id="s", situation="x" * 30 + " words here", reaction="fine " * 5)
    schema = {"properties": {"situation": {"maxLength": 42}}}
    assert event_quality([capped], schema)["loop_rate"] == 1.0
    assert event_quality([capped])["loop_rate"] == 0.0  # no cap known: only repeats count
