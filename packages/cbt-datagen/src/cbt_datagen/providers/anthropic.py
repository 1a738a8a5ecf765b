"""Claude through the Messages API (version 2026-10-21): structured output, prompt caching.

Requests carry no sampling parameter: API version 2026-10-21 answers 400 to temperature, top_p
and top_k, even at their defaults (https://platform.claude.com/docs/en/api/migration-2026-10-21).
Variety comes from the prompts (every seed is its own demographic x emotion prompt) and the
model's own default sampling.

Structured output, by teacher.thinking (https://platform.claude.com/docs/en/build-with-claude/
thinking: forced tool_choice is incompatible with thinking; current models think by default):
- `disabled` (the default): one tool whose input_schema is the reply's pydantic JSON schema,
  forced with tool_choice, and `thinking: {type: disabled}` sent explicitly. Chosen because
  it is the cheapest (no thinking tokens), max_tokens bounds the answer alone, and a tool's
  input_schema takes the whole schema (length bounds included) as guidance, where structured
  outputs reject minLength/maxLength/maxItems.
- `adaptive`: `thinking: {type: adaptive}` and the reply as a JSON output format
  (`output_config.format`, structured outputs, GA), with the schema reduced to what structured
  outputs accept (anthropic.transform_schema); max_tokens grows by teacher.thinking_max_tokens,
  since thinking counts toward it. Thinking tokens are billed as output (usage.output_tokens
  includes them); they are also recorded apart (Usage.thinking_tokens).
Prompt caching: cache_control on the system prompt (a tool definition comes before it, so both
are cached). Retries on 429/529/5xx and timeouts
are the SDK's own (it honours retry-after-ms, then retry-after). The SDK's aiohttp transport
is used: it costs about a third less client CPU per request than the default httpx2 one, which
keeps 32-64 requests in flight near the ideal rate (bench/bench_teacher.py). The key comes only
from ANTHROPIC_API_KEY and is never logged. The anthropic SDK is imported only when a provider
is made.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Sequence
from functools import partial
from typing import Any

from cbt_datagen.providers._common import deliver, gather_bounded
from cbt_datagen.providers.base import GenReply, GenRequest, OnReply
from cbt_schema import Usage, UserError
from cbt_schema.params import TeacherParams

SDK_MAX_RETRIES = 4
FATAL_STATUS = {400, 401, 403, 404, 413}


def api_key() -> str:
    """ANTHROPIC_API_KEY, or one clear line before any request is made."""
    key = os.environ.get("ANTHROPIC_API_KEY", "").strip()
    if not key:
        raise UserError("teacher.provider is anthropic but ANTHROPIC_API_KEY is not set "
                        "(export it in the environment; it is never read from files)")
    return key


def make_client(teacher: TeacherParams, max_retries: int = SDK_MAX_RETRIES) -> Any:
    import anthropic

    return anthropic.AsyncAnthropic(
        api_key=api_key(), base_url=teacher.base_url or None, timeout=teacher.timeout_s,
        max_retries=max_retries,
        http_client=anthropic.DefaultAioHttpClient(limits=_limits(teacher.max_concurrency)))


def _limits(concurrency: int) -> Any:
    import httpx2

    return httpx2.Limits(max_connections=max(concurrency, 1) + 4,
                         max_keepalive_connections=max(concurrency, 1) + 4)


def message_params(req: GenRequest, teacher: TeacherParams, model: str) -> dict[str, Any]:
    """The body of one Messages API request (also a batch request's `params`)."""
    system: list[dict[str, Any]] = [{"type": "text", "text": req.system}]
    if teacher.prompt_caching:
        system[0]["cache_control"] = {"type": "ephemeral"}
    params: dict[str, Any] = {"model": model, "max_tokens": req.max_tokens, "system": system,
                              "messages": [dict(m) for m in req.messages]}
    output_config: dict[str, Any] = {"effort": teacher.effort} if teacher.effort else {}
    if teacher.thinking == "disabled":
        params |= {
            "tools": [{"name": req.schema_name, "input_schema": req.schema,
                       "description": f"Record the answer as a {req.schema_name}."}],
            "tool_choice": {"type": "tool", "name": req.schema_name},
            "thinking": {"type": "disabled"},
        }
    else:
        from anthropic import transform_schema

        params["max_tokens"] = req.max_tokens + teacher.thinking_max_tokens
        params["thinking"] = {"type": "adaptive"}
        output_config["format"] = {"type": "json_schema", "schema": transform_schema(req.schema)}
    if output_config:
        params["output_config"] = output_config
    return params


def usage_of(usage: Any) -> Usage:
    details = getattr(usage, "output_tokens_details", None)
    return Usage(input_tokens=usage.input_tokens or 0, output_tokens=usage.output_tokens or 0,
                 cache_read_input_tokens=usage.cache_read_input_tokens or 0,
                 cache_creation_input_tokens=usage.cache_creation_input_tokens or 0,
                 thinking_tokens=getattr(details, "thinking_tokens", 0) or 0)


def reply_from_message(request_id: str, message: Any, tool_name: str) -> GenReply:
    """The forced tool's input as JSON text; else the text blocks (the JSON output format's
    answer, or whatever the model wrote instead of calling the tool)."""
    text: str | None = None
    for block in message.content:
        if block.type == "tool_use" and block.name == tool_name:
            text = json.dumps(block.input, ensure_ascii=False)
            break
    if text is None:
        text = "".join(getattr(b, "text", "") for b in message.content if b.type == "text")
    return GenReply(request_id=request_id, text=text, usage=usage_of(message.usage),
                    stop_reason=message.stop_reason)


def is_fatal(exc: BaseException) -> bool:
    """Errors that would fail every request the same way: stop the run, do not quarantine."""
    status = getattr(exc, "status_code", None)
    return status in FATAL_STATUS


class AnthropicProvider:
    """Concurrent Messages API calls, at most teacher.max_concurrency in flight."""

    name = "anthropic"

    def __init__(self, teacher: TeacherParams) -> None:
        self.teacher = teacher
        self.model = teacher.model
        self.client = make_client(teacher)
        self.stopped = False  # a fatal error: nothing more is sent

    async def _one(self, req: GenRequest, sem: asyncio.Semaphore, *, on_reply: OnReply) -> None:
        params = message_params(req, self.teacher, self.model)
        async with sem:
            if self.stopped:
                return
            try:
                message = await self.client.messages.create(
                    **params, extra_headers={"X-Request-Id": req.id})
                reply = reply_from_message(req.id, message, req.schema_name)
            except Exception as exc:
                if is_fatal(exc):
                    self.stopped = True
                    raise UserError(f"teacher {self.model}: {_describe(exc)}") from None
                reply = GenReply(request_id=req.id, text=None, error=_describe(exc))
        await deliver(on_reply, reply)

    async def generate(self, requests: Sequence[GenRequest], on_reply: OnReply) -> None:
        await gather_bounded([partial(self._one, r, on_reply=on_reply) for r in requests],
                             self.teacher.max_concurrency)

    async def aclose(self) -> None:
        await self.client.close()


def _describe(exc: BaseException) -> str:
    """The API's own error type and message (`400 invalid_request_error: temperature: Extra
    inputs are not permitted`), or the exception's text for transport failures."""
    status = getattr(exc, "status_code", None)
    body = getattr(exc, "body", None)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return f"{status} {error.get('type', 'error')}: {error['message']}"[:500]
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}{f' {status}' if status else ''}: {message}"[:500]
