"""OpenAI's chat API in front of the screen: POST /v1/chat/completions (whole or streamed) and
GET /v1/models, so any chat client can use the student.

The last user message is the situation: it is screened like every other input, and at likely
risk the reply is the crisis resources, with no model call. Earlier turns and a client's
system message are not passed on: the student answers one situation, asked with the prompt it
was trained on. Every reply ends with the notice; the screen's verdict is in the extra `cbt`
field ({"tier", "screen"}).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cbt_infer.result import AssessResult
from cbt_infer.safety import NOTICE
from cbt_infer.serve.app import EventStream, collect
from cbt_infer.serve.config import ServeConfig
from cbt_infer.serve.engine import Engine, Screened, Ticket
from cbt_infer.serve.inputs import ChatRequest, check_text, parse, read_json

CREATED = 1_767_225_600  # /v1/models' `created` (2026-01-01): fixed, as the model is pinned


def reply_text(result: AssessResult) -> str:
    """What a chat client shows: the answer as a person would see it, always with the notice
    (the likely tier's answer is the resources, which carry none of their own)."""
    return result.display if result.notice else f"{result.display}\n\n{NOTICE}"


def finish(result: AssessResult) -> str:
    return "length" if result.finish_reason == "length" else "stop"


def chat_routes(engine: Engine, config: ServeConfig) -> list[Route]:
    model_card = {"id": config.model_id, "object": "model", "created": CREATED,
                  "owned_by": "cbt"}

    def envelope(kind: str, cid: str, choices: list[dict[str, Any]],
                 **extra: Any) -> dict[str, Any]:
        return {"id": cid, "object": kind, "created": int(time.time()),
                "model": config.model_id, "choices": choices, **extra}

    def verdict(result: AssessResult) -> dict[str, str]:
        return {"tier": result.tier, "screen": result.screen}

    async def models(request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [model_card]})

    async def completions(request: Request) -> Response:
        body = parse(ChatRequest, await read_json(request.headers, request.stream(),
                                                  config.max_body))
        text = check_text(body.last_user_text(), config.max_chars)
        wanted = body.max_completion_tokens or body.max_tokens or config.max_new_tokens
        overrides = {"max_new_tokens": min(wanted, config.max_new_tokens),
                     "temperature": body.temperature, "top_p": body.top_p, "seed": body.seed}
        screened = await engine.screen(text, None, **overrides)
        ticket = None if screened.answer is not None else engine.reserve()
        cid = f"chatcmpl-{uuid.uuid4().hex}"
        if body.stream:
            return EventStream(stream(screened, ticket, cid), ticket)
        if screened.answer is not None:
            return whole(screened.answer, cid)
        assert ticket is not None
        try:
            result = await collect(engine.generate(screened, ticket), request)
        finally:
            ticket.drop()
        return Response(status_code=499) if result is None else whole(result, cid)

    def whole(result: AssessResult, cid: str) -> Response:
        choice = {"index": 0, "finish_reason": finish(result),
                  "message": {"role": "assistant", "content": reply_text(result)}}
        usage = {"prompt_tokens": result.prompt_tokens, "completion_tokens": result.tokens,
                 "total_tokens": result.prompt_tokens + result.tokens}
        return JSONResponse(envelope("chat.completion", cid, [choice], usage=usage,
                                     cbt=verdict(result)), headers={"X-CBT-Notice": NOTICE})

    async def stream(screened: Screened, ticket: Ticket | None,
                     cid: str) -> AsyncIterator[str]:
        def chunk(delta: dict[str, str], reason: str | None = None, **extra: Any) -> str:
            data = envelope("chat.completion.chunk", cid,
                            [{"index": 0, "delta": delta, "finish_reason": reason}], **extra)
            return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

        yield chunk({"role": "assistant", "content": ""})
        if screened.answer is not None:
            yield chunk({"content": reply_text(screened.answer)})
            yield chunk({}, "stop", cbt=verdict(screened.answer))
            yield "data: [DONE]\n\n"
            return
        assert ticket is not None
        async for kind, value in engine.generate(screened, ticket):
            if kind == "chunk":
                yield chunk({"content": value})
            elif kind == "result":
                yield chunk({}, finish(value), cbt=verdict(value))
            else:
                yield f"data: {json.dumps({'error': {'message': value}}, ensure_ascii=False)}\n\n"
        yield "data: [DONE]\n\n"

    return [Route("/v1/models", models),
            Route("/v1/chat/completions", completions, methods=["POST"])]
