"""The Python API on the real SmolLM2-135M-Instruct: stopping, streaming, batching, adapters,
and clear errors for bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cbt_infer import NOTICE, Assessor
from cbt_infer.backend_hf import Settings, stop_token_ids
from cbt_schema.errors import UserError

pytestmark = pytest.mark.slow
FRANCE = [{"role": "user", "content": "What is the capital of France?"}]


def test_stop_ids_come_from_the_template_not_a_wrong_eos(assessor: Assessor) -> None:
    """transformers' GGUF conversion calls <|im_start|> the eos; we must still stop on
    <|im_end|>, the token the chat template closes every turn with."""
    import copy

    from transformers import GenerationConfig

    tokenizer = copy.deepcopy(assessor.backend.tokenizer)
    tokenizer.eos_token = "<|im_start|>"

    class Model:
        generation_config = GenerationConfig(eos_token_id=None)

    ids = stop_token_ids(tokenizer, Model())
    assert ids[0] == tokenizer.convert_tokens_to_ids("<|im_end|>")


def test_generation_stops_at_the_end_of_turn_token(assessor: Assessor) -> None:
    backend = assessor.backend
    gen = backend.generate(FRANCE, Settings(max_new_tokens=32))
    assert gen.finish_reason == "stop" and gen.tokens < 32
    assert "Paris" in gen.text and "<|im_end|>" not in gen.text


def test_assess_returns_raw_text_with_problems_and_the_notice(assessor: Assessor) -> None:
    result = assessor.assess("My friend cancelled our plans again, I must be boring.",
                             max_new_tokens=12)
    assert not result.crisis and result.raw and result.tokens <= 12
    assert result.finish_reason == "length" and not result.parsed and result.problems
    assert result.display.endswith(NOTICE)


def test_stream_yields_the_same_text_as_assess(assessor: Assessor) -> None:
    situation = "I burned dinner and I ruin everything."
    whole = assessor.assess(situation, max_new_tokens=16)
    stream = assessor.stream(situation, max_new_tokens=16)
    chunks = list(stream)
    assert len(chunks) > 2 and chunks[-1] == "\n\n" + NOTICE
    assert "".join(chunks[:-1]).strip() == whole.raw
    assert stream.result is not None and stream.result.raw == whole.raw
    assert stream.result.first_token_s is not None


def test_crisis_input_gets_resources_and_no_generation(assessor: Assessor) -> None:
    result = assessor.assess("I've been saving up my pills.")
    assert result.crisis and result.tokens == 0 and "116 123" in result.message
    chunks = list(assessor.stream("I want to die"))
    assert len(chunks) == 1 and "988" in chunks[0]


def test_batch_matches_one_at_a_time(assessor: Assessor) -> None:
    situations = ["I lost my keys and I'm an idiot.", "My boss criticised my report."]
    batched = assessor.assess_many(situations, batch_size=2, max_new_tokens=6, progress=False)
    single = [assessor.assess(s, max_new_tokens=6) for s in situations]
    assert [r.raw for r in batched] == [r.raw for r in single]


def test_empty_and_too_long_input_are_clear_errors(assessor: Assessor) -> None:
    with pytest.raises(UserError, match="the situation is empty"):
        assessor.assess("   ")
    with pytest.raises(UserError, match=r"too long: .* context window of 8192; shorten it"):
        assessor.assess("I feel bad about work. " * 2000)
    with pytest.raises(UserError, match="situation 2: the situation is empty"):
        assessor.assess_many(["fine", ""], progress=False)


def test_an_adapter_changes_the_answer(tuned: Assessor, assessor: Assessor) -> None:
    situation = "I failed my driving test again, I'm useless"
    assert (tuned.assess(situation, max_new_tokens=8).raw
            != assessor.assess(situation, max_new_tokens=8).raw)
    assert "+" in tuned.backend.description


def test_a_merged_model_folder_gives_the_adapter_answer(merged_dir: Path, tuned: Assessor) -> None:
    situation = "I failed my driving test again, I'm useless"
    merged = Assessor.from_pretrained(merged_dir, system_prompt=tuned.system_prompt,
                                      crisis_probe=False)
    assert (merged.assess(situation, max_new_tokens=8).raw
            == tuned.assess(situation, max_new_tokens=8).raw)


def test_an_adapter_for_another_base_is_one_clear_line(base_dir: Path,
                                                       foreign_adapter_dir: Path) -> None:
    with pytest.raises(UserError) as info:
        Assessor.from_pretrained(base_dir, adapter=foreign_adapter_dir, crisis_probe=False)
    message = str(info.value)
    assert "does not fit base" in message and "tiny-random-llama" in message
    assert "\n" not in message


def test_adapter_alone_finds_its_base(base_dir: Path, adapter_dir: Path,
                                      tmp_path: Path) -> None:
    copy = tmp_path / "adapter"
    shutil.copytree(adapter_dir, copy)
    from cbt_infer.loading import resolve

    spec = resolve(None, copy)
    assert Path(spec.base) == base_dir and spec.adapter == copy
    assert resolve(copy, None).adapter == copy  # an adapter passed as the base
