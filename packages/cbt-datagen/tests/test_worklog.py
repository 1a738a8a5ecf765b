import asyncio
import json
from pathlib import Path

from cbt_datagen.quality import repeated_ngram_share
from cbt_datagen.tasks.assessments import quality as assessment_quality
from cbt_datagen.tasks.events import quality as event_quality
from cbt_datagen.worklog import LoggedReply, WorkLog, attempt_id, load_log, request_key
from cbt_schema import Assessment, AssessmentRecord, Event, Finding


def _reply(i: int, attempt: int = 1) -> LoggedReply:
    return LoggedReply(key=f"k{i}", item_id=str(i), attempt=attempt, request_id=f"r{i}",
                       raw="{}", errors=["bad"] if attempt == 1 and i % 2 else [])


def test_concurrent_appends_are_all_durable_and_share_fsyncs(tmp_path: Path,
                                                             monkeypatch) -> None:
    import os

    calls = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real(fd)))

    async def go() -> None:
        log = WorkLog(tmp_path / "log.jsonl")
        await asyncio.gather(*(log.append(_reply(i)) for i in range(200)))
        await log.aclose()

    asyncio.run(go())
    lines = (tmp_path / "log.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["key"] for line in lines) == sorted(f"k{i}" for i in
                                                                       range(200))
    assert 1 <= len(calls) < 200  # group commit


def test_load_log_keeps_wanted_keys_in_attempt_order_and_skips_torn_lines(tmp_path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text(_reply(1, 2).model_dump_json() + "\n" + _reply(1, 1).model_dump_json()
                    + "\n" + _reply(2).model_dump_json() + "\n" + '{"key": "k3", "ite')

    async def append_after_torn() -> None:
        log = WorkLog(path)
        await log.append(_reply(4))
        await log.aclose()

    asyncio.run(append_after_torn())
    replies = load_log(path, {"k1", "k4"})
    assert [r.attempt for r in replies["k1"]] == [1, 2] and "k2" not in replies
    assert replies["k4"][0].valid


def test_ids_are_stable_and_distinct() -> None:
    a = request_key(provider="anthropic", model="m", item_id="s1", params={"t": 1.0})
    assert a == request_key(params={"t": 1.0}, item_id="s1", model="m", provider="anthropic")
    assert a != request_key(provider="anthropic", model="m", item_id="s1", params={"t": 0.9})
    assert attempt_id(a, 1) == a and len({attempt_id(a, n) for n in (1, 2, 3)}) == 3


def test_quality_rates_catch_loops_copies_and_repeated_openings() -> None:
    loop = "I feel bad and I feel bad and I feel bad and I feel bad and I feel bad."
    assert repeated_ngram_share(loop) > 0.5 > repeated_ngram_share("A plain varied sentence.")
    events = [Event(id=str(i), seed_id=str(i), situation=f"I was walking home on day {i}.",
                    reaction=loop if i == 0 else "I feel uneasy about it.") for i in range(4)]
    assert event_quality(events) == {"loop_rate": 0.25, "repeated_opening_rate": 1.0}
    copied = "Look again at the facts."
    record = AssessmentRecord(id="a", event_id="e", assessment=Assessment(
        validation="That is hard.", closing="Take care.",
        findings=[Finding(distortion="labeling", thought="I am a failure", challenge=copied),
                  Finding(distortion="mental_filter", thought="x", challenge="Own words.")]))
    quality = assessment_quality([record], [copied])
    assert quality["copied_finding_rate"] == 0.5 and quality["findings_per_assessment"] == 2
