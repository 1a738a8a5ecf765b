"""A loopback server speaking the Anthropic Messages and Message Batches wire formats.

Point the real `anthropic` SDK at it with base_url=server.url. Replies are scripted (a valid
object for the forced tool, derived from the user message) with injectable faults (see
replies.Fault), per-reply latency, and simulated prompt caching in `usage`.

    with AnthropicServer(latency_s=0.2, faults=rate_faults(0.2)) as server:
        ...  # TeacherParams(provider="anthropic", base_url=server.url, ...)
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from cbt_datagen.testing._http import LoopbackServer, json_reply
from cbt_datagen.testing.replies import (
    Fault,
    FaultPlan,
    bad_reply,
    default_reply,
    estimate_tokens,
    truncated_text,
)

Responder = Callable[[str, str], dict[str, Any]]  # (tool name, first user message) -> input
_ERRORS = {Fault.RATE_LIMIT: (429, "rate_limit_error"), Fault.OVERLOADED: (529, "overloaded_error"),
           Fault.SERVER_ERROR: (500, "api_error")}


class AnthropicServer(LoopbackServer):
    def __init__(self, latency_s: float = 0.0, faults: FaultPlan | None = None,
                 slow_s: float = 1.0, retry_after_ms: int = 5, batch_delay_s: float = 0.05,
                 api_key: str | None = None, min_cache_tokens: int = 1024,
                 responder: Responder = default_reply) -> None:
        super().__init__()
        self.responder = responder
        self.latency_s, self.faults, self.slow_s = latency_s, faults, slow_s
        self.retry_after_ms, self.batch_delay_s = retry_after_ms, batch_delay_s
        self.api_key, self.min_cache_tokens = api_key, min_cache_tokens
        self.cached_prefixes: set[str] = set()
        self.batches: dict[str, dict[str, Any]] = {}
        self.batch_requests: list[list[str]] = []  # custom_ids of each submitted batch
        self.last_body: dict[str, Any] | None = None  # the last Messages request, for tests
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

    # -- Messages -------------------------------------------------------------------------
    def _message(self, headers: Any, body: Any) -> tuple[int, dict[str, str], bytes]:
        problem = _check_body(body)
        if problem:
            return _error(400, "invalid_request_error", problem)
        self.last_body = body
        rid = headers.get("X-Request-Id") or json.dumps(body["messages"])[-64:]
        fault = self.faults(rid, self.count_seen(rid)) if self.faults else None
        if fault in _ERRORS:
            status, kind = _ERRORS[fault]
            return _error(status, kind, "injected fault",
                          {"retry-after-ms": str(self.retry_after_ms)})
        time.sleep(self.slow_s if fault == Fault.SLOW else self.latency_s)
        return json_reply(200, self.message_for(body, fault))

    def message_for(self, body: dict[str, Any], fault: Fault | None) -> dict[str, Any]:
        tool = body["tool_choice"]["name"]
        user = _first_user_text(body["messages"])
        stop, content = "tool_use", None
        if fault == Fault.TRUNCATED:
            stop = "max_tokens"
            content = [{"type": "tool_use", "id": "toolu_t", "name": tool,
                        "input": {"situation": truncated_text(tool, user)}}]
        elif fault == Fault.INVALID_JSON:
            stop, content = "end_turn", [{"type": "text", "text": truncated_text(tool, user)}]
        elif fault == Fault.REFUSAL:
            stop, content = "refusal", [{"type": "text", "text": "I can't help with that."}]
        elif fault == Fault.SCHEMA:
            content = [{"type": "tool_use", "id": "toolu_s", "name": tool,
                        "input": bad_reply(tool)}]
        else:
            content = [{"type": "tool_use", "id": "toolu_1", "name": tool,
                        "input": self.responder(tool, user)}]
        with self._cache_lock:
            self._ids += 1
            msg_id = f"msg_{self._ids:08d}"
        return {"id": msg_id, "type": "message", "role": "assistant", "model": body["model"],
                "content": content, "stop_reason": stop, "stop_sequence": None,
                "usage": self._usage(body, json.dumps(content))}

    def _usage(self, body: dict[str, Any], output: str) -> dict[str, int]:
        system = body.get("system") or []
        system_text = system if isinstance(system, str) else "".join(b["text"] for b in system)
        prefix = json.dumps(body.get("tools", [])) + system_text
        prefix_tokens = estimate_tokens(prefix)
        rest = estimate_tokens(json.dumps(body["messages"]))
        cached = (not isinstance(system, str) and any("cache_control" in b for b in system)
                  and prefix_tokens >= self.min_cache_tokens)
        usage = {"input_tokens": rest, "output_tokens": estimate_tokens(output),
                 "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
        if not cached:
            usage["input_tokens"] += prefix_tokens
            return usage
        key = f"{body['model']}\0{prefix}"
        with self._cache_lock:
            hit = key in self.cached_prefixes
            self.cached_prefixes.add(key)
        usage["cache_read_input_tokens" if hit else "cache_creation_input_tokens"] = prefix_tokens
        return usage

    # -- Message Batches ------------------------------------------------------------------
    def _create_batch(self, body: Any) -> tuple[int, dict[str, str], bytes]:
        requests = (body or {}).get("requests")
        if not requests:
            return _error(400, "invalid_request_error", "requests: field required")
        results = []
        for req in requests:
            problem = _check_body(req.get("params"))
            if problem:
                return _error(400, "invalid_request_error", f"{req.get('custom_id')}: {problem}")
            cid = req["custom_id"]
            fault = self.faults(cid, self.count_seen(cid)) if self.faults else None
            if fault in _ERRORS:
                result = {"type": "errored", "error": {"type": "error", "error": {
                    "type": _ERRORS[fault][1], "message": "injected fault"}}}
            elif fault == Fault.SLOW:
                result = {"type": "expired"}
            else:
                result = {"type": "succeeded", "message": self.message_for(req["params"], fault)}
            results.append({"custom_id": cid, "result": result})
        with self.lock:
            batch_id = f"msgbatch_{len(self.batches) + 1:06d}"
            self.batches[batch_id] = {"id": batch_id, "created": time.time(),
                                      "results": results[::-1]}  # any order is allowed
            self.batch_requests.append([r["custom_id"] for r in requests])
        return json_reply(200, self._batch_view(self.batches[batch_id]))

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


def _check_body(body: Any) -> str | None:
    """What the real API would reject with 400 (the parts this client relies on)."""
    if not isinstance(body, dict):
        return "body must be a JSON object"
    for key in ("model", "max_tokens", "messages"):
        if key not in body:
            return f"{key}: field required"
    choice = body.get("tool_choice") or {}
    if choice.get("type") != "tool" or not any(
            t.get("name") == choice.get("name") for t in body.get("tools", [])):
        return "tool_choice must force one of the tools"
    return None


def _first_user_text(messages: list[dict[str, Any]]) -> str:
    first = messages[0]["content"]
    return first if isinstance(first, str) else "".join(b.get("text", "") for b in first)


def _error(status: int, kind: str, message: str, headers: dict[str, str] | None = None
           ) -> tuple[int, dict[str, str], bytes]:
    return json_reply(status, {"type": "error", "error": {"type": kind, "message": message}},
                      headers)


def main(argv: list[str] | None = None) -> None:
    """Serve until killed; prints the base URL on the first line (for benchmarks)."""
    import argparse

    from cbt_datagen.testing.replies import rate_faults

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per reply")
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--slow", type=float, default=1.0, help="seconds for a slow reply")
    parser.add_argument("--min-cache-tokens", type=int, default=1024)
    args = parser.parse_args(argv)
    faults = rate_faults(args.fault_rate) if args.fault_rate else None
    server = AnthropicServer(latency_s=args.latency, faults=faults, slow_s=args.slow,
                             min_cache_tokens=args.min_cache_tokens).start()
    print(server.url, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
