"""teacher.samples end to end through the events and assessments commands (loopback Claude)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import yaml

from cbt_datagen.consensus import agreement
from cbt_datagen.tasks.assessments import split_item_id
from cbt_datagen.validate import extract_json
from cbt_datagen.worklog import LoggedReply
from cbt_schema import AssessmentRecord, Distortion
from cbt_schema.jsonl import read_jsonl
from cbt_testing.teacher_servers.helpers import cli, write_params
from cbt_testing.teacher_servers.replies import LabelOracle

K = 3


def _set_samples(params: Path, k: int) -> None:
    data = yaml.safe_load(params.read_text())
    data["teacher"]["samples"] = k
    params.write_text(yaml.safe_dump(data))


def _logged_labels(project: Path) -> dict[str, dict[int, frozenset[str]]]:
    """event id -> sample number -> labels, from the paid replies in the resume log."""
    out: dict[str, dict[int, frozenset[str]]] = {}
    for line in (project / ".cache/datagen/assessments.jsonl").read_text().splitlines():
        entry = LoggedReply.model_validate_json(line)
        if entry.valid:
            event, sample = split_item_id(entry.item_id)
            findings = json.loads(extract_json(entry.raw))["findings"]
            out.setdefault(event, {})[sample] = frozenset(f["distortion"] for f in findings)
    return out


def test_samples_are_merged_by_majority_with_kappa_and_never_paid_twice(
        anthropic_server, api_key, project, prompts) -> None:
    server = anthropic_server(responder=LabelOracle({}, flip=0.15))
    params = write_params(project / "params.yaml", prompts, server.url, samples=K)
    assert cli("events") == 0
    assert cli("assessments", "--earlier-metrics", "metrics/datagen_events.json") == 0
    events = [json.loads(x)["id"] for x in
              (project / "data/generated/events.jsonl").read_text().splitlines()]
    records = read_jsonl(project / "data/generated/assessments.jsonl", AssessmentRecord)
    assert [r.event_id for r in records] == events  # one record per event, in event order
    asked = [s.request_id for s in server.seen if s.path == "/v1/messages" and s.status == 200]
    assert len(set(asked)) == len(events) * (1 + K)  # one event request + k assessments each

    logged = _logged_labels(project)
    differing = 0
    for record in records:
        samples = logged[record.event_id]
        assert len(samples) == K
        votes = Counter(lb for labels in samples.values() for lb in labels)
        merged = {lb for lb, n in votes.items() if n / K > 0.5}  # by hand: 2 of 3
        c = record.consensus
        assert c is not None and (c.asked, c.valid) == (K, K)
        assert {d.value for d in c.merged} == merged
        assert {d.value: n for d, n in c.votes.items()} == dict(votes)
        target = {d.value for d in record.assessment.distortions}
        assert target == samples[c.chosen]  # the written text is the chosen sample's
        best = min(len(s ^ merged) for s in samples.values())
        assert len(target ^ merged) == best  # and no sample is closer to the merged labels
        differing += len(set(map(frozenset, samples.values()))) > 1
    assert differing  # the noisy stand-in's samples do disagree, so the merge is exercised

    metrics = json.loads((project / "metrics/datagen.json").read_text())["assessments"]
    consensus = metrics["consensus"]
    assert consensus["samples"] == K and consensus["events"] == len(events)
    assert consensus["events_with_all_samples"] == len(events)
    # the kappa of exactly the logged samples (fleiss_kappa itself is checked by hand in
    # test_consensus), short of perfect agreement since the samples disagree
    expected = agreement([list(logged[e].values()) for e in events],
                         [d.value for d in Distortion], K)["fleiss_kappa"]
    assert consensus["fleiss_kappa"] == expected < 1
    assert set(consensus["fleiss_kappa_per_distortion"]) == {d.value for d in Distortion}
    assert metrics["requested"] == len(events) * K

    # a rerun pays nothing; k = 1 reuses sample 1 of every event (the same request ids)
    seen = len(server.seen)
    assert cli("assessments", "--earlier-metrics", "metrics/datagen_events.json") == 0
    _set_samples(params, 1)
    assert cli("assessments", "--earlier-metrics", "metrics/datagen_events.json") == 0
    assert len(server.seen) == seen
    single = read_jsonl(project / "data/generated/assessments.jsonl", AssessmentRecord)
    assert all(r.consensus is None for r in single)
    assert [{d.value for d in r.assessment.distortions} for r in single] == [
        logged[e][1] for e in events]
    assert "consensus" not in json.loads((project / "metrics/datagen.json").read_text())[
        "assessments"]


def test_limit_counts_events_not_samples(anthropic_server, api_key, project, prompts) -> None:
    server = anthropic_server()
    write_params(project / "params.yaml", prompts, server.url, samples=2)
    assert cli("events", "-n", "3") == 0
    assert cli("assessments", "-n", "2") == 0
    records = read_jsonl(project / "data/generated/assessments.jsonl", AssessmentRecord)
    assert len(records) == 2 and all(r.consensus.valid == 2 for r in records)
