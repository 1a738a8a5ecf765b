"""The student's task: how the student is asked, and how its answer is read.

The one owner of that contract. The dataset stage builds its chat examples with `messages`;
cbt-train writes the task it trained on into the adapter (`student_task.json`); the export
writes it into every GGUF's metadata (`cbt.system_prompt`, `cbt.answer_format`, and a chat
template that falls back to the trained system prompt, as llama.cpp and Ollama expect);
inference and evaluation read it back from the model with `StudentTask.from_folder` or
`from_metadata`, and read answers with `parse`.

    task = StudentTask.from_folder("models/adapter") or StudentTask.builtin()
    task.messages("I failed my driving test again")   # system + user turns
    task.parse(answer_text)                           # cbt_schema.render.ParseResult
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from cbt_schema.errors import UserError
from cbt_schema.records import Assessment
from cbt_schema.render import ParseResult, parse_assessment, render_assessment

ANSWER_FORMAT = "cbt-assessment/1"  # render_assessment's layout; bump when it changes
TASK_FILE = "student_task.json"
GGUF_SYSTEM_PROMPT = "cbt.system_prompt"
GGUF_ANSWER_FORMAT = "cbt.answer_format"
# The built-in prompt: the same text as prompts/system.txt (tests/test_defaults.py checks it).
DEFAULT_SYSTEM_PROMPT = (
    "You help people notice unhelpful thinking patterns, using the thought-distortion worksheet "
    "of cognitive behavioural therapy. The person describes something that happened, how they "
    "feel and what they think about it.\n\n"
    "Answer in three parts. First, acknowledge their feelings in a sentence or two. Then write "
    '"Possible thought distortions:" and list each distortion you see, quoting the thought that '
    "shows it and offering one concrete, kind challenge to it; if none stand out, say so. "
    "Finish with a short, encouraging note.\n\n"
    "Do not diagnose, and do not claim to be a therapist."
)


@dataclass(frozen=True)
class StudentTask:
    """The system prompt, the answer format's version and (when known) the chat template a
    student was trained with; `source` says where they were read from."""

    system_prompt: str
    answer_format: str = ANSWER_FORMAT
    chat_template: str | None = None
    source: str = "built-in"

    @classmethod
    def builtin(cls) -> StudentTask:
        return cls(DEFAULT_SYSTEM_PROMPT, source="built-in (the model carries no task)")

    def messages(self, situation: str) -> list[dict[str, str]]:
        return [{"role": "system", "content": self.system_prompt},
                {"role": "user", "content": situation}]

    @staticmethod
    def render(assessment: Assessment) -> str:
        return render_assessment(assessment)

    @staticmethod
    def parse(text: str) -> ParseResult:
        return parse_assessment(text)

    # -- carried by a model folder ------------------------------------------------------
    def write(self, folder: str | Path) -> Path:
        path = Path(folder) / TASK_FILE
        data = {k: v for k, v in asdict(self).items() if k != "source"}
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return path

    @classmethod
    def from_folder(cls, folder: str | Path | None) -> StudentTask | None:
        """The task in `folder`/student_task.json, or None when the folder carries none."""
        if folder is None or not (path := Path(folder) / TASK_FILE).is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(str(data["system_prompt"]), str(data["answer_format"]),
                       data.get("chat_template"), source=str(path))
        except (ValueError, KeyError, TypeError) as exc:
            raise UserError(f"{path}: not a readable student task ({exc}); re-run the train "
                            "stage: dvc repro train") from None

    # -- carried by a GGUF ----------------------------------------------------------------
    def metadata(self) -> dict[str, str]:
        """The GGUF keys of this task (the chat template goes in tokenizer.chat_template)."""
        return {GGUF_SYSTEM_PROMPT: self.system_prompt, GGUF_ANSWER_FORMAT: self.answer_format}

    @classmethod
    def from_metadata(cls, meta: dict[str, str], where: str) -> StudentTask | None:
        if GGUF_SYSTEM_PROMPT not in meta:
            return None
        return cls(meta[GGUF_SYSTEM_PROMPT], meta.get(GGUF_ANSWER_FORMAT, ANSWER_FORMAT),
                   meta.get("tokenizer.chat_template"), source=f"{where} (GGUF metadata)")

    def template_with_default_system(self, template: str) -> str:
        """`template` that inserts this system prompt when a chat has no system message, so
        llama.cpp's and Ollama's chat handlers ask the way the student was trained."""
        literal = (self.system_prompt.replace("\\", "\\\\").replace('"', '\\"')
                   .replace("\n", "\\n"))
        return ("{%- if not messages or messages[0]['role'] != 'system' -%}"
                "{%- set messages = [{'role': 'system', 'content': \"" + literal + "\"}]"
                " + messages -%}{%- endif -%}\n" + template)


def choose_task(explicit: str | None, carried: StudentTask | None) -> tuple[StudentTask, str]:
    """The task to ask with, and a note for stderr and the result ('' when all is as
    trained): an explicit prompt wins but is said when it differs from the trained one; a
    model that carries no task gets the built-in prompt, said too."""
    if explicit is not None and explicit.strip():
        base = carried or StudentTask.builtin()
        task = replace(base, system_prompt=explicit.strip())
        if carried is None:
            return (replace(task, source="explicit (the model carries no trained prompt)"),
                    "the model carries no trained prompt; using the explicit one")
        if task.system_prompt != carried.system_prompt:
            return (replace(task, source=f"explicit (differs from the trained prompt in "
                                         f"{carried.source})"),
                    "the explicit system prompt differs from the one the model was trained "
                    f"with ({carried.source})")
        return carried, ""
    if carried is not None:
        return carried, ""
    return StudentTask.builtin(), ("the model carries no trained prompt (no student_task.json "
                                   "or GGUF metadata); using the built-in one")
