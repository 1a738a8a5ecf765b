"""GGUF export and the llama.cpp backend (skipped cleanly without the `llama` extra)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cbt_infer.export import SKIP_NOTE, main, skip
from cbt_infer.gguf_tools import CRISIS_INSTRUCTION, extra_missing

needs_llama = pytest.mark.skipif(
    extra_missing() is not None,
    reason=f"extra cbt-infer[export] not installed ({extra_missing()})")
SITUATION = "I failed my driving test again, I'm useless"


def test_skip_note_says_how_to_enable(tmp_path: Path) -> None:
    skip(tmp_path / "gguf", "the optional extra cbt-infer[export] is not installed (llama_cpp)")
    text = (tmp_path / "gguf" / SKIP_NOTE).read_text()
    assert "cbt-infer[export]" in text and "dvc repro export" in text


def test_disabled_in_params_writes_the_note(tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    params.write_text("export:\n  enabled: false\n")
    assert main(["--params", str(params), "--out", str(tmp_path / "gguf")]) == 0
    assert "export.enabled is false" in (tmp_path / "gguf" / SKIP_NOTE).read_text()


@needs_llama
@pytest.mark.slow
def test_export_writes_every_file(exported: Path) -> None:
    manifest = json.loads((exported / "export.json").read_text())
    for name in manifest["files"].values():
        assert (exported / name).stat().st_size > 0
    assert set(manifest["files"]) == {"f16", "q4_k_m", "lora_f16"}
    assert manifest["sizes_mb"]["q4_k_m"] < manifest["sizes_mb"]["f16"]
    modelfile = (exported / "Modelfile").read_text()
    assert "FROM ./cbt-student-q4_k_m.gguf" in modelfile
    assert 'PARAMETER stop "<|im_end|>"' in modelfile
    # the system prompt, then the crisis instruction (no screen runs in Ollama)
    assert f'SYSTEM """Be kind.\n\n{CRISIS_INSTRUCTION}"""' in modelfile


@needs_llama
@pytest.mark.slow
def test_f16_gguf_greedy_output_matches_transformers(exported: Path, tuned) -> None:
    from cbt_infer import Assessor

    llama = Assessor.from_pretrained(gguf=exported / "cbt-student-f16.gguf",
                                     system_prompt=tuned.system_prompt, crisis_probe=False)
    a = llama.assess(SITUATION, max_new_tokens=12)
    b = tuned.assess(SITUATION, max_new_tokens=12)
    assert a.raw == b.raw and a.tokens == b.tokens == 12
    assert llama.backend.stop_text == ["<|im_end|>"]


@needs_llama
@pytest.mark.slow
def test_quantized_gguf_answers_and_stops(exported: Path, tuned) -> None:
    from cbt_infer import Assessor
    from cbt_infer.backend_hf import Settings

    llama = Assessor.from_pretrained(gguf=exported / "cbt-student-q4_k_m.gguf",
                                     crisis_probe=False)
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    want = tuned.backend.generate(messages, Settings(max_new_tokens=48))
    got = llama.backend.generate(messages, Settings(max_new_tokens=48))
    assert want.finish_reason == "stop"  # the fixture adapter keeps the model able to stop
    assert got.finish_reason == "stop" and got.tokens < 48 and got.text


@needs_llama
@pytest.mark.slow
def test_lora_gguf_loads_on_the_base_gguf(exported: Path, base_dir: Path) -> None:
    from cbt_infer import Assessor

    base_gguf = next(base_dir.glob("*.gguf"))  # the wheel's GGUF, kept by the base_model stage
    plain = Assessor.from_pretrained(gguf=base_gguf, system_prompt="Be kind.",
                                     crisis_probe=False)
    lora = Assessor.from_pretrained(gguf=base_gguf, lora_gguf=exported / "cbt-adapter-f16.gguf",
                                    system_prompt="Be kind.", crisis_probe=False)
    a = plain.assess(SITUATION, max_new_tokens=12)
    b = lora.assess(SITUATION, max_new_tokens=12)
    assert a.raw and b.raw and a.raw != b.raw


@needs_llama
@pytest.mark.slow
def test_every_gguf_carries_the_task_and_llama_cpp_applies_it(exported: Path) -> None:
    """The system prompt and answer format are in each GGUF's metadata, and the chat template
    falls back to that prompt: llama-cpp-python's own chat handler, given only the person's
    words, answers exactly as the Assessor does."""
    import llama_cpp
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    from cbt_infer import Assessor
    from cbt_infer.backend_llama import lora_metadata
    from cbt_schema.student import ANSWER_FORMAT, GGUF_ANSWER_FORMAT, GGUF_SYSTEM_PROMPT

    quantized = exported / "cbt-student-q4_k_m.gguf"
    for name in ("cbt-student-f16.gguf", "cbt-student-q4_k_m.gguf", "cbt-adapter-f16.gguf"):
        meta = lora_metadata(exported / name)
        assert meta == {GGUF_SYSTEM_PROMPT: "Be kind.", GGUF_ANSWER_FORMAT: ANSWER_FORMAT}, name
    llm = llama_cpp.Llama(model_path=str(quantized), n_ctx=1024, verbose=False)
    template = llm.metadata["tokenizer.chat_template"]
    user_only = [{"role": "user", "content": SITUATION}]
    prompt = Jinja2ChatFormatter(template, eos_token="", bos_token="")(messages=user_only).prompt
    assert prompt.startswith("<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\n")
    ours = Assessor.from_pretrained(gguf=quantized, crisis_probe=False)
    assert ours.task.system_prompt == "Be kind." and "GGUF metadata" in ours.task.source
    theirs = llm.create_chat_completion(messages=user_only, max_tokens=12, temperature=0.0,
                                        top_k=1)
    answer = ours.assess(SITUATION, max_new_tokens=12)
    assert theirs["choices"][0]["message"]["content"].strip() == answer.raw
    assert answer.prompt_source.endswith("(GGUF metadata)")
