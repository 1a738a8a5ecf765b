"""Finding model folders and prompts: one clear line for every bad path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cbt_infer.choose import DEFAULT_BASE, choose
from cbt_infer.loading import resolve
from cbt_infer.prompt import end_of_turn_text, explicit_prompt, task_for
from cbt_schema.errors import UserError
from cbt_schema.student import DEFAULT_SYSTEM_PROMPT, StudentTask


def test_missing_paths_are_clear(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="adapter folder not found"):
        resolve(tmp_path, tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="not a peft adapter"):
        resolve(tmp_path, tmp_path / "empty")
    with pytest.raises(UserError, match=r"has no config\.json"):
        resolve(tmp_path / "missing-base", None)
    with pytest.raises(UserError, match="no model given"):
        resolve(None, None)


def test_adapter_without_recorded_base_needs_one(tmp_path: Path) -> None:
    (tmp_path / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": ""}))
    with pytest.raises(UserError, match="base_model_name_or_path is empty"):
        resolve(None, tmp_path)


def test_system_prompt_resolution(tmp_path: Path, caplog) -> None:
    assert task_for(None, None).system_prompt == DEFAULT_SYSTEM_PROMPT
    assert "built-in" in caplog.text  # a warning: on stderr for a library user too
    StudentTask("From the model folder.").write(tmp_path)
    carried = StudentTask.from_folder(tmp_path)
    assert task_for(None, carried).system_prompt == "From the model folder."
    assert task_for("Explicit.", carried).system_prompt == "Explicit."
    (tmp_path / "p.txt").write_text("From a file.\n")
    assert explicit_prompt(tmp_path / "p.txt") == "From a file."
    with pytest.raises(UserError, match="system prompt file not found"):
        explicit_prompt(tmp_path / "nope.txt")


def test_default_models_are_found_or_named_never_downloaded(tmp_path: Path,
                                                            monkeypatch) -> None:
    """No model named: the exported GGUF on llama.cpp when there is one (and llama.cpp is
    installed), else models/base (+ models/adapter); a missing default names its stage."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError, match="dvc repro base_model"):
        choose("auto")
    with pytest.raises(UserError, match="dvc repro export"):
        choose("llama")
    (tmp_path / DEFAULT_BASE).mkdir(parents=True)
    assert choose("auto") == choose("transformers")
    assert choose("auto").base == DEFAULT_BASE and choose("auto").adapter is None
    (tmp_path / "models/adapter").mkdir()
    assert choose("auto").adapter == "models/adapter"
    gguf = tmp_path / "models/gguf/cbt-student-q4_k_m.gguf"
    gguf.parent.mkdir()
    gguf.write_bytes(b"GGUF")
    monkeypatch.setattr("cbt_infer.choose.has_module", lambda name: True)
    assert choose("auto").backend == "llama" and choose("auto").gguf == str(gguf.relative_to(
        tmp_path))
    assert choose("auto", base="models/base").backend == "transformers"  # named: as named
    monkeypatch.setattr("cbt_infer.choose.has_module", lambda name: name == "llama_cpp")
    with pytest.raises(UserError, match=r"cbt-infer\[transformers\]"):
        choose("transformers")
    with pytest.raises(UserError, match="backend: 'gpu' is not one of"):
        choose("gpu")
    with pytest.raises(UserError, match=r"answers on llama\.cpp"):
        choose("transformers", gguf="x.gguf")
    with pytest.raises(UserError, match="LoRA GGUF"):
        choose("auto", adapter="models/adapter", gguf="x.gguf")


def test_end_of_turn_is_read_from_the_template() -> None:
    def chatml(messages):
        return "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)

    def llama3(messages):
        return "".join(f"<|start_header_id|>{m['role']}<|end_header_id|>\n\n{m['content']}"
                       "<|eot_id|>" for m in messages)

    assert end_of_turn_text(chatml) == "<|im_end|>"
    assert end_of_turn_text(llama3) == "<|eot_id|>"


@pytest.mark.slow
def test_loading_and_merging_an_adapter_print_no_library_deprecation(
        base_dir: Path, adapter_dir: Path, tmp_path: Path) -> None:
    """peft reads a property transformers 5.24 renamed; whoever loads or exports the student
    sees no FutureWarning about it (cbt_schema.quiet)."""
    import warnings

    from cbt_infer.loading import load_transformers
    from cbt_schema.quiet import RENAMED_CHECKPOINTING
    from cbt_train.merge import merge_adapter

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        load_transformers(resolve(base_dir, adapter_dir), device="cpu")
        merge_adapter(adapter_dir, tmp_path / "merged", base=str(base_dir), tokenizer=base_dir)
    assert not [w for w in seen if RENAMED_CHECKPOINTING in str(w.message)]
