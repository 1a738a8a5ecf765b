"""Small helpers shared by the providers."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Sequence

from cbt_datagen.providers.base import GenReply, OnReply

Job = Callable[[asyncio.Semaphore], Awaitable[None]]


async def deliver(on_reply: OnReply, reply: GenReply) -> None:
    """Call on_reply, awaiting it if it is a coroutine function."""
    out = on_reply(reply)
    if asyncio.iscoroutine(out):
        await out


async def gather_bounded(jobs: Sequence[Job], concurrency: int) -> None:
    """Run every job with at most `concurrency` inside the semaphore at once.

    The first exception (a UserError for a fatal API error) cancels the rest and is raised as
    itself, not wrapped in an ExceptionGroup.
    """
    sem = asyncio.Semaphore(concurrency)
    try:
        async with asyncio.TaskGroup() as group:
            for job in jobs:
                group.create_task(job(sem))
    except BaseExceptionGroup as exc:
        raise exc.exceptions[0] from None


def request_seed(seed: int, request_id: str) -> int:
    """The sampling seed of one request: base.seed and the request id, so the same request
    gives the same reply again, while a repair attempt or another sample of the same event
    (each a new request id) is a new draw."""
    return int(hashlib.sha256(f"{seed}:{request_id}".encode()).hexdigest()[:15], 16)
