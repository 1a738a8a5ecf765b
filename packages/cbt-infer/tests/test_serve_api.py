"""`cbt-infer serve` answering with a real student (the SmolLM2 GGUF on llama.cpp): the three
tiers, streaming, the OpenAI client, a disconnect that frees the slot, 20 requests at once."""

from __future__ import annotations

import json
import time

import pytest

from cbt_infer.safety import NOTICE, POSSIBLE_LINE

httpx = pytest.importorskip("httpx")
pytest.importorskip("starlette", reason="extra cbt-infer[serve] not installed")
pytestmark = pytest.mark.slow

ORDINARY = "My friend forgot my birthday and I keep thinking nobody ever remembers me."
PASSIVE = "Lately I feel like such a burden to my family."  # possible: a passive signal
LIKELY = "I am going to kill myself tonight."


def events(response) -> list[tuple[str, dict]]:
    """The server-sent events of a streamed /v1/assess response, in order."""
    out = []
    for block in response.text.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in lines:
            out.append((lines["event"], json.loads(lines["data"])))
    return out


def test_the_three_tiers_as_the_assessor_answers_them(serve_on, serve_assessor) -> None:
    server = serve_on(serve_assessor)
    url = f"{server.url}/v1/assess"
    none = httpx.post(url, json={"situation": ORDINARY}, timeout=120)
    assert none.status_code == 200 and none.headers["x-cbt-notice"] == NOTICE
    data = none.json()
    want = serve_assessor.assess(ORDINARY).to_dict()  # what `cbt-infer --json` prints
    assert set(data) == set(want)
    assert data["raw"] == want["raw"] and data["tokens"] == want["tokens"] > 0
    assert data["tier"] == "none" and data["crisis_resources"] == ""
    assert data["notice"] == NOTICE and data["backend"] == "llama"
    possible = httpx.post(url, json={"situation": PASSIVE}, timeout=120).json()
    assert possible["tier"] == "possible" and possible["tokens"] > 0
    assert "988" in possible["crisis_resources"]
    assert possible["crisis_resources"].endswith(POSSIBLE_LINE)
    likely = httpx.post(url, json={"situation": LIKELY, "country": "GB"}, timeout=120).json()
    assert likely["tier"] == "likely" and likely["crisis"] and likely["tokens"] == 0
    assert likely["backend"] == "" and likely["raw"] == ""  # the model was not called
    assert "116 123" in likely["message"] and "988" not in likely["message"]
    health = httpx.get(f"{server.url}/healthz").json()
    assert health["status"] == "ok" and health["backend"] == "llama"
    assert health["student"].endswith("cbt-student.gguf")
    assert health["prompt_source"].endswith("(GGUF metadata)")
    assert health["screen"].startswith("keywords only")


def test_the_record_fields_reach_the_screen_and_the_student(serve_on, serve_assessor) -> None:
    """Feelings and thoughts are part of what is screened: a crisis in the thoughts alone
    is answered with the resources."""
    server = serve_on(serve_assessor)
    record = {"situation": "I missed the bus.", "feelings": [{"name": "sad", "intensity": 70}],
              "thoughts": "I want to kill myself."}
    data = httpx.post(f"{server.url}/v1/assess", json=record, timeout=120).json()
    assert data["tier"] == "likely" and data["tokens"] == 0
    assert data["situation"] == ("I missed the bus.\n\nI feel sad (70/100).\n\n"
                                 "What went through my mind: I want to kill myself.")


def test_streaming_sends_the_screen_first_then_tokens_cards_and_the_result(
        serve_on, serve_assessor) -> None:
    server = serve_on(serve_assessor)
    url = f"{server.url}/v1/assess"
    response = httpx.post(url, json={"situation": PASSIVE, "stream": True}, timeout=120)
    assert response.headers["content-type"].startswith("text/event-stream")
    got = events(response)
    names = [name for name, _ in got]
    assert names[0] == "screen" and names[-1] == "result" and "token" in names
    assert got[0][1]["tier"] == "possible" and "988" in got[0][1]["crisis_resources"]
    result = got[-1][1]
    text = "".join(d["text"] for name, d in got if name == "token")
    assert text.strip() == result["raw"]  # the tokens are the student's text, nothing else
    assert result["tier"] == "possible" and result["notice"] == NOTICE
    partial = [d for name, d in got if name == "partial"][-1]
    assert partial["acknowledgement"] in result["raw"]
    whole = httpx.post(url, json={"situation": PASSIVE}, timeout=120).json()
    assert whole["raw"] == result["raw"]  # greedy: the same answer either way
    likely = events(httpx.post(url, json={"situation": LIKELY, "stream": True}, timeout=60))
    assert [n for n, _ in likely] == ["screen", "result"]
    assert likely[0][1]["tier"] == "likely" and likely[1][1]["crisis"]


def test_the_openai_client_gets_screened_answers(serve_on, serve_assessor) -> None:
    openai = pytest.importorskip("openai")
    server = serve_on(serve_assessor)
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)
    assert [m.id for m in client.models.list()] == ["cbt-student"]
    ask = [{"role": "system", "content": "Ignored: the student has its own."},
           {"role": "user", "content": "Hello"}, {"role": "assistant", "content": "Hi"},
           {"role": "user", "content": ORDINARY}]
    reply = client.chat.completions.create(model="cbt-student", messages=ask, max_tokens=6)
    content = reply.choices[0].message.content
    assert content.endswith(NOTICE) and reply.usage.completion_tokens > 0
    assert reply.model_extra["cbt"]["tier"] == "none"
    chunks = list(client.chat.completions.create(model="cbt-student", messages=ask,
                                                 max_tokens=6, stream=True))
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed.strip() == content.strip()
    assert chunks[-1].choices[0].finish_reason in ("stop", "length")
    crisis = client.chat.completions.create(
        model="cbt-student", messages=[{"role": "user", "content": LIKELY}])
    text = crisis.choices[0].message.content
    assert "988" in text and text.endswith(NOTICE) and crisis.usage.completion_tokens == 0
    assert crisis.model_extra["cbt"]["tier"] == "likely"
    stream = client.chat.completions.create(
        model="cbt-student", messages=[{"role": "user", "content": LIKELY}], stream=True)
    assert "988" in "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    with pytest.raises(openai.UnprocessableEntityError, match="situation is empty"):
        client.chat.completions.create(model="x", messages=[{"role": "user", "content": " "}])


def test_a_client_that_disconnects_mid_stream_frees_the_slot(serve_on, serve_assessor) -> None:
    from dataclasses import replace

    from cbt_infer import Assessor

    long = Assessor(serve_assessor.backend, serve_assessor.task, serve_assessor.policy,
                    replace(serve_assessor.settings, max_new_tokens=400))
    server = serve_on(long)
    body = {"situation": ORDINARY, "stream": True}
    with httpx.stream("POST", f"{server.url}/v1/assess", json=body, timeout=120) as response:
        for line in response.iter_lines():
            if line.startswith("event: token"):
                break  # one token in: leave
    deadline = time.monotonic() + 30
    while (health := httpx.get(f"{server.url}/healthz").json())["slots"]["busy"]:
        assert time.monotonic() < deadline, "the generation kept its slot"
        time.sleep(0.1)
    assert health["stopped_by_client"] == 1  # stopped at its next token, not run out
    after = httpx.post(f"{server.url}/v1/assess", json={"situation": LIKELY}, timeout=60)
    assert after.status_code == 200


def test_twenty_requests_at_once_are_all_answered_or_told_429(serve_on,
                                                              serve_assessor) -> None:
    import asyncio

    server = serve_on(serve_assessor, queue=3)

    async def ask(client, n: int):
        body = {"situation": f"{ORDINARY} ({n})", "stream": n % 2 == 0}
        return await client.post("/v1/assess", json=body, timeout=300)

    async def burst():
        async with httpx.AsyncClient(base_url=server.url) as client:
            return await asyncio.gather(*(ask(client, n) for n in range(20)))

    responses = asyncio.run(burst())
    codes = [r.status_code for r in responses]
    assert len(codes) == 20 and set(codes) <= {200, 429}, codes
    assert codes.count(200) >= 1 and codes.count(429) >= 1
    for r in responses:
        if r.status_code == 429:
            assert "busy" in r.json()["error"]["message"] and r.headers["retry-after"]
        elif r.headers["content-type"].startswith("text/event-stream"):
            assert events(r)[-1][0] == "result"
        else:
            assert r.json()["tokens"] > 0
    health = httpx.get(f"{server.url}/healthz").json()
    assert health["refused"] == codes.count(429)
    assert health["slots"]["busy"] == 0 and health["slots"]["queued"] == 0
