"""Prompt templates: render the long, stable system prompt and the short per-item user message.

A template file (`prompts/*.j2`) defines two Jinja macros, `system(...)` and `user(item)`. The
assessment prompt also takes the worksheet (from cbt_schema.DISTORTIONS, never duplicated here)
and the first `few_shot` examples from `<template stem>_examples.jsonl` beside it.
The prompt's sha256 covers the template source and the rendered system prompt, so editing the
template, the worksheet text or the examples, or changing `few_shot`, gives new request ids.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from cbt_schema import DISTORTIONS, Assessment, EventDraft, UserError
from cbt_schema.jsonl import read_jsonl


class FewShotExample(BaseModel):
    """One worked example for the assessment prompt (prompts/assessment_examples.jsonl)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    event: EventDraft
    assessment: Assessment


@dataclass(frozen=True)
class Prompt:
    """A rendered system prompt plus the user-message macro, with its identity."""

    prompt_id: str
    sha256: str
    system: str
    _user: Any

    def user(self, item: Any, *args: Any) -> str:
        return str(self._user(item, *args)).strip()


def examples_path(template: Path) -> Path:
    return template.with_name(f"{template.stem}_examples.jsonl")


def load_examples(path: Path, n: int) -> list[FewShotExample]:
    """The first n examples; asking for more than the file holds is a UserError."""
    if n == 0:
        return []
    examples = read_jsonl(path, FewShotExample)
    if n > len(examples):
        raise UserError(f"params.yaml: assessments.few_shot: {n} examples asked for, but "
                        f"{path} holds {len(examples)}")
    return examples[:n]


def _worksheet() -> list[dict[str, str]]:
    return [{"label": d.value, "title": info.title, "description": info.description,
             "challenge": info.challenge} for d, info in DISTORTIONS.items()]


def _template(path: Path) -> Any:
    import jinja2

    if not path.is_file():
        raise UserError(f"{path}: prompt template not found")
    source = path.read_text(encoding="utf-8")
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False,
                             autoescape=False)
    try:
        module = env.from_string(source).module
    except jinja2.TemplateError as exc:
        line = getattr(exc, "lineno", None)
        raise UserError(f"{path}{f':{line}' if line else ''}: bad template: {exc}") from None
    for name in ("system", "user"):
        if not callable(getattr(module, name, None)):
            raise UserError(f"{path}: the template must define a `{name}` macro")
    return source, module


def load_prompt(path: str | Path, few_shot: int = 0) -> Prompt:
    """Render a template's system prompt once; user(item) renders the per-item message."""
    path = Path(path)
    source, module = _template(path)
    if module.system.arguments:  # system(distortions, examples): the worksheet prompt
        examples = [{"event": f"{ex.event.situation} {ex.event.reaction}",
                     "answer": ex.assessment.model_dump_json()}
                    for ex in load_examples(examples_path(path), few_shot)]
        system = str(module.system(_worksheet(), examples))
    else:
        system = str(module.system())
    system = system.strip()
    digest = hashlib.sha256()
    digest.update(source.encode())
    digest.update(b"\0")
    digest.update(system.encode())
    return Prompt(prompt_id=path.stem, sha256=digest.hexdigest(), system=system,
                  _user=module.user)


def schema_for(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema sent to the teacher (pydantic's, refs inlined for picky servers)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if ref and ref.startswith("#/$defs/"):
                return inline(defs[ref.split("/")[-1]])
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    return json.loads(json.dumps(inline(schema)))
