"""The work log: every paid teacher reply, appended and fsynced as it arrives.

It is what makes a run resumable. Each line is one reply (valid or not) for one stable request
key. On start the log is read back: a key with a valid reply is done, a key with
`max_attempts` invalid replies is quarantined, anything else continues where it stopped
(the next repair attempt, built from the last invalid reply). Transport failures are not
logged (nothing was paid), so they are simply asked again on the next run.
A torn last line (kill -9 mid-write) is skipped and the log continues on a fresh line.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from cbt_schema import Usage
from cbt_schema.jsonl import JsonlAppender, read_jsonl_tolerant


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
    """Appends LoggedReply lines durably (flush + fsync per line)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if self.path.is_file() and self.path.stat().st_size:
            with self.path.open("rb") as fh:
                fh.seek(-1, 2)
                torn = fh.read(1) != b"\n"
            if torn:
                with self.path.open("a", encoding="utf-8") as fh:
                    fh.write("\n")
        self._out = JsonlAppender(self.path)

    def append(self, reply: LoggedReply) -> None:
        self._out.append(reply)

    def close(self) -> None:
        self._out.close()
