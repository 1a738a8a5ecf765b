"""A loopback server speaking the OpenAI chat completions wire format (as vLLM, the llama.cpp
server and Ollama do), with the same scripted replies and faults as the Anthropic one.

    with OpenAIServer(faults=rate_faults(0.2)) as server:
        ...  # TeacherParams(provider="openai-compatible", base_url=server.url + "/v1", ...)
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from cbt_testing.teacher_servers._http import LoopbackServer, json_reply
from cbt_testing.teacher_servers.replies import (
    Fault,
    FaultPlan,
    bad_reply,
    default_reply,
    estimate_tokens,
    truncated_text,
)

_STATUS = {Fault.RATE_LIMIT: 429, Fault.OVERLOADED: 503, Fault.SERVER_ERROR: 500}


class OpenAIServer(LoopbackServer):
    def __init__(self, latency_s: float = 0.0, faults: FaultPlan | None = None,
                 slow_s: float = 1.0, retry_after_ms: int = 5,
                 responder: Callable[[str, str, str], dict[str, Any]] = default_reply) -> None:
        super().__init__()
        self.responder = responder  # as AnthropicServer's; the draw is the request's seed
        self.latency_s, self.faults, self.slow_s = latency_s, faults, slow_s
        self.retry_after_ms = retry_after_ms
        self.bodies: list[dict[str, Any]] = []

    def handle(self, method: str, path: str, headers: Any, body: Any
               ) -> tuple[int, dict[str, str], bytes]:
        if (method, path) != ("POST", "/v1/chat/completions"):
            return _error(404, f"{method} {path} not found")
        if not isinstance(body, dict) or not body.get("messages") or "model" not in body:
            return _error(400, "model and messages are required")
        fmt = body.get("response_format") or {}
        if fmt.get("type") != "json_schema" or "schema" not in fmt.get("json_schema", {}):
            return _error(400, "response_format json_schema expected")
        with self.lock:
            self.bodies.append(body)
        rid = headers.get("X-Request-Id") or ""
        fault = self.faults(rid, self.count_seen(rid)) if self.faults else None
        if fault in _STATUS:
            return _error(_STATUS[fault], "injected fault",
                          {"retry-after-ms": str(self.retry_after_ms)})
        time.sleep(self.slow_s if fault == Fault.SLOW else self.latency_s)
        name = fmt["json_schema"].get("name", "")
        user = next(m["content"] for m in body["messages"] if m["role"] == "user")
        draw = str(body.get("seed", ""))  # per request (providers' request_seed)
        finish, content, refusal = "stop", json.dumps(self.responder(name, user, draw)), None
        if fault == Fault.TRUNCATED:
            finish, content = "length", truncated_text(name, user)
        elif fault == Fault.INVALID_JSON:
            content = "Sure! Here is the answer: " + truncated_text(name, user)
        elif fault == Fault.SCHEMA:
            content = json.dumps(bad_reply(name))
        elif fault == Fault.REFUSAL:
            content, refusal = None, "I can't help with that."
        prompt = estimate_tokens(json.dumps(body["messages"]))
        completion = estimate_tokens(content or refusal or "")
        return json_reply(200, {
            "id": f"chatcmpl-{rid[:12]}", "object": "chat.completion", "created": int(time.time()),
            "model": body["model"],
            "choices": [{"index": 0, "finish_reason": finish, "message": {
                "role": "assistant", "content": content, "refusal": refusal}}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                      "total_tokens": prompt + completion}})


def _error(status: int, message: str, headers: dict[str, str] | None = None
           ) -> tuple[int, dict[str, str], bytes]:
    return json_reply(status, {"error": {"message": message, "type": "server_error"}}, headers)
