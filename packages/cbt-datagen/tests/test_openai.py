"""The openai-compatible provider against a loopback chat-completions server."""

import json
from pathlib import Path

import pytest

from cbt_datagen.engine import run_stage
from cbt_datagen.prompts import load_prompt
from cbt_datagen.providers.openai_compat import OpenAICompatibleProvider, parse_completion
from cbt_datagen.tasks import assessments
from cbt_schema import AssessmentRecord, QuarantinedReply, UserError
from cbt_schema.jsonl import read_jsonl
from cbt_schema.params import Price, TeacherParams
from cbt_schema.timings import read_timings
from cbt_testing.teacher_servers.helpers import PRICES, cli, write_params
from cbt_testing.teacher_servers.replies import Fault, always, rate_faults

ROOT = Path(__file__).resolve().parents[3]


def test_events_and_assessments_through_the_cli(openai_server, project, prompts,
                                                monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-open-123")
    server = openai_server(faults=rate_faults(0.25, list(Fault)), slow_s=0.6)
    write_params(project / "params.yaml", prompts, server.url + "/v1",
                 provider="openai-compatible", model="local-model", timeout_s=0.3,
                 repetition_penalty=1.1)
    assert cli("events") == 0
    assert cli("assessments", "--earlier-metrics", "metrics/datagen_events.json") == 0
    records = read_jsonl(project / "data/generated/assessments.jsonl", AssessmentRecord)
    quarantined = read_jsonl(project / "data/generated/assessments.quarantine.jsonl",
                             QuarantinedReply)
    events = (project / "data/generated/events.jsonl").read_text().count("\n")
    assert len(records) + len(quarantined) == events >= 10
    assert [r.event_id for r in records] == [
        e for e in (json.loads(line)["id"] for line in
                    (project / "data/generated/events.jsonl").read_text().splitlines())
        if e in {r.event_id for r in records}]
    body = server.bodies[0]
    # the seed is per request (base.seed and the request id): a retry repeats it, another
    # request (a repair, another sample) draws anew
    from cbt_datagen.providers._common import request_seed

    rids = [s.request_id for s in server.seen]
    assert sorted(b["seed"] for b in server.bodies) == sorted(request_seed(7, r) for r in rids)
    assert len({b["seed"] for b in server.bodies}) == len(set(rids))
    assert body["repetition_penalty"] == 1.1
    assert body["messages"][0]["role"] == "system"
    assert body["response_format"]["json_schema"]["name"] in ("EventDraft", "Assessment")
    assert {s.authorization for s in server.seen} == {"Bearer sk-open-123"}
    metrics = json.loads((project / "metrics/datagen.json").read_text())
    assert metrics["assessments"]["cost_usd"] == 0.0
    events_alone = json.loads((project / "metrics/datagen_events.json").read_text())["events"]
    assert metrics["events"] == events_alone
    for key in ("requested", "succeeded", "quarantined"):
        assert metrics["total"][key] == events_alone[key] + metrics["assessments"][key]
    assert metrics["total"]["tokens"]["output"] == (
        events_alone["tokens"]["output"] + metrics["assessments"]["tokens"]["output"]) > 0
    # the run's wall time, rate and what it resumed or paid are timings (timings/<stage>.json):
    # they depend on the resume log's history, not on the records
    for stage in ("events", "assessments"):
        assert "this_run" not in metrics[stage] and "resumed" not in metrics[stage]
        timings = read_timings(stage)
        assert timings["wall_s"] > 0 and timings["requests_per_second"] > 0
        assert set(timings["this_run"]) == {"replies", "cost_usd"}
    assert "wall" not in json.dumps(metrics) and "per_second" not in json.dumps(metrics)


def test_unreadable_earlier_metrics_is_one_clear_error(tmp_path) -> None:
    from cbt_datagen.outputs import with_earlier_stages

    bad = tmp_path / "datagen_events.json"
    bad.write_text("{not json")
    with pytest.raises(UserError, match=r"datagen_events\.json: cannot read"):
        with_earlier_stages({"assessments": {}}, str(bad))


def test_garbage_is_quarantined(openai_server, tmp_path) -> None:
    server = openai_server(faults=always(Fault.INVALID_JSON))
    teacher = TeacherParams(provider="openai-compatible", model="local-model",
                            base_url=server.url + "/v1")
    spec = assessments.task(load_prompt(ROOT / "prompts/assessment.j2"), 600)
    result = run_stage(OpenAICompatibleProvider(teacher), spec, [("e1", "x"), ("e2", "y")],
                       work_path=tmp_path / "w.jsonl", max_attempts=2,
                       price=Price(**PRICES["local-model"]), progress=False)
    assert result.metrics["quarantined"] == 2
    assert all(q.raw.startswith("Sure! Here is") for q in result.quarantined)
    assert all("not valid JSON" in q.errors[0] for q in result.quarantined)


def test_missing_base_url_and_usage_parsing() -> None:
    with pytest.raises(UserError, match=r"teacher\.base_url: required"):
        OpenAICompatibleProvider(TeacherParams(provider="openai-compatible", model="m"))
    reply = parse_completion("r", {"choices": [{"finish_reason": "length", "message": {
        "content": "{"}}], "usage": {"prompt_tokens": 100, "completion_tokens": 7,
                                     "prompt_tokens_details": {"cached_tokens": 60}}})
    assert reply.stop_reason == "max_tokens"
    assert (reply.usage.input_tokens, reply.usage.cache_read_input_tokens) == (40, 60)
