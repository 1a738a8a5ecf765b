"""The events task: a seed -> a first-person triggering event (cbt_schema.Event).

The teacher is asked with `events.prompt` (prompts/event.j2): the long system prompt, and the
seed's profile and emotion as the user message. It replies with an EventDraft (situation,
reaction). A stable share of seeds (`events.balanced_fraction`) is asked for an account told in
a balanced way; their events say so (`balanced`), and the assessments task lets them have no
findings. The quality check counts loops and events that open like another one.

    seeds = read_inputs(args.seeds)
    task, items = make(params, seeds)
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Collection, Sequence
from typing import Any

from cbt_datagen.prompts import Prompt, load_prompt
from cbt_datagen.quality import loops, share, words
from cbt_datagen.tasks.base import BuildRecord, Task
from cbt_schema import Event, EventDraft, Provenance, Seed, UserError
from cbt_schema.params import PipelineParams

NAME = "events"


def read_inputs(path: str) -> list[Seed]:
    """The seeds file (cbt-seeds); an empty one is a UserError."""
    from cbt_schema.jsonl import read_jsonl

    seeds = read_jsonl(path, Seed)
    if not seeds:
        raise UserError(f"{path}: no seeds in the file")
    return seeds


def is_balanced(seed_id: str, fraction: float) -> bool:
    """Whether this seed is asked for a balanced account: a stable `fraction` of seed ids."""
    unit = int(hashlib.sha256(f"balanced:{seed_id}".encode()).hexdigest()[:12], 16) / 16**12
    return unit < fraction


def builder(balanced: Collection[str] = ()) -> BuildRecord:
    """(key, seed id, draft, provenance) -> Event; `balanced`: the seeds asked for balanced
    thinking."""

    def build(key: str, seed_id: str, draft: EventDraft, prov: Provenance) -> Event:
        return Event(id=f"event-{key[:16]}", seed_id=seed_id, situation=draft.situation,
                     reaction=draft.reaction, balanced=seed_id in balanced, provenance=prov)

    return build


def quality(events: Sequence[Event], schema: dict[str, Any] | None = None) -> dict[str, float]:
    """Loop rate (`schema`: what the teacher decoded against, for the cap) and the share of
    events whose first four words open another event too."""
    openings = Counter(" ".join(words(e.situation)[:4]) for e in events)
    flags = [loops(e.text, {"situation": e.situation, "reaction": e.reaction}, schema)
             for e in events]
    return {"loop_rate": share(r or c for r, c in flags),
            "repeated_opening_rate": share(openings[" ".join(words(e.situation)[:4])] > 1
                                           for e in events)}


def task(prompt: Prompt, max_tokens: int, balanced: Collection[str] = (),
         **options: Any) -> Task:
    """The events task with this prompt; options: Task's key_params and schema_of."""
    return Task(name=NAME, reply_model=EventDraft, prompt=prompt, max_tokens=max_tokens,
                build=builder(balanced), quality=quality, **options)


def make(params: PipelineParams, seeds: Sequence[Seed]) -> tuple[Task, list[tuple[str, str]]]:
    """The stage's task and its requests, one (seed id, user message) per seed in order."""
    section = params.events
    prompt = load_prompt(section.prompt, section.few_shot)
    balanced = {s.id for s in seeds if is_balanced(s.id, section.balanced_fraction)}
    return (task(prompt, section.max_tokens, balanced),
            [(s.id, prompt.user(s, s.id in balanced)) for s in seeds])
