"""`cbt-infer serve` before any model answers: honest start-up, the token beyond loopback, the
Host check, and every bad input told apart in one line (a real server, a real HTTP client)."""

from __future__ import annotations

import threading

import pytest

from cbt_infer.serve.cli import main
from cbt_schema.errors import UserError

httpx = pytest.importorskip("httpx")
pytest.importorskip("starlette", reason="extra cbt-infer[serve] not installed")

CRISIS = "I am going to kill myself tonight."


def held_loader(release: threading.Event, error: str = "no GGUF student here (a test)"):
    """A loader that holds the server in "loading" until released, then fails as a missing
    model does (no model is needed to test what comes before one)."""

    def load():
        release.wait(30)
        raise UserError(error)

    return load


def test_healthz_says_loading_then_the_error_and_likely_risk_is_answered_meanwhile(
        serve_on, caplog: pytest.LogCaptureFixture) -> None:
    release = threading.Event()
    server = serve_on(held_loader(release))
    health = httpx.get(f"{server.url}/healthz")
    assert health.status_code == 503 and health.json()["status"] == "loading"
    assert "not a substitute for a therapist" in health.json()["notice"]
    # keyword-likely risk needs no model: the resources come at once
    crisis = httpx.post(f"{server.url}/v1/assess", json={"situation": CRISIS})
    assert crisis.status_code == 200
    data = crisis.json()
    assert data["tier"] == "likely" and data["crisis"] and data["tokens"] == 0
    assert "988" in data["message"] and data["backend"] == ""
    waiting = httpx.post(f"{server.url}/v1/assess", json={"situation": "My boss frowned."})
    assert waiting.status_code == 503 and waiting.headers["retry-after"]
    assert "still loading" in waiting.json()["error"]["message"]
    page = httpx.get(f"{server.url}/")  # the page is there while the models load
    assert page.status_code == 200 and "Thought record" in page.text
    release.set()
    for _ in range(100):
        if (health := httpx.get(f"{server.url}/healthz").json())["status"] != "loading":
            break
        threading.Event().wait(0.05)
    assert health["status"] == "error" and "no GGUF student here" in health["error"]
    # and the terminal says so too, not only /healthz
    assert "the models failed to load: no GGUF student here" in caplog.text


@pytest.mark.parametrize(("send", "status", "reason"), [
    ({"content": b"", "headers": {"content-type": "application/json"}}, 400, "body is empty"),
    ({"content": b'{"situation": "x"}', "headers": {"content-type": "text/plain"}}, 415,
     "Content-Type: application/json"),
    ({"content": b'{"situation": ', "headers": {"content-type": "application/json"}}, 400,
     "not valid JSON"),
    ({"content": b'{"situation": "\xff\xfe"}', "headers": {"content-type": "application/json"}},
     400, "not UTF-8"),
    ({"content": b'{"situation": "x"}',
      "headers": {"content-type": "application/json; charset=latin-1"}}, 415, "must be UTF-8"),
    ({"json": {"situation": "a" * 70_000}}, 413, "limit is 65536"),
    ({"json": {"situation": "a" * 5000}}, 413, "the limit is 4000"),
    ({"json": {"situation": "   "}}, 422, "the situation is empty"),
    ({"json": {"situaton": "typo"}}, 422, "situation: Field required"),
    ({"json": ["a list"]}, 422, "must be a JSON object"),
    ({"json": {"situation": "x", "feelings": [{"name": "sad", "intensity": 400}]}}, 422,
     "feelings.0.intensity"),
])
def test_bad_input_is_a_4xx_with_one_line(serve_on, send: dict, status: int,
                                          reason: str) -> None:
    server = serve_on(held_loader(threading.Event()))
    response = httpx.post(f"{server.url}/v1/assess", **send)
    assert response.status_code == status
    message = response.json()["error"]["message"]
    assert reason in message and "\n" not in message and "Traceback" not in response.text


def test_openai_route_checks_its_input_too(serve_on) -> None:
    server = serve_on(held_loader(threading.Event()))
    no_user = httpx.post(f"{server.url}/v1/chat/completions",
                         json={"model": "x", "messages": [{"role": "system", "content": "hi"}]})
    assert no_user.status_code == 422 and "no user message" in no_user.text
    assert httpx.get(f"{server.url}/v1/chat/completions").status_code == 405
    assert httpx.get(f"{server.url}/nowhere").status_code == 404


def test_bound_to_loopback_it_answers_only_for_localhost(serve_on) -> None:
    server = serve_on(held_loader(threading.Event()))
    assert httpx.get(f"{server.url}/healthz").status_code == 503  # loading, and answered
    rebound = httpx.get(f"{server.url}/healthz", headers={"Host": "attacker.example"})
    assert rebound.status_code == 403 and "only on localhost" in rebound.text


def test_beyond_loopback_every_request_needs_the_token(serve_on) -> None:
    server = serve_on(held_loader(threading.Event()), host="0.0.0.0", token="s3cret")
    url = server.url
    for path in ("/", "/healthz", "/static/app.js", "/v1/models"):
        response = httpx.get(f"{url}{path}")
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"] == "Bearer"
    wrong = httpx.post(f"{url}/v1/assess", json={"situation": CRISIS},
                       headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "needs its token" in wrong.json()["error"]["message"]
    right = httpx.post(f"{url}/v1/assess", json={"situation": CRISIS},
                       headers={"Authorization": "Bearer s3cret"})
    assert right.status_code == 200 and right.json()["tier"] == "likely"
    # the page: open /?token= once; the cookie carries it to the page's own requests
    with httpx.Client(base_url=url) as browser:
        assert browser.get("/?token=s3cret").status_code == 200
        assert browser.get("/healthz").status_code == 503  # let in: the models are loading
    assert httpx.get(f"{url}/healthz?token=s3cret").status_code == 401  # only the page's URL


@pytest.mark.parametrize(("argv", "message"), [
    (["--host", "0.0.0.0"], "add --allow-remote"),
    (["--host", "0.0.0.0", "--allow-remote"], "a token is required"),
    (["--crisis-probe", "p.json", "--no-crisis-probe"], "do not mix"),
    (["--queue", "-1"], "--queue"),
    (["--port", "99999"], "a port is 0 to 65535"),
    (["--gguf", "missing.gguf", "--no-crisis-probe", "--port", "1"], "missing.gguf"),
])
def test_the_command_refuses_unsafe_or_wrong_options_before_it_listens(
        argv: list[str], message: str, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.delenv("CBT_SERVE_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    if "missing.gguf" in argv:  # the path is checked when the first answer loads it
        pytest.importorskip("llama_cpp")
        from cbt_infer.serve.cli import loader, parser

        load, describe = loader(parser().parse_args(argv))
        assert describe["student"] == "missing.gguf"
        with pytest.raises(UserError, match=message):
            load()
        return
    with pytest.raises(UserError, match=message):
        main(argv)
