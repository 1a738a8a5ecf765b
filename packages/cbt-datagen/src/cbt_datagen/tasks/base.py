"""What a teacher task is, as the engine runs it (cbt_datagen.engine); each module of this
package builds one (events, assessments)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from cbt_datagen.prompts import Prompt
from cbt_schema import Provenance

# (key, item_id, validated reply, provenance) -> the output record (Event, AssessmentRecord)
BuildRecord = Callable[[str, str, Any, Provenance], BaseModel]


@dataclass(frozen=True)
class Task:
    """A teacher task: what it asks, what a reply must be, what a valid reply becomes.

    name: the stage it writes for (events, assessments, teacher-audit).
    reply_model: what a reply must validate as; prompt and max_tokens: how it is asked.
    build: a valid reply -> the output record. key_params: what else shapes a reply (the
    source adds the teacher's settings), so it goes into every request id. schema_of: an item's
    own reply schema, else reply_model's. quality: (records, the schema the teacher decoded
    against) -> the stage's quality rates. finish: the records -> (the records to write, a
    consensus report), for `samples` requests per input item.
    """

    name: str
    reply_model: type[BaseModel]
    prompt: Prompt
    max_tokens: int
    build: BuildRecord
    key_params: dict[str, Any] = field(default_factory=dict)
    schema_of: Callable[[str], dict[str, Any] | None] | None = None
    quality: Callable[[list[Any], dict[str, Any]], dict[str, float]] | None = None
    finish: Callable[[list[Any]], tuple[list[Any], dict[str, Any]]] | None = None
    samples: int = 1
