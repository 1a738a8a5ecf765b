"""The one small interface every teacher provider implements.

A provider turns GenRequests into GenReplies. It does transport only: retries on 429/529/5xx
and timeouts belong to the provider (the SDK's own retry where there is one); validating the
reply against cbt-schema, repair attempts and quarantine belong to the engine that calls it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from cbt_schema import Usage


@dataclass(frozen=True)
class GenRequest:
    """One structured-generation request.

    id: stable request id (hash of provider, model, prompt sha256, item id, params, attempt).
    item_id: the seed id (events) or event id (assessments) this request is for.
    system: the long, cacheable system prompt (worksheet + few-shot examples).
    messages: chat turns after the system prompt, [{"role": "user"|"assistant", "content": str}].
    schema: JSON schema the reply must satisfy (pydantic's model_json_schema()).
    schema_name: a short name for the schema (the forced tool's name for Anthropic).
    max_tokens: output cap for this request.
    """

    id: str
    item_id: str
    system: str
    messages: tuple[dict[str, str], ...]
    schema: dict[str, Any]
    schema_name: str
    max_tokens: int


@dataclass
class GenReply:
    """What came back for one request.

    text: the raw reply text (the JSON the model wrote, or the forced tool's input as JSON).
    error: set when the transport failed for good (after the provider's own retries);
    text is then None. stop_reason: e.g. "end_turn", "tool_use", "max_tokens", "refusal".
    """

    request_id: str
    text: str | None
    usage: Usage = field(default_factory=Usage)
    stop_reason: str | None = None
    error: str | None = None


OnReply = Callable[[GenReply], Awaitable[None] | None]


class Provider(Protocol):
    """A teacher backend. `generate` calls on_reply once per request, in any order."""

    name: str
    model: str

    async def generate(self, requests: Sequence[GenRequest], on_reply: OnReply) -> None: ...

    async def aclose(self) -> None: ...
