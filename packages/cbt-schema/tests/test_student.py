"""The student's task: one owner of the prompt and the answer format, carried by the model."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2.sandbox import ImmutableSandboxedEnvironment

from cbt_schema.errors import UserError
from cbt_schema.student import (
    ANSWER_FORMAT,
    DEFAULT_SYSTEM_PROMPT,
    TASK_FILE,
    StudentTask,
    choose_task,
)

CHATML = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
          "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
TRAINED = StudentTask('Spot "distortions".\nBe kind \\ brief.', chat_template=CHATML,
                      source="training examples")


def render(template: str, messages: list[dict[str, str]]) -> str:
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    return env.from_string(template).render(messages=messages, add_generation_prompt=True)


def test_the_task_travels_in_a_model_folder(tmp_path: Path) -> None:
    assert StudentTask.from_folder(tmp_path) is None  # a foreign model carries none
    TRAINED.write(tmp_path)
    read = StudentTask.from_folder(tmp_path)
    assert read is not None and read.source == str(tmp_path / TASK_FILE)
    assert (read.system_prompt, read.answer_format, read.chat_template) == (
        TRAINED.system_prompt, ANSWER_FORMAT, CHATML)
    assert read.messages("x") == [{"role": "system", "content": TRAINED.system_prompt},
                                  {"role": "user", "content": "x"}]


def test_a_damaged_task_file_names_the_fix(tmp_path: Path) -> None:
    (tmp_path / TASK_FILE).write_text("{not json")
    with pytest.raises(UserError, match="dvc repro train"):
        StudentTask.from_folder(tmp_path)


def test_gguf_metadata_round_trip() -> None:
    meta = {**TRAINED.metadata(), "tokenizer.chat_template": CHATML}
    read = StudentTask.from_metadata(meta, "m.gguf")
    assert read is not None and read.system_prompt == TRAINED.system_prompt
    assert read.source == "m.gguf (GGUF metadata)"
    assert StudentTask.from_metadata({"tokenizer.chat_template": CHATML}, "m.gguf") is None


def test_the_template_falls_back_to_the_trained_prompt() -> None:
    template = TRAINED.template_with_default_system(CHATML)
    user_only = render(template, [{"role": "user", "content": "hi"}])
    assert user_only == render(CHATML, TRAINED.messages("hi"))  # quotes, newline, backslash
    own = [{"role": "system", "content": "Other."}, {"role": "user", "content": "hi"}]
    assert render(template, own) == render(CHATML, own)  # a chat's own system prompt stays


def test_an_explicit_prompt_is_said_when_it_differs() -> None:
    task, note = choose_task(None, TRAINED)
    assert task == TRAINED and note == ""
    task, note = choose_task(TRAINED.system_prompt, TRAINED)
    assert task == TRAINED and note == ""
    task, note = choose_task("Be brief.", TRAINED)
    assert task.system_prompt == "Be brief." and task.chat_template == CHATML
    assert "differs" in note and task.source.startswith("explicit (differs")
    task, note = choose_task(None, None)
    assert task.system_prompt == DEFAULT_SYSTEM_PROMPT and "built-in" in note
    assert task.source.startswith("built-in")
    task, note = choose_task("Be brief.", None)
    assert task.system_prompt == "Be brief." and "carries no trained prompt" in note
