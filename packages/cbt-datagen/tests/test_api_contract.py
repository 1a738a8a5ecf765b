"""Requests the Claude API (version 2026-10-21) accepts, and a stand-in that refuses the rest.

The contract: every body a provider builds fits the locked SDK's own request types with extra
fields forbidden. The stand-in: what the real API refuses (api_rules.py, with the pages each
rule comes from), it refuses with the real error shape, and the providers stop on it with the
API's own message, never retried and never quarantined as bad content.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import anthropic
import pytest
from typing_extensions import TypedDict, get_type_hints

from cbt_datagen.engine import run_stage
from cbt_datagen.model_table import price_for
from cbt_datagen.prompts import load_prompt, schema_for
from cbt_datagen.providers import anthropic as anthropic_provider
from cbt_datagen.providers import anthropic_batch
from cbt_datagen.providers.anthropic import AnthropicProvider, message_params
from cbt_datagen.providers.anthropic_batch import AnthropicBatchProvider
from cbt_datagen.providers.base import GenRequest
from cbt_datagen.tasks import events
from cbt_schema import Assessment, EventDraft, UserError
from cbt_schema.params import TeacherParams
from cbt_testing.teacher_servers.contract import check, request_errors
from cbt_testing.teacher_servers.helpers import HAIKU, make_seeds
from cbt_testing.teacher_servers.replies import Fault, always

ROOT = Path(__file__).resolve().parents[3]
KEY = "test-key-not-a-secret-0123456789"


def _requests(few_shot: int = 5) -> list[GenRequest]:
    """A first attempt and a repair turn of each stage, as the engine builds them."""
    event = load_prompt(ROOT / "prompts/event.j2")
    assess = load_prompt(ROOT / "prompts/assessment.j2", few_shot)
    repair = ({"role": "user", "content": "x"}, {"role": "assistant", "content": "{bad"},
              {"role": "user", "content": "Your previous reply could not be used"})
    return [GenRequest(id=f"r{i}", item_id="i", system=p.system, messages=m,
                       schema=schema_for(model), schema_name=model.__name__, max_tokens=400)
            for i, (p, model, m) in enumerate([
                (event, EventDraft, ({"role": "user", "content": "Profile: ..."},)),
                (assess, Assessment, ({"role": "user", "content": "Something happened"},)),
                (assess, Assessment, repair)])]


SETTINGS = [{}, {"prompt_caching": False}, {"effort": "low"},
            {"thinking": "adaptive"}, {"thinking": "adaptive", "effort": "max"}]


@pytest.mark.parametrize("settings", SETTINGS, ids=lambda s: ",".join(map(str, s.values()))
                         or "default")
def test_every_body_fits_the_locked_sdk_types(settings) -> None:
    teacher = TeacherParams(provider="anthropic", model=HAIKU, temperature=1.3, top_p=0.5,
                            **settings)
    for req in _requests():
        body = message_params(req, teacher, HAIKU)
        assert request_errors(body) == [], body.keys()
        assert request_errors({"custom_id": req.id, "params": body}, "batch_request") == []
        assert not {"temperature", "top_p", "top_k"} & body.keys()
        forced = body.get("tool_choice", {}).get("type") in ("any", "tool")
        assert not (forced and body["thinking"]["type"] != "disabled")
        if teacher.thinking == "adaptive":
            assert body["max_tokens"] == 400 + teacher.thinking_max_tokens


def test_the_contract_fails_when_the_sdk_drops_a_field() -> None:
    """An SDK upgrade that removes a field the provider sends fails here, not in a user's run:
    the same body against the same types without `thinking` names the key."""
    from anthropic.types.message_create_params import MessageCreateParamsNonStreaming as Params

    body = message_params(_requests()[0], TeacherParams(provider="anthropic", model=HAIKU), HAIKU)
    hints = {k: v for k, v in get_type_hints(Params).items() if k != "thinking"}
    older = TypedDict("Older", hints, total=False)
    assert check(body, older) == ["thinking: Extra inputs are not permitted"]
    assert request_errors({**body, "temperature": 1.0}) == [
        "temperature: Extra inputs are not permitted"]


def _client(server) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key=KEY, base_url=server.url, max_retries=0)


def _refusal(server, **body) -> tuple[int, dict]:
    base = {"model": HAIKU, "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]}
    with pytest.raises(anthropic.APIStatusError) as err:
        _client(server).messages.create(**{**base, **body})
    return err.value.status_code, err.value.body


@pytest.mark.parametrize(("body", "status", "kind", "message"), [
    ({"extra_body": {"temperature": 1.0}}, 400, "invalid_request_error",
     "temperature: Extra inputs are not permitted"),
    ({"extra_body": {"top_k": 5}}, 400, "invalid_request_error",
     "top_k: Extra inputs are not permitted"),
    ({"extra_body": {"stream_mode": "x"}}, 400, "invalid_request_error",
     "stream_mode: Extra inputs are not permitted"),
    ({"model": "claude-3-haiku-20240307"}, 404, "not_found_error",
     "model: claude-3-haiku-20240307"),
    ({"model": "claude-sonnet-4-5"}, 404, "not_found_error", "model: claude-sonnet-4-5"),
    # thinking is on by default on Haiku 5.5: a forced tool without disabling it is refused
    ({"tools": [{"name": "T", "input_schema": {"type": "object"}}],
      "tool_choice": {"type": "tool", "name": "T"}}, 400, "invalid_request_error",
     "tool_choice: forcing tool use is not supported while thinking is on"),
    ({"model": "claude-sonnet-5-5", "thinking": {"type": "disabled"}}, 400,
     "invalid_request_error", "thinking.type: 'disabled' is not supported for claude-sonnet-5-5"),
    ({"thinking": {"type": "disabled"}, "output_config": {"effort": "max"}}, 400,
     "invalid_request_error", "not supported at effort 'max'"),
    ({"output_config": {"format": {"type": "json_schema", "schema": schema_for(EventDraft)}}},
     400, "invalid_request_error", "Length' is not supported in structured outputs"),
])
def test_the_stand_in_refuses_what_the_api_refuses(anthropic_server, body, status, kind,
                                                   message) -> None:
    server = anthropic_server()
    got_status, got = _refusal(server, **body)
    assert got_status == status and got["type"] == "error" and got["request_id"]
    assert got["error"]["type"] == kind and message in got["error"]["message"]


def test_the_stand_in_answers_what_the_api_accepts(anthropic_server) -> None:
    server = anthropic_server()
    schema = anthropic.transform_schema(schema_for(EventDraft))
    reply = _client(server).messages.create(
        model=HAIKU, max_tokens=2000, messages=[{"role": "user", "content": "Emotion: shame."}],
        output_config={"format": {"type": "json_schema", "schema": schema}})
    assert [b.type for b in reply.content] == ["thinking", "text"]  # adaptive by default
    EventDraft.model_validate_json(reply.content[1].text)
    assert reply.usage.output_tokens_details.thinking_tokens == 120
    assert reply.usage.output_tokens > 120


def _stage_run(server, tmp_path: Path, n: int, **teacher):
    params = {"provider": "anthropic", "model": HAIKU, "base_url": server.url,
              "max_concurrency": 8, "timeout_s": 5, **teacher}
    spec = events.task(load_prompt(ROOT / "prompts/event.j2"), 400)
    items = [(s.id, spec.prompt.user(s)) for s in make_seeds(n)]
    return run_stage(AnthropicProvider(TeacherParams(**params)), spec, items,
                     work_path=tmp_path / "work.jsonl", max_attempts=3, price=price_for(HAIKU),
                     progress=False)


def test_concurrent_misses_each_pay_a_cache_write(anthropic_server, api_key, tmp_path) -> None:
    """A cache entry is readable only once the first response that writes it begins: the
    first 8 requests in flight together all write it; the next 8 read it."""
    server = anthropic_server(latency_s=0.3, min_cache_tokens=100)
    result = _stage_run(server, tmp_path, 16)
    usages = [r.provenance.usage for r in result.records]
    writes = sum(u.cache_creation_input_tokens > 0 for u in usages)
    reads = sum(u.cache_read_input_tokens > 0 for u in usages)
    assert (writes, reads) == (8, 8)


def test_adaptive_thinking_counts_thinking_tokens_in_the_cost(anthropic_server, api_key,
                                                              tmp_path) -> None:
    server = anthropic_server(thinking_tokens=300)
    result = _stage_run(server, tmp_path, 6, thinking="adaptive", effort="low")
    assert result.metrics["succeeded"] == 6 and server.rejected == []
    assert server.last_body["output_config"]["effort"] == "low"
    assert "tools" not in server.last_body and server.last_body["thinking"]["type"] == "adaptive"
    assert result.metrics["tokens"]["thinking"] == 6 * 300
    haiku = price_for(HAIKU)
    for record in result.records:
        usage = record.provenance.usage
        assert usage.thinking_tokens == 300 and usage.output_tokens > 300
        expected = (usage.input_tokens * haiku.input + usage.output_tokens * haiku.output
                    + usage.cache_creation_input_tokens * haiku.cache_write
                    + usage.cache_read_input_tokens * haiku.cache_read) / 1e6
        assert record.provenance.cost_usd == pytest.approx(expected, abs=1e-8)


def test_a_400_stops_the_stage_with_the_apis_message(anthropic_server, api_key, tmp_path,
                                                     monkeypatch) -> None:
    """A provider that sends temperature: the first reply ends the run, nothing retried,
    nothing quarantined as bad content."""
    original = message_params

    def old(req, teacher, model):  # temperature through extra_body, which the API refuses
        return {**original(req, teacher, model), "extra_body": {"temperature": 1.0}}

    monkeypatch.setattr(anthropic_provider, "message_params", old)
    server = anthropic_server()
    with pytest.raises(UserError, match=r"^teacher claude-haiku-5-5: 400 invalid_request_error: "
                                        r"temperature: Extra inputs are not permitted$"):
        _stage_run(server, tmp_path, 4, max_concurrency=1)
    assert len(server.seen) == 1 and server.seen[0].status == 400


def _batch_requests(n: int) -> list[GenRequest]:
    system = load_prompt(ROOT / "prompts/event.j2").system
    return [GenRequest(id=f"req{i}", item_id=str(i), system=system,
                       messages=({"role": "user", "content": f"Emotion: guilt {i}."},),
                       schema=schema_for(EventDraft), schema_name="EventDraft", max_tokens=400)
            for i in range(n)]


def _batch(server, tmp_path: Path, requests, monkeypatch=None, bad: str | None = None):
    if bad is not None:
        original = anthropic_batch.message_params

        def one_bad(req, teacher, model):
            body = original(req, teacher, model)
            return {**body, "top_p": 0.9} if req.id == bad else body

        monkeypatch.setattr(anthropic_batch, "message_params", one_bad)
    teacher = TeacherParams(provider="anthropic-batch", model=HAIKU, base_url=server.url,
                            timeout_s=5)
    replies = []

    async def go() -> None:
        provider = AnthropicBatchProvider(teacher, state_dir=tmp_path, poll_s=0.02)
        try:
            await provider.generate(requests, replies.append)
        finally:
            await provider.aclose()

    asyncio.run(go())
    return replies


def test_an_invalid_batch_request_stops_with_the_apis_message(anthropic_server, api_key,
                                                              tmp_path, monkeypatch) -> None:
    server = anthropic_server()
    requests = _batch_requests(5)
    with pytest.raises(UserError, match=r"batch msgbatch_000001: 1 request\(s\) refused, not "
                                        r"resubmitted; the API says: errored "
                                        r"invalid_request_error: top_p: Extra inputs are not "
                                        r"permitted \(request req3"):
        _batch(server, tmp_path, requests, monkeypatch, bad="req3")
    assert len(server.batch_requests) == 1  # validated asynchronously, never resubmitted
    log = [json.loads(x) for x in (tmp_path / "batches.jsonl").read_text().splitlines()]
    assert log[-1]["errored"] == {
        "req3": "errored invalid_request_error: top_p: Extra inputs are not permitted"}


def test_errored_results_keep_their_type_and_message(anthropic_server, api_key,
                                                     tmp_path) -> None:
    server = anthropic_server(faults=lambda rid, seen: Fault.OVERLOADED)
    replies = _batch(server, tmp_path, _batch_requests(3))
    assert len(server.batch_requests) == 1 + anthropic_batch.RESUBMITS  # passing: resubmitted
    assert {r.error for r in replies} == {
        "batch result errored overloaded_error: injected fault (after 4 submissions)"}


def test_quarantine_holds_the_batch_error(anthropic_server, api_key, project, prompts,
                                          monkeypatch, capsys) -> None:
    from cbt_schema import QuarantinedReply
    from cbt_schema.jsonl import read_jsonl
    from cbt_testing.teacher_servers.helpers import cli, write_params

    monkeypatch.setenv("CBT_BATCH_POLL_S", "0.02")
    server = anthropic_server(faults=always(Fault.SERVER_ERROR))
    write_params(project / "params.yaml", prompts, server.url, provider="anthropic-batch",
                 max_attempts=1)
    assert cli("events", "-n", "2") == 1
    quarantined = read_jsonl(project / "data/generated/events.quarantine.jsonl",
                             QuarantinedReply)
    assert [q.errors for q in quarantined] == [
        ["transport: batch result errored api_error: injected fault (after 4 submissions)"]] * 2


def test_the_stand_in_writes_events_that_survive_deduplication() -> None:
    """A full-size run (the paper's 621 seeds) keeps every event: no exact or near duplicate
    (Jaccard >= 0.8 of 3-word shingles), as a real teacher's varied replies would."""
    from cbt_dataset.dedup import find_duplicates
    from cbt_schema.params import SeedsParams
    from cbt_seeds.sampling import sample_seeds
    from cbt_testing.teacher_servers.replies import event_reply

    prompt = load_prompt(ROOT / "prompts/event.j2")
    texts = [" ".join(event_reply(prompt.user(s)).values())
             for s in sample_seeds(SeedsParams(n=621), 42)]
    found = find_duplicates(texts, threshold=0.8, shingle_size=3, num_perm=128)
    assert (len(found.exact), len(found.pairs)) == (0, 0)
    assert len({t.split(",")[0] for t in texts}) > 5  # not one opening for all
