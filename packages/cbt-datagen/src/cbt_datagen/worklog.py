"""The work log: every paid teacher reply, appended and fsynced as it arrives.

It is what makes a run resumable. Each line is one reply (valid or not) for one stable request
key. On start the log is read back: a key with a valid reply is done, a key with
`max_attempts` invalid replies is quarantined, anything else continues where it stopped
(the next repair attempt, built from the last invalid reply). Transport failures are not
logged (nothing was paid), so they are simply asked again on the next run.
A torn last line (kill -9 mid-write) is skipped and the log continues on a fresh line.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections import defaultdict
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from cbt_schema import Usage
from cbt_schema.jsonl import read_jsonl_tolerant


class LoggedReply(BaseModel):
    """One teacher reply as logged: what was asked (key, attempt), what came back, what it cost."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    item_id: str
    attempt: int = Field(ge=1)
    request_id: str
    raw: str
    stop_reason: str | None = None
    errors: list[str] = Field(default_factory=list)
    usage: Usage = Usage()
    cost_usd: float = 0.0

    @property
    def valid(self) -> bool:
        return not self.errors


def request_key(**parts: object) -> str:
    """A stable id from everything that shapes a request (provider, model, prompt, item...)."""
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def attempt_id(key: str, attempt: int) -> str:
    """Attempt 1 is the key itself; each repair attempt gets its own stable id."""
    if attempt == 1:
        return key
    return hashlib.sha256(f"{key}:{attempt}".encode()).hexdigest()[:32]


def load_log(path: Path, keys: set[str]) -> dict[str, list[LoggedReply]]:
    """The logged replies of the wanted keys, in attempt order (other keys are ignored)."""
    entries, _torn = read_jsonl_tolerant(path, LoggedReply)
    replies: dict[str, list[LoggedReply]] = defaultdict(list)
    for entry in entries:
        if entry.key in keys:
            replies[entry.key].append(entry)
    for key, lst in replies.items():
        lst.sort(key=lambda r: r.attempt)
        seen: dict[int, LoggedReply] = {}
        for r in lst:
            seen.setdefault(r.attempt, r)
        replies[key] = list(seen.values())
    return replies


class WorkLog:
    """Appends LoggedReply lines durably, with group commit.

    `await append(reply)` returns once the line is written, flushed and fsynced. Lines that
    arrive while an fsync is running are written together and share the next fsync (which runs
    in a worker thread), so the event loop never blocks on the disk and a slow fsync (~5 ms
    here) does not cap throughput at 1/fsync-time.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.is_file() and self.path.stat().st_size:
            with self.path.open("rb") as fh:
                fh.seek(-1, 2)
                torn = fh.read(1) != b"\n"
            if torn:  # continue on a fresh line after a torn one
                with self.path.open("a", encoding="utf-8") as fh:
                    fh.write("\n")
        self._fh = self.path.open("a", encoding="utf-8")
        self._pending: list[tuple[str, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def append(self, reply: LoggedReply) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((reply.model_dump_json() + "\n", future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        await future

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await asyncio.to_thread(self._write, "".join(line for line, _ in batch))
            except BaseException as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                raise
            for _, future in batch:
                if not future.done():
                    future.set_result(None)

    def _write(self, data: str) -> None:
        self._fh.write(data)
        self._fh.flush()
        os.fsync(self._fh.fileno())

    async def aclose(self) -> None:
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)
        self._fh.close()
