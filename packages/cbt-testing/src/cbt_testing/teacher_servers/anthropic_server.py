"""A loopback server speaking the Anthropic Messages and Message Batches wire formats, faithful
to API version 2026-10-21 (the rules, with their sources, are in api_rules.py).

Point the real `anthropic` SDK at it with base_url=server.url. It refuses what the real API
refuses, with the real error shape: removed or unknown body fields (400 invalid_request_error,
"temperature: Extra inputs are not permitted"), retired or unknown models (404
not_found_error, "model: <id>"), forced tool use while thinking is on, structured-output
schemas the API cannot compile. Batch params are validated asynchronously, as the real API
does: an invalid request comes back as an `errored` result, not a 400.

Replies are scripted (a valid, varied object for the schema, derived from the user message:
see replies.default_reply) with injectable faults (replies.Fault), per-reply latency, thinking
blocks and thinking tokens when thinking is on, and simulated prompt caching in `usage`: a
cache entry becomes available only when the first response that wrote it begins, so requests
in flight together each pay a cache write, as they do on the real API.

    with AnthropicServer(latency_s=0.2, faults=rate_faults(0.2)) as server:
        ...  # TeacherParams(provider="anthropic", base_url=server.url, ...)
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from cbt_testing.teacher_servers import api_rules
from cbt_testing.teacher_servers._http import LoopbackServer, json_reply
from cbt_testing.teacher_servers.replies import (
    Fault,
    FaultPlan,
    bad_reply,
    default_reply,
    estimate_tokens,
    truncated_text,
)

# (schema name, first user message, draw) -> reply; the draw (the request id) stands for the
# sampling a real model does: the same request again gives the same reply, another request a
# new draw (replies.LabelOracle uses it; default_reply ignores it)
Responder = Callable[[str, str, str], dict[str, Any]]
_ERRORS = {Fault.RATE_LIMIT: (429, "rate_limit_error"), Fault.OVERLOADED: (529, "overloaded_error"),
           Fault.SERVER_ERROR: (500, "api_error")}


class AnthropicServer(LoopbackServer):
    def __init__(self, latency_s: float = 0.0, faults: FaultPlan | None = None,
                 slow_s: float = 1.0, retry_after_ms: int = 5, batch_delay_s: float = 0.05,
                 api_key: str | None = None, min_cache_tokens: int | None = None,
                 responder: Responder = default_reply, thinking_tokens: int = 120,
                 today: date | None = None) -> None:
        super().__init__()
        self.responder = responder
        self.latency_s, self.faults, self.slow_s = latency_s, faults, slow_s
        self.retry_after_ms, self.batch_delay_s = retry_after_ms, batch_delay_s
        self.api_key, self.min_cache_tokens = api_key, min_cache_tokens
        self.thinking_tokens, self.today = thinking_tokens, today
        self.cache_ready: dict[str, float] = {}  # prefix -> when reads can start
        self.batches: dict[str, dict[str, Any]] = {}
        self.batch_requests: list[list[str]] = []  # custom_ids of each submitted batch
        self.first_body: Any = None  # the first Messages request, valid or not, for tests
        self.last_body: dict[str, Any] | None = None  # the last valid Messages request
        self.rejected: list[tuple[int, str]] = []  # (status, message) of refused requests
        self._ids = 0
        self._cache_lock = threading.Lock()

    # -- routing --------------------------------------------------------------------------
    def handle(self, method: str, path: str, headers: Any, body: Any
               ) -> tuple[int, dict[str, str], bytes]:
        if self.api_key is not None and headers.get("Authorization") != f"Bearer {self.api_key}":
            return _error(401, "authentication_error", "invalid x-api-key")
        path = path.split("?")[0]
        if method == "POST" and path == "/v1/messages":
            return self._message(headers, body)
        if method == "POST" and path == "/v1/messages/batches":
            return self._create_batch(body)
        if method == "GET" and path.startswith("/v1/messages/batches/"):
            parts = path.split("/")
            batch = self.batches.get(parts[4])
            if batch is None:
                return _error(404, "not_found_error", "no such batch")
            if len(parts) == 6 and parts[5] == "results":
                return self._results(batch)
            return json_reply(200, self._batch_view(batch))
        return _error(404, "not_found_error", f"{method} {path}")

    def _refuse(self, status: int, kind: str, message: str
                ) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            self.rejected.append((status, message))
        return _error(status, kind, message)

    # -- Messages -------------------------------------------------------------------------
    def _message(self, headers: Any, body: Any) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            self.first_body = body if self.first_body is None else self.first_body
        problem = api_rules.first_problem(body, self.today)
        if problem:
            return self._refuse(*problem)
        arrived = time.monotonic()
        self.last_body = body
        rid = headers.get("X-Request-Id") or json.dumps(body["messages"])[-64:]
        fault = self.faults(rid, self.count_seen(rid)) if self.faults else None
        if fault in _ERRORS:
            status, kind = _ERRORS[fault]
            return _error(status, kind, "injected fault",
                          {"retry-after-ms": str(self.retry_after_ms)})
        delay = self.slow_s if fault == Fault.SLOW else self.latency_s
        time.sleep(delay)
        return json_reply(200, self.message_for(body, fault, (arrived, arrived + delay), rid))

    def message_for(self, body: dict[str, Any], fault: Fault | None,
                    timing: tuple[float, float] | None = None, draw: str = "") -> dict[str, Any]:
        """The reply to a valid body; `timing` is (arrived, response begins), None: now."""
        forced = (body.get("tool_choice") or {}).get("type") == "tool"
        name = body["tool_choice"]["name"] if forced else _schema_name(body)
        user = _first_user_text(body["messages"])
        stop, answer = ("tool_use" if forced else "end_turn"), self.responder(name, user, draw)
        if fault == Fault.TRUNCATED:
            stop, answer = "max_tokens", {"situation": truncated_text(name, user)}
        elif fault == Fault.SCHEMA:
            answer = bad_reply(name)
        content: list[dict[str, Any]]
        if fault == Fault.INVALID_JSON:
            stop, content = "end_turn", [{"type": "text", "text": truncated_text(name, user)}]
        elif fault == Fault.REFUSAL:
            stop, content = "refusal", [{"type": "text", "text": "I can't help with that."}]
        elif forced:
            content = [{"type": "tool_use", "id": "toolu_1", "name": name, "input": answer}]
        else:
            content = [{"type": "text", "text": json.dumps(answer)}]
        thinking = self.thinking_tokens if api_rules.thinking_on(body) else 0
        if thinking:
            content.insert(0, {"type": "thinking", "thinking": "", "signature": "c2ln"})
        with self._cache_lock:
            self._ids += 1
            msg_id = f"msg_{self._ids:08d}"
        usage = self._usage(body, json.dumps(content), thinking, timing)
        if usage["output_tokens"] > body["max_tokens"]:  # thinking ate the budget
            stop, usage["output_tokens"] = "max_tokens", body["max_tokens"]
            content = content[:1] if thinking else []
        return {"id": msg_id, "type": "message", "role": "assistant", "model": body["model"],
                "content": content, "stop_reason": stop, "stop_sequence": None,
                "usage": usage}

    def _usage(self, body: dict[str, Any], output: str, thinking: int,
               timing: tuple[float, float] | None) -> dict[str, Any]:
        model = api_rules.SERVED[body["model"]]
        per = model.chars_per_token
        system = body.get("system") or []
        system_text = system if isinstance(system, str) else "".join(b["text"] for b in system)
        prefix = json.dumps(body.get("tools", [])) + system_text
        prefix_tokens = estimate_tokens(prefix, per)
        minimum = self.min_cache_tokens or model.min_cache_tokens
        cached = (not isinstance(system, str) and any("cache_control" in b for b in system)
                  and prefix_tokens >= minimum)
        usage: dict[str, Any] = {
            "input_tokens": estimate_tokens(json.dumps(body["messages"]), per),
            "output_tokens": estimate_tokens(output, per) + thinking,
            "output_tokens_details": {"thinking_tokens": thinking},
            "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
        if not cached:
            usage["input_tokens"] += prefix_tokens
            return usage
        key = f"{body['model']}\0{prefix}"
        arrived, begins = timing or (time.monotonic(),) * 2
        with self._cache_lock:
            ready = self.cache_ready.get(key)
            hit = ready is not None and ready <= arrived
            if not hit:  # written; readable once this response begins
                self.cache_ready[key] = min(ready if ready is not None else begins, begins)
        usage["cache_read_input_tokens" if hit else "cache_creation_input_tokens"] = prefix_tokens
        return usage

    # -- Message Batches ------------------------------------------------------------------
    def _create_batch(self, body: Any) -> tuple[int, dict[str, str], bytes]:
        requests = (body or {}).get("requests")
        if not requests:
            return self._refuse(400, "invalid_request_error", "requests: Field required")
        results = []
        for req in requests:
            envelope = [e for e in api_rules.request_errors(req, "batch_request")
                        if not e.startswith("params.")]
            if envelope:  # the batch itself is malformed: refused at once
                return self._refuse(400, "invalid_request_error", f"requests.{envelope[0]}")
            results.append({"custom_id": req["custom_id"], "result": self._batch_result(req)})
        with self.lock:
            batch_id = f"msgbatch_{len(self.batches) + 1:06d}"
            self.batches[batch_id] = {"id": batch_id, "created": time.time(),
                                      "results": results[::-1]}  # any order is allowed
            self.batch_requests.append([r["custom_id"] for r in requests])
        return json_reply(200, self._batch_view(self.batches[batch_id]))

    def _batch_result(self, req: dict[str, Any]) -> dict[str, Any]:
        """Params are validated when the batch is processed: a bad one is an errored result."""
        problem = api_rules.first_problem(req["params"], self.today)
        if problem:
            return _errored(problem[1], problem[2])
        cid = req["custom_id"]
        fault = self.faults(cid, self.count_seen(cid)) if self.faults else None
        if fault in _ERRORS:
            return _errored(_ERRORS[fault][1], "injected fault")
        if fault == Fault.SLOW:
            return {"type": "expired"}
        return {"type": "succeeded", "message": self.message_for(req["params"], fault,
                                                                  draw=cid)}

    def _batch_view(self, batch: dict[str, Any]) -> dict[str, Any]:
        ended = time.time() - batch["created"] >= self.batch_delay_s
        counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        for r in batch["results"]:
            counts[r["result"]["type"] if ended else "processing"] += 1
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(batch["created"]))
        return {"id": batch["id"], "type": "message_batch",
                "processing_status": "ended" if ended else "in_progress",
                "request_counts": counts, "created_at": stamp, "expires_at": stamp,
                "ended_at": stamp if ended else None, "archived_at": None,
                "cancel_initiated_at": None,
                "results_url": f"{self.url}/v1/messages/batches/{batch['id']}/results"
                if ended else None}

    def _results(self, batch: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        lines = "".join(json.dumps(r) + "\n" for r in batch["results"])
        return 200, {"Content-Type": "application/binary"}, lines.encode()


def _schema_name(body: dict[str, Any]) -> str:
    """Which reply a JSON-output request wants: the schema's title (pydantic sets it)."""
    schema = ((body.get("output_config") or {}).get("format") or {}).get("schema") or {}
    return str(schema.get("title", "Answer"))


def _first_user_text(messages: list[dict[str, Any]]) -> str:
    first = messages[0]["content"]
    return first if isinstance(first, str) else "".join(b.get("text", "") for b in first)


def _errored(kind: str, message: str) -> dict[str, Any]:
    return {"type": "errored", "error": {"type": "error", "error": {"type": kind,
                                                                    "message": message}}}


def _error(status: int, kind: str, message: str, headers: dict[str, str] | None = None
           ) -> tuple[int, dict[str, str], bytes]:
    body = {"type": "error", "error": {"type": kind, "message": message},
            "request_id": f"req_loopback_{int(time.time() * 1000) % 10**9:09d}"}
    return json_reply(status, body, headers)


def main(argv: list[str] | None = None) -> None:
    """Serve until killed; prints the base URL on the first line (for benchmarks)."""
    import argparse

    from cbt_testing.teacher_servers.replies import rate_faults

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per reply")
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--slow", type=float, default=1.0, help="seconds for a slow reply")
    parser.add_argument("--min-cache-tokens", type=int, default=None,
                        help="override the model's minimum cacheable prompt")
    args = parser.parse_args(argv)
    faults = rate_faults(args.fault_rate) if args.fault_rate else None
    server = AnthropicServer(latency_s=args.latency, faults=faults, slow_s=args.slow,
                             min_cache_tokens=args.min_cache_tokens).start()
    print(server.url, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
