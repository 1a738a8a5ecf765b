"""Any OpenAI-chat server as teacher: vLLM, llama.cpp server, Ollama, or a hosted endpoint.

Uses httpx directly rather than the openai SDK: one endpoint (POST {base_url}/chat/completions)
is all it needs, httpx is already a dependency, and it keeps the retry policy explicit and the
same for every server (429/408/409/5xx, timeouts and dropped connections; retry-after-ms, then
retry-after, else exponential backoff with jitter). Structured output: response_format
json_schema (vLLM, llama.cpp server and Ollama all accept it). The key, if any, comes from
OPENAI_API_KEY and is never logged. Servers that scale past one machine (vLLM across GPUs) are
reached the same way; max_concurrency bounds requests in flight.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import Sequence
from functools import partial
from typing import Any

import httpx

from cbt_datagen.providers._common import deliver, gather_bounded, request_seed
from cbt_datagen.providers.base import GenReply, GenRequest, OnReply
from cbt_schema import Usage, UserError
from cbt_schema.params import TeacherParams

MAX_RETRIES = 4
RETRY_STATUS = {408, 409, 429}
FATAL_STATUS = {400, 401, 403, 404, 422}
_STOP = {"stop": "end_turn", "length": "max_tokens", "content_filter": "refusal"}


def retry_delay(response: httpx.Response | None, attempt: int) -> float:
    """Seconds to wait before retry number `attempt` (0-based)."""
    if response is not None:
        for header, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
            try:
                value = float(response.headers[header]) / scale
            except (KeyError, ValueError):
                continue
            if value >= 0:
                return min(value, 60.0)
    return min(0.5 * 2**attempt, 8.0) * (1 - 0.25 * random.random())


class OpenAICompatibleProvider:
    name = "openai-compatible"

    def __init__(self, teacher: TeacherParams, seed: int | None = None) -> None:
        if not teacher.base_url:
            raise UserError("params.yaml: teacher.base_url: required for provider "
                            "openai-compatible (e.g. http://localhost:8000/v1)")
        self.teacher, self.model, self.seed = teacher, teacher.model, seed
        headers = {"Content-Type": "application/json"}
        key = os.environ.get("OPENAI_API_KEY", "").strip()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        limits = httpx.Limits(max_connections=teacher.max_concurrency + 4,
                              max_keepalive_connections=teacher.max_concurrency + 4)
        self.client = httpx.AsyncClient(base_url=teacher.base_url.rstrip("/") + "/",
                                        headers=headers, timeout=teacher.timeout_s,
                                        limits=limits)

    def body(self, req: GenRequest) -> dict[str, Any]:
        t = self.teacher
        body: dict[str, Any] = {
            "model": self.model, "max_tokens": req.max_tokens,
            "messages": [{"role": "system", "content": req.system}, *map(dict, req.messages)],
            "temperature": t.temperature, "top_p": t.top_p,
            "response_format": {"type": "json_schema", "json_schema": {
                "name": req.schema_name, "schema": req.schema}},
        }
        if self.seed is not None:
            body["seed"] = request_seed(self.seed, req.id)  # each sample its own draw
        if t.repetition_penalty != 1.0:  # vLLM's extra sampling parameter
            body["repetition_penalty"] = t.repetition_penalty
        return body

    async def _post(self, req: GenRequest) -> dict[str, Any]:
        response: httpx.Response | None = None
        for attempt in range(MAX_RETRIES + 1):
            response = None
            try:
                response = await self.client.post("chat/completions", json=self.body(req),
                                                  headers={"X-Request-Id": req.id})
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                error = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code == 200:
                    return response.json()
                error = f"HTTP {response.status_code}: {response.text[:300]}"
                if response.status_code in FATAL_STATUS:
                    raise UserError(f"teacher {self.model} at {self.teacher.base_url}: {error}")
                if response.status_code not in RETRY_STATUS and response.status_code < 500:
                    raise RuntimeError(error)
            if attempt == MAX_RETRIES:
                raise RuntimeError(error)
            await asyncio.sleep(retry_delay(response, attempt))
        raise AssertionError("unreachable")

    async def _one(self, req: GenRequest, sem: asyncio.Semaphore, *, on_reply: OnReply) -> None:
        async with sem:
            try:
                reply = parse_completion(req.id, await self._post(req))
            except UserError:
                raise
            except Exception as exc:
                reply = GenReply(request_id=req.id, text=None, error=str(exc)[:500])
        await deliver(on_reply, reply)

    async def generate(self, requests: Sequence[GenRequest], on_reply: OnReply) -> None:
        await gather_bounded([partial(self._one, r, on_reply=on_reply) for r in requests],
                             self.teacher.max_concurrency)

    async def aclose(self) -> None:
        await self.client.aclose()


def parse_completion(request_id: str, data: dict[str, Any]) -> GenReply:
    choice = data["choices"][0]
    message = choice.get("message") or {}
    stop = _STOP.get(choice.get("finish_reason") or "", choice.get("finish_reason"))
    text = message.get("content")
    if message.get("refusal"):
        stop, text = "refusal", message["refusal"]
    u = data.get("usage") or {}
    cached = ((u.get("prompt_tokens_details") or {}).get("cached_tokens")) or 0
    usage = Usage(input_tokens=max(0, (u.get("prompt_tokens") or 0) - cached),
                  output_tokens=u.get("completion_tokens") or 0, cache_read_input_tokens=cached)
    return GenReply(request_id=request_id, text=text or "", usage=usage, stop_reason=stop)
