"""The anthropic provider and the engine against the loopback Messages server, fault by fault."""

import json
from pathlib import Path

import pytest

from cbt_datagen.engine import StageResult, run_stage
from cbt_datagen.model_table import price_for
from cbt_datagen.prompts import load_prompt
from cbt_datagen.providers.anthropic import AnthropicProvider
from cbt_datagen.tasks import events
from cbt_schema import Event, EventDraft, QuarantinedReply
from cbt_schema.jsonl import read_jsonl
from cbt_schema.params import TeacherParams
from cbt_testing.teacher_servers.helpers import HAIKU, cli, make_seeds, write_params
from cbt_testing.teacher_servers.replies import (
    CONTENT_FAULTS,
    HTTP_FAULTS,
    Fault,
    always,
    rate_faults,
)

ROOT = Path(__file__).resolve().parents[3]
KEY = "test-key-not-a-secret-0123456789"
N = 16


def _run(server, tmp_path: Path, n: int = N, **teacher) -> StageResult:
    params = {"provider": "anthropic", "model": HAIKU, "base_url": server.url,
              "max_concurrency": 8, "timeout_s": 5, **teacher}
    provider = AnthropicProvider(TeacherParams(**params))
    spec = events.task(load_prompt(ROOT / "prompts/event.j2"), 400)
    prompt = spec.prompt
    items = [(s.id, prompt.user(s)) for s in make_seeds(n)]
    return run_stage(provider, spec, items, work_path=tmp_path / "work.jsonl", max_attempts=3,
                     price=price_for(HAIKU), progress=False)


def _assert_complete(result: StageResult, n: int = N) -> None:
    """Nothing lost, nothing twice, every record valid or quarantined, in seed order."""
    seeds = [s.id for s in make_seeds(n)]
    got = [r.seed_id for r in result.records] + [q.item_id for q in result.quarantined]
    assert sorted(got) == sorted(seeds)
    assert [r.seed_id for r in result.records] == [s for s in seeds
                                                   if s in {r.seed_id for r in result.records}]
    for record in result.records:
        Event.model_validate_json(record.model_dump_json())
        EventDraft(situation=record.situation, reaction=record.reaction)
    assert result.metrics["succeeded"] + result.metrics["quarantined"] == n


@pytest.mark.parametrize("fault", HTTP_FAULTS)
def test_http_faults_are_retried_by_the_sdk(anthropic_server, api_key, tmp_path, fault) -> None:
    server = anthropic_server(faults=rate_faults(1.0, [fault]), slow_s=0.5)
    result = _run(server, tmp_path, timeout_s=0.25 if fault == Fault.SLOW else 5)
    _assert_complete(result)
    assert result.metrics["succeeded"] == N and result.metrics["repaired"] == 0
    statuses = [s.status for s in server.seen]
    if fault != Fault.SLOW:  # every request failed once with the fault's status, then passed
        assert statuses.count(int(fault.value)) == N and statuses.count(200) == N


@pytest.mark.parametrize("fault", CONTENT_FAULTS)
def test_bad_replies_are_repaired_with_the_error_fed_back(anthropic_server, api_key, tmp_path,
                                                          fault) -> None:
    server = anthropic_server(faults=rate_faults(0.5, [fault], salt=fault.value))
    result = _run(server, tmp_path)
    _assert_complete(result)
    assert result.metrics["repaired"] >= 1
    repaired = [r for r in result.records if r.provenance.attempts > 1]
    assert len(repaired) == result.metrics["repaired"]
    # the repair turn carried the validation error back to the teacher
    log = [json.loads(line) for line in (tmp_path / "work.jsonl").read_text().splitlines()]
    assert any(entry["errors"] for entry in log)
    assert all(r.provenance.usage.output_tokens > 0 for r in repaired)


@pytest.mark.parametrize(("fault", "message"), [
    (Fault.TRUNCATED, "cut off at the 400-token limit"), (Fault.INVALID_JSON, "not valid JSON"),
    (Fault.SCHEMA, "situation: String should have at least 20"), (Fault.REFUSAL, "refusal")])
def test_garbage_forever_is_quarantined_with_raw_text(anthropic_server, api_key, tmp_path,
                                                      fault, message) -> None:
    server = anthropic_server(faults=always(fault))
    result = _run(server, tmp_path, n=4)
    _assert_complete(result, 4)
    assert result.metrics["quarantined"] == 4 and not result.records
    for q in result.quarantined:
        assert q.attempts == 3 and q.stage == "events" and q.raw
        assert any(message in e for e in q.errors), q.errors
    assert server.served_ok().total() == 12  # 4 items x max_attempts, never more


def test_twenty_percent_mixed_faults_lose_nothing(anthropic_server, api_key, tmp_path) -> None:
    server = anthropic_server(faults=rate_faults(0.2), slow_s=0.5)
    result = _run(server, tmp_path, n=40, timeout_s=0.3)
    _assert_complete(result, 40)
    assert len({r.id for r in result.records}) == len(result.records)
    assert result.metrics["succeeded"] >= 36


def test_key_is_sent_as_bearer_and_never_written(anthropic_server, api_key, project,
                                                 prompts, capsys) -> None:
    server = anthropic_server()
    write_params(project / "params.yaml", prompts, server.url)
    assert cli("events", "--work-dir", "work") == 0
    assert cli("assessments", "--work-dir", "work") == 0
    assert {s.authorization for s in server.seen} == {f"Bearer {KEY}"}
    body = server.last_body  # what the SDK sent for the last assessment
    assert not {"temperature", "top_p", "top_k"} & body.keys()  # refused by 2026-10-21
    assert body["model"] == "claude-haiku-5-5" and body["thinking"] == {"type": "disabled"}
    assert body["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert body["tool_choice"] == {"type": "tool", "name": "Assessment"}
    assert body["tools"][0]["input_schema"]["properties"]["findings"]["maxItems"] == 10
    assert body["system"][0]["text"].count("<example>") == 5
    out = capsys.readouterr()
    assert KEY not in out.out + out.err
    for path in project.rglob("*"):
        if path.is_file():
            assert KEY not in path.read_text(errors="ignore"), path


def test_missing_key_is_one_line_before_any_request(anthropic_server, project, prompts, monkeypatch,
                                                    capsys) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    server = anthropic_server()
    write_params(project / "params.yaml", prompts, server.url)
    assert cli("events") == 2
    err = capsys.readouterr().err
    assert err.startswith("cbt-datagen: error: teacher.provider is anthropic but "
                          "ANTHROPIC_API_KEY is not set") and err.count("\n") == 1
    assert server.seen == [] and not (project / "data/generated/events.jsonl").exists()


def test_unknown_model_fails_before_any_request(anthropic_server, project, prompts, api_key,
                                                capsys) -> None:
    server = anthropic_server()
    write_params(project / "params.yaml", prompts, server.url, model="claude-unknown-9")
    assert cli("events") == 2
    err = capsys.readouterr().err
    assert err.startswith("cbt-datagen: error: params.yaml: teacher.model: 'claude-unknown-9' "
                          "is not a Claude model this project knows (active: claude-haiku-5-5")
    assert err.count("\n") == 1 and server.seen == []


@pytest.mark.parametrize(("model", "expected"), [
    ("claude-3-haiku-20240307", "claude-3-haiku-20240307 was retired on 2026-04-20 and "
                                "requests to it fail; use claude-haiku-5-5"),
    ("claude-3-opus-20240229", "claude-3-opus-20240229 was retired on 2026-01-05"),
])
def test_retired_model_is_one_line_before_any_request(anthropic_server, project, prompts,
                                                       api_key, capsys, model, expected) -> None:
    server = anthropic_server()
    write_params(project / "params.yaml", prompts, server.url, model=model)
    assert cli("events") == 2
    err = capsys.readouterr().err
    assert f"params.yaml: teacher.model: {expected}" in err and err.count("\n") == 1
    assert server.seen == [] and not (project / "data/generated/events.jsonl").exists()


@pytest.mark.parametrize(("content", "expected"), [
    (None, "data/seeds.jsonl: file not found"),
    ('{"id": "a", "sex": "m", "age": 30, "occupation": "x", "relationship_status": "y", '
     '"emotion": "z"}\n{broken\n', "data/seeds.jsonl:2: not valid JSON"),
    ('{"id": "a", "sex": "m", "age": 3, "occupation": "x", "relationship_status": "y", '
     '"emotion": "z"}\n', "data/seeds.jsonl:1: age: Input should be greater than or equal"),
])
def test_bad_seeds_file_names_the_line(anthropic_server, project, prompts, api_key, capsys, content,
                                       expected) -> None:
    server = anthropic_server()
    write_params(project / "params.yaml", prompts, server.url)
    seeds = project / "data/seeds.jsonl"
    if content is None:
        seeds.unlink()
    else:
        seeds.write_text(content)
    assert cli("events") == 2
    assert capsys.readouterr().err.startswith(f"cbt-datagen: error: {expected}")
    assert server.seen == []


def test_threshold_sets_the_exit_status_and_files_are_kept(anthropic_server, project, prompts,
                                                           api_key, capsys) -> None:
    server = anthropic_server(faults=always(Fault.SCHEMA))
    write_params(project / "params.yaml", prompts, server.url, max_attempts=2)
    assert cli("events") == 1
    assert "12 of 12 events quarantined (100% > teacher.max_quarantined_fraction 50%)" in (
        capsys.readouterr().err)
    quarantined = read_jsonl(project / "data/generated/events.quarantine.jsonl", QuarantinedReply)
    assert len(quarantined) == 12
    metrics = json.loads((project / "metrics/datagen_events.json").read_text())["events"]
    assert metrics["quarantined"] == 12 and metrics["succeeded"] == 0


def test_fatal_api_error_stops_the_run(anthropic_server, project, prompts, monkeypatch,
                                       capsys) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-wrong")
    server = anthropic_server()
    write_params(project / "params.yaml", prompts, server.url)
    assert cli("events") == 2
    assert "401 authentication_error: invalid x-api-key" in capsys.readouterr().err
    assert not (project / "data/generated/events.quarantine.jsonl").exists()
