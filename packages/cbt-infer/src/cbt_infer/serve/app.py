"""The Starlette app: the page at /, GET /healthz, POST /v1/assess (whole or as server-sent
events), the OpenAI routes (chat.py), and the guard every request passes first."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import time
from collections.abc import AsyncIterator
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from cbt_infer.safety import NOTICE
from cbt_infer.serve.config import ServeConfig, is_loopback
from cbt_infer.serve.engine import Busy, Engine, NotReady, Screened, Ticket
from cbt_infer.serve.events import Cards, result_event, screen_event, sse
from cbt_infer.serve.inputs import AssessRequest, BadInput, check_text, parse, read_json

log = logging.getLogger(__name__)

STATIC = {"app.css": "text/css", "app.js": "text/javascript", "download.js": "text/javascript"}
# the page may load nothing but its own files: no CDN, no fonts, no analytics
PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
               "connect-src 'self'; base-uri 'none'; form-action 'none'; "
               "frame-ancestors 'none'")
COOKIE = "cbt_serve_token"


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The one error shape (OpenAI's, so its clients show the message): one line."""
    kind = "invalid_request_error" if status < 500 else "server_error"
    return JSONResponse({"error": {"message": message, "type": kind, "code": status}},
                        status_code=status, headers=headers)


class EventStream(StreamingResponse):
    """Server-sent events that give back a queue place the stream never used."""

    def __init__(self, content: AsyncIterator[str], ticket: Ticket | None) -> None:
        super().__init__(content, media_type="text/event-stream",
                         headers={"X-Accel-Buffering": "no", "X-CBT-Notice": NOTICE})
        self.ticket = ticket

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            if self.ticket is not None:
                self.ticket.drop()


async def collect(events: AsyncIterator[tuple[str, Any]], request: Request):
    """The result of a whole (not streamed) generation; None when the client left first,
    which stops the generation."""

    async def consume():
        async for kind, value in events:
            if kind == "result":
                return value
            if kind == "error":
                raise BadInput(422 if "too long" in value else 500, value)
        return None

    task = asyncio.ensure_future(consume())
    while True:
        done, _ = await asyncio.wait({task}, timeout=0.25)
        if done:
            return task.result()
        if await request.is_disconnected():
            task.cancel()
            return None


def build_app(engine: Engine, config: ServeConfig) -> Starlette:
    static = resources.files("cbt_infer.serve") / "static"
    files = {name: (static / name).read_bytes() for name in ("index.html", *STATIC)}

    async def page(request: Request) -> Response:
        return Response(files["index.html"], media_type="text/html; charset=utf-8",
                        headers={"Content-Security-Policy": PAGE_POLICY})

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC:
            raise HTTPException(404)
        return Response(files[name], media_type=f"{STATIC[name]}; charset=utf-8")

    async def healthz(request: Request) -> Response:
        data = engine.health()
        data["limits"] = {"max_chars": config.max_chars, "max_body": config.max_body,
                          "max_new_tokens": config.max_new_tokens}
        data["notice"] = NOTICE
        return JSONResponse(data, status_code=200 if data["status"] == "ok" else 503)

    async def assess(request: Request) -> Response:
        body = parse(AssessRequest, await read_json(request.headers, request.stream(),
                                                    config.max_body))
        text = check_text(body.text(), config.max_chars)
        if config.log_content:
            log.info("cbt-infer serve: asked: %r", text)
        screened = await engine.screen(text, body.country)
        ticket = None if screened.answer is not None else engine.reserve()
        if body.stream:
            return EventStream(stream_assess(engine, screened, ticket), ticket)
        if screened.answer is not None:
            return answer(screened.answer)
        try:
            result = await collect(engine.generate(screened, ticket), request)
        finally:
            ticket.drop()
        return Response(status_code=499) if result is None else answer(result)

    def answer(result) -> Response:
        if config.log_content:
            log.info("cbt-infer serve: answered (%s): %r", result.tier, result.display)
        return JSONResponse(result.to_dict(), headers={"X-CBT-Notice": NOTICE})

    async def stream_assess(engine: Engine, screened: Screened,
                            ticket: Ticket | None) -> AsyncIterator[str]:
        if screened.answer is not None:
            yield sse("screen", screen_event(screened.verdict, screened.answer.screen, ""))
            yield result_event(screened.answer)
            return
        assessor = screened.assessor
        assert assessor is not None and ticket is not None
        lead = assessor.policy.lead()
        yield sse("screen", screen_event(screened.verdict, assessor.crisis_screen.active, lead))
        cards = Cards(lead, NOTICE)
        async for kind, value in engine.generate(screened, ticket):
            if kind == "chunk":
                for event in cards.feed(value):
                    yield event
            elif kind == "result":
                if config.log_content:
                    log.info("cbt-infer serve: answered (%s): %r", value.tier, value.display)
                yield result_event(value)
            else:
                yield sse("error", {"error": value})

    from cbt_infer.serve.chat import chat_routes

    routes = [Route("/", page), Route("/static/{name}", asset), Route("/healthz", healthz),
              Route("/v1/assess", assess, methods=["POST"]),
              *chat_routes(engine, config)]
    handlers: dict[Any, Any] = {
        BadInput: lambda r, e: error(e.status, e.message),
        Busy: lambda r, e: error(429, str(e), {"Retry-After": "2"}),
        NotReady: lambda r, e: error(503, str(e), {"Retry-After": "2"}),
        HTTPException: lambda r, e: error(e.status_code, http_reason(e)),
        Exception: lambda r, e: error(500, "internal error (the server's log has the "
                                           "details)"),
    }

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine.start()  # the models load in the background: the server listens at once
        yield

    app = Starlette(routes=routes, exception_handlers=handlers, lifespan=lifespan)
    return Guard(app, config)  # type: ignore[return-value]


def http_reason(exc: HTTPException) -> str:
    if exc.status_code == 404:
        return "not found: the page is at /, the API at /v1/assess and /v1/chat/completions"
    if exc.status_code == 405:
        return "method not allowed here"
    return str(exc.detail)


class Guard:
    """Every request, before the app: the Host check (bound to loopback, only loopback names:
    no DNS rebinding from a web page), the token (when set: `Authorization: Bearer`, or the
    page's cookie, set by visiting /?token=...), the headers that keep answers out of caches,
    and one log line per request with no content in it."""

    def __init__(self, app, config: ServeConfig) -> None:
        self.app = app
        self.config = config
        self.token = config.token.encode() if config.token else None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        status = {"code": 0}
        set_cookie = None
        refusal = self._refusal(scope, headers)
        if refusal is None and self.token is not None:
            given = self._given_token(scope, headers)
            if given is None or not hmac.compare_digest(given.encode(), self.token):
                refusal = error(401, "this server needs its token: send Authorization: "
                                     "Bearer <token> (or open /?token=<token> once)",
                                {"WWW-Authenticate": "Bearer"})
            elif scope["path"] == "/" and "token=" in scope.get("query_string", b"").decode():
                set_cookie = (f"{COOKIE}={self.config.token}; HttpOnly; SameSite=Strict; "
                              "Path=/").encode()

        async def guarded_send(message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                extra = [(b"x-content-type-options", b"nosniff"),
                         (b"referrer-policy", b"no-referrer"), (b"cache-control", b"no-store")]
                if set_cookie:
                    extra.append((b"set-cookie", set_cookie))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        try:
            if refusal is not None:
                await refusal(scope, receive, guarded_send)
            else:
                await self.app(scope, receive, guarded_send)
        finally:  # the path only: never the query (a token) or the body (a person's words)
            log.info("%s %s %s %.2fs", scope["method"], scope["path"], status["code"] or "-",
                     time.perf_counter() - start)

    def _refusal(self, scope, headers: dict[str, str]) -> Response | None:
        host = headers.get("host", "")
        name = host[1:].split("]")[0] if host.startswith("[") else host.rsplit(":", 1)[0]
        if self.config.loopback and host and not is_loopback(name):
            return error(403, f"this server answers only on localhost, not {name!r}")
        return None

    def _given_token(self, scope, headers: dict[str, str]) -> str | None:
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        for part in headers.get("cookie", "").split(";"):
            key, _, value = part.strip().partition("=")
            if key == COOKIE:
                return value
        if scope["path"] == "/":
            from urllib.parse import parse_qs

            found = parse_qs(scope.get("query_string", b"").decode()).get("token")
            return found[0] if found else None
        return None
