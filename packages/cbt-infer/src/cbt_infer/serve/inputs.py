"""Request bodies, read and checked before anything else sees them: the content type, the size,
UTF-8, JSON, then the fields. Every failure is a `BadInput` with a status and one line."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

Text = Annotated[str, StringConstraints(max_length=100_000)]
M = TypeVar("M", bound=BaseModel)


class BadInput(Exception):
    """A request the server will not answer: an HTTP status and a one-line reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


async def read_json(headers: Mapping[str, str], body: AsyncIterator[bytes],
                    max_body: int) -> Any:
    """The JSON value of a request body: application/json, at most `max_body` bytes, UTF-8."""
    kind, _, params = headers.get("content-type", "").partition(";")
    if kind.strip().lower() != "application/json":
        raise BadInput(415, "send the body as JSON with Content-Type: application/json")
    charset = params.strip().lower().removeprefix("charset=").strip('"')
    if params.strip() and charset not in ("utf-8", "utf8"):
        raise BadInput(415, f"the body must be UTF-8 (the request says {charset!r})")
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_body:
        raise BadInput(413, f"the body is {declared} bytes; the limit is {max_body}")
    data = bytearray()
    async for chunk in body:
        data += chunk
        if len(data) > max_body:
            raise BadInput(413, f"the body is over the limit of {max_body} bytes")
    if not data.strip():
        raise BadInput(400, "the body is empty: send a JSON object")
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(400, f"the body is not UTF-8 (byte {exc.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(400, f"the body is not valid JSON ({exc.msg} at line {exc.lineno}, "
                            f"column {exc.colno})") from None


def parse(model: type[M], value: Any) -> M:
    """`value` as `model`, or BadInput 422 naming the first field that is wrong."""
    if not isinstance(value, dict):
        raise BadInput(422, "the body must be a JSON object")
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "body"
        raise BadInput(422, f"{where}: {error['msg']}") from None


class Feeling(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
    intensity: int | None = Field(default=None, ge=0, le=100)


class AssessRequest(BaseModel):
    """POST /v1/assess: a thought record. Only `situation` is needed."""

    model_config = ConfigDict(extra="forbid")

    situation: Text
    feelings: list[Feeling] = Field(default_factory=list, max_length=12)
    thoughts: Text = ""
    country: Annotated[str, StringConstraints(max_length=40)] | None = None
    stream: bool = False

    def text(self) -> str:
        """What the student is asked about, in the person's words: the situation, then how
        they feel, then what went through their mind (the order the student was trained on)."""
        parts = [self.situation.strip()]
        if self.feelings:
            named = [f"{f.name} ({f.intensity}/100)" if f.intensity is not None else f.name
                     for f in self.feelings]
            parts.append(f"I feel {', '.join(named)}.")
        if self.thoughts.strip():
            parts.append(f"What went through my mind: {self.thoughts.strip()}")
        return "\n\n".join(p for p in parts if p)


class ChatRequest(BaseModel):
    """POST /v1/chat/completions: OpenAI's fields this server uses; others are ignored."""

    model_config = ConfigDict(extra="ignore")

    model: str = ""
    messages: list[dict[str, Any]] = Field(min_length=1, max_length=200)
    stream: bool = False
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    seed: int | None = None

    def last_user_text(self) -> str:
        """The last user message's text (string content, or its text parts joined)."""
        for message in reversed(self.messages):
            if message.get("role") != "user":
                continue
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return "\n".join(str(part.get("text", "")) for part in content
                                 if isinstance(part, dict) and part.get("type") == "text")
            raise BadInput(422, "messages: the last user message has no text content")
        raise BadInput(422, "messages: there is no user message to answer")


def check_text(text: str, max_chars: int) -> str:
    """The text a generation is asked about: not empty, not over the limit."""
    if not text.strip():
        raise BadInput(422, "the situation is empty: describe what happened and how you feel")
    if len(text) > max_chars:
        raise BadInput(413, f"the text is {len(text)} characters; the limit is {max_chars}: "
                            "shorten it")
    return text
