"""The local teacher with the real SmolLM2-135M-Instruct: valid JSON, seeded, batched."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cbt_datagen.prompts import schema_for
from cbt_datagen.providers.base import GenReply, GenRequest
from cbt_datagen.providers.local import LocalProvider, make_provider
from cbt_schema import Assessment, EventDraft
from cbt_schema.params import TeacherParams, load_params

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow

SYSTEM = ("You help with a CBT exercise. Reply in JSON. Write in the first person about an "
          "ordinary upsetting moment, then the thoughts it brings.")


@pytest.fixture(scope="module")
def model_dir() -> Path:
    """models/base as the base_model stage builds it (cached once per machine by cbt-train);
    $CBT_LOCAL_MODEL_DIR overrides."""
    if os.environ.get("CBT_LOCAL_MODEL_DIR"):
        return Path(os.environ["CBT_LOCAL_MODEL_DIR"])
    base_model = pytest.importorskip("cbt_train.base_model")
    return base_model.cached_base_model(load_params(ROOT / "params.yaml").base_model)


@pytest.fixture(scope="module")
def provider(model_dir: Path) -> Iterator[LocalProvider]:
    import torch

    threads = torch.get_num_threads()  # one thread: far faster on a CPU shared with other jobs
    yield LocalProvider(model_dir, TeacherParams(), seed=42, batch_size=2, threads=1)
    torch.set_num_threads(threads)


TINY = {"type": "object", "properties": {"feeling": {"type": "string", "minLength": 5,
                                                     "maxLength": 50}},
        "required": ["feeling"], "additionalProperties": False}


def event_request(rid: str, who: str = "a 34-year-old nurse", max_tokens: int = 48,
                  schema: dict | None = None) -> GenRequest:
    return GenRequest(id=rid, item_id=rid, system=SYSTEM,
                      messages=({"role": "user", "content": f"Profile: {who}. Emotion: shame."},),
                      schema=schema or schema_for(EventDraft), schema_name="EventDraft",
                      max_tokens=max_tokens)


def run(p: LocalProvider, requests: list[GenRequest]) -> dict[str, GenReply]:
    got: list[GenReply] = []
    asyncio.run(p.generate(requests, got.append))
    assert sorted(r.request_id for r in got) == sorted(r.id for r in requests)
    return {r.request_id: r for r in got}


def test_event_and_assessment_replies_are_schema_valid(provider: LocalProvider) -> None:
    assess = GenRequest(id="a1", item_id="e1", system=SYSTEM + " Name the distortions.",
                        messages=({"role": "user", "content": "I missed the bus, so I am "
                                   "useless and everyone will laugh at me."},),
                        schema=schema_for(Assessment), schema_name="Assessment", max_tokens=160)
    replies = run(provider, [event_request("e1"), assess])
    event = EventDraft.model_validate_json(replies["e1"].text)
    assert len(event.situation) >= 20 and len(event.reaction) >= 20
    assessment = Assessment.model_validate_json(replies["a1"].text)
    assert 1 <= len(assessment.findings) <= 3
    for r in replies.values():
        assert r.stop_reason == "end_turn" and r.error is None
        assert r.usage.output_tokens > 0
    assert replies["e1"].usage.input_tokens == len(provider.prompt_ids(event_request("e1")))


def test_same_seed_same_reply_and_attempts_differ(provider: LocalProvider) -> None:
    tiny = [event_request(f"s-{i}", max_tokens=24, schema=TINY) for i in (1, 2)]
    first = run(provider, tiny)
    again = run(provider, tiny)
    assert {k: v.text for k, v in first.items()} == {k: v.text for k, v in again.items()}
    assert first["s-1"].text != first["s-2"].text  # a new request id is a new sample
    other = run(LocalProvider(provider.model_dir, TeacherParams(), seed=7, batch_size=2),
                tiny[:1])
    assert other["s-1"].text != first["s-1"].text


def test_batched_equals_one_at_a_time(provider: LocalProvider, model_dir: Path) -> None:
    requests = [event_request("b-1", "a 61-year-old farmer", 24, TINY),
                event_request("b-2", "a 25-year-old student who just moved to a new city", 24,
                              TINY)]
    batched = run(provider, requests)
    single = LocalProvider(model_dir, TeacherParams(), seed=42, batch_size=1)
    alone = {r.id: run(single, [r])[r.id] for r in requests}
    for rid in batched:
        assert json.loads(batched[rid].text)["feeling"]
        assert batched[rid].text == alone[rid].text


def test_length_cap_reports_max_tokens(provider: LocalProvider) -> None:
    long_only = {"type": "object", "properties": {"story": {"type": "string", "minLength": 400,
                                                            "maxLength": 500}},
                 "required": ["story"], "additionalProperties": False}
    reply = run(provider, [event_request("cap", max_tokens=12, schema=long_only)])["cap"]
    assert reply.stop_reason == "max_tokens" and reply.usage.output_tokens == 12
    assert reply.text.startswith('{"story": "')


def test_factory_entry_point_uses_teacher_params(model_dir: Path) -> None:
    teacher = TeacherParams(temperature=0.0, max_concurrency=3)
    p = make_provider(teacher, seed=5, model_dir=model_dir)
    assert (p.name, p.model, p.batch_size, p.sampling.temperature) == (
        "local", "SmolLM2-135M-Instruct", 3, 0.0)
    greedy = run(p, [event_request(f"g-{i}", max_tokens=24, schema=TINY) for i in (1, 2)])
    assert greedy["g-1"].text == greedy["g-2"].text  # temperature 0: the seed plays no part
