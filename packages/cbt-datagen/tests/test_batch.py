"""The anthropic-batch provider against the loopback Message Batches server."""

import asyncio
from pathlib import Path

from cbt_datagen.engine import run_stage
from cbt_datagen.model_table import price_for
from cbt_datagen.prompts import load_prompt, schema_for
from cbt_datagen.providers.anthropic_batch import AnthropicBatchProvider
from cbt_datagen.providers.base import GenReply, GenRequest
from cbt_datagen.tasks import events
from cbt_datagen.tasks.base import Task
from cbt_schema import EventDraft
from cbt_schema.params import TeacherParams
from cbt_testing.teacher_servers.helpers import HAIKU, make_seeds
from cbt_testing.teacher_servers.replies import Fault, rate_faults

ROOT = Path(__file__).resolve().parents[3]


def _teacher(url: str) -> TeacherParams:
    return TeacherParams(provider="anthropic-batch", model=HAIKU, base_url=url,
                         timeout_s=5)


def _spec() -> Task:
    return events.task(load_prompt(ROOT / "prompts/event.j2"), 400)


def test_batch_resubmits_only_failed_and_halves_the_cost(anthropic_server, api_key,
                                                         tmp_path) -> None:
    kinds = [Fault.OVERLOADED, Fault.SERVER_ERROR, Fault.SLOW, Fault.SCHEMA]
    server = anthropic_server(faults=rate_faults(0.3, kinds), batch_delay_s=0.05)
    provider = AnthropicBatchProvider(_teacher(server.url), state_dir=tmp_path, poll_s=0.02)
    spec = _spec()
    items = [(s.id, spec.prompt.user(s)) for s in make_seeds(30)]
    result = run_stage(provider, spec, items, work_path=tmp_path / "work.jsonl", max_attempts=3,
                       price=price_for(HAIKU), batch=True, progress=False)
    assert result.metrics["succeeded"] == 30 and result.metrics["quarantined"] == 0
    assert [r.seed_id for r in result.records] == [i for i, _ in items]
    first, *rest = server.batch_requests
    assert len(first) == 30 and rest, "faults should have forced a resubmission"
    # a resubmitted batch holds only requests whose result errored/expired, or repair attempts
    assert all(len(batch) < 30 for batch in rest)
    full = price_for(HAIKU).model_copy(update={"batch_discount": 0.0})
    from cbt_datagen.money import cost_usd

    for record in result.records:
        assert record.provenance.cost_usd == round(
            cost_usd(record.provenance.usage, full) / 2, 8)


def test_a_killed_run_collects_its_submitted_batch(anthropic_server, api_key, tmp_path) -> None:
    server = anthropic_server(batch_delay_s=0.1)
    spec = _spec()
    requests = [GenRequest(id=f"req{i}", item_id=str(i), system=spec.prompt.system,
                           messages=({"role": "user", "content": f"item {i}"},),
                           schema=schema_for(EventDraft), schema_name="EventDraft",
                           max_tokens=400) for i in range(5)]

    async def go() -> list[GenReply]:
        killed = AnthropicBatchProvider(_teacher(server.url), state_dir=tmp_path, poll_s=0.02)
        await killed._submit(requests)  # submitted and recorded, then the process "dies"
        await killed.aclose()
        again = AnthropicBatchProvider(_teacher(server.url), state_dir=tmp_path, poll_s=0.02)
        replies: list[GenReply] = []
        await again.generate(requests, replies.append)
        await again.aclose()
        return replies

    replies = asyncio.run(go())
    assert sorted(r.request_id for r in replies) == [f"req{i}" for i in range(5)]
    assert all(r.text and r.error is None for r in replies)
    assert len(server.batch_requests) == 1, "the batch already paid for was submitted again"
