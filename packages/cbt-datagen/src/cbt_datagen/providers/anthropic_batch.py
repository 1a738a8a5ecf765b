"""Claude through the Message Batches API: half price, for large runs.

Submit the requests as one batch (chunks of CHUNK), poll until it ends with a progress bar,
stream the JSONL results (any order; matched by custom_id = request id) and resubmit only the
requests that errored for a passing reason (api_error, overloaded_error, ...), expired or were
canceled, up to RESUBMITS times. Batch params are validated asynchronously: an invalid request
comes back as an `errored` result of type invalid_request_error, not as a 400 on create
(https://platform.claude.com/docs/en/build-with-claude/batch-processing). Such a request would
fail the same way again, so it is never resubmitted: once the batch's results are collected
(the succeeded ones are kept and paid for once), the stage stops with the API's own message.
Every errored result's type and message go to `state_dir/batches.jsonl` and, for requests that
never succeed, into the reply's error (so into the quarantine). Submitted batch ids are
recorded there too before polling, so a run that is killed while a batch is in flight picks
that batch's results up on the next run instead of paying for it again.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cbt_datagen.providers._common import deliver
from cbt_datagen.providers.anthropic import (
    _describe,
    is_fatal,
    make_client,
    message_params,
    reply_from_message,
)
from cbt_datagen.providers.base import GenReply, GenRequest, OnReply
from cbt_schema import UserError
from cbt_schema.params import TeacherParams

CHUNK = 10_000
RESUBMITS = 3
# Errors that would come back the same for the same request: never resubmitted. The batch
# docs: "Request body must be fixed before re-sending request"; a retired model is not found.
PERMANENT = {"invalid_request_error", "not_found_error", "authentication_error",
             "permission_error"}


class AnthropicBatchProvider:
    name = "anthropic-batch"

    def __init__(self, teacher: TeacherParams, state_dir: str | Path | None = None,
                 poll_s: float = 30.0) -> None:
        self.teacher, self.model, self.poll_s = teacher, teacher.model, poll_s
        self.client = make_client(teacher)
        self.state = Path(state_dir) / "batches.jsonl" if state_dir else None

    # -- state of submitted batches ------------------------------------------------------
    def _recorded(self) -> list[dict[str, Any]]:
        if self.state is None or not self.state.is_file():
            return []
        out = []
        for line in self.state.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a torn line: that batch is submitted again at worst
        return out

    def _append(self, entry: dict[str, Any]) -> None:
        if self.state is None:
            return
        from cbt_schema.jsonl import JsonlAppender

        with JsonlAppender(self.state) as out:
            out.append(entry)

    def _record(self, batch_id: str, ids: list[str]) -> None:
        self._append({"batch_id": batch_id, "model": self.model, "custom_ids": ids})

    # -- one batch --------------------------------------------------------------------------
    async def _submit(self, requests: Sequence[GenRequest]) -> str:
        body = [{"custom_id": r.id, "params": message_params(r, self.teacher, self.model)}
                for r in requests]
        try:
            batch = await self.client.messages.batches.create(requests=body)
        except Exception as exc:
            raise UserError(f"teacher {self.model}: batch submission failed: "
                            f"{_describe(exc)}") from None
        self._record(batch.id, [r.id for r in requests])
        return batch.id

    async def _wait(self, batch_id: str, total: int) -> bool:
        """Poll until the batch ends; False if it is gone (expired results, other account)."""
        from tqdm import tqdm

        with tqdm(total=total, desc=f"batch {batch_id[-8:]}", unit="req", file=sys.stderr,
                  leave=False) as bar:
            while True:
                try:
                    batch = await self.client.messages.batches.retrieve(batch_id)
                except Exception as exc:
                    if is_fatal(exc):
                        return False
                    raise UserError(f"batch {batch_id}: cannot read its status "
                                    f"({_describe(exc)}); run again to pick it up, it is "
                                    f"recorded in {self.state}") from None
                c = batch.request_counts
                done = c.succeeded + c.errored + c.canceled + c.expired
                bar.n = total - c.processing if c.processing else max(done, bar.n)
                bar.refresh()
                if batch.processing_status == "ended":
                    return True
                await asyncio.sleep(self.poll_s)

    async def _collect(self, batch_id: str, wanted: dict[str, GenRequest],
                       on_reply: OnReply) -> dict[str, str]:
        """Deliver the results of wanted requests; failed ones stay in `wanted`.

        Returns why each failed one failed (`errored api_error: ...`, `expired`); raises a
        UserError with the API's message, after delivering every success, when a request was
        invalid (invalid_request_error)."""
        failed: dict[str, str] = {}
        invalid: list[str] = []
        results = await self.client.messages.batches.results(batch_id)
        async for line in results:
            req = wanted.get(line.custom_id)
            if req is None:
                continue
            result = line.result
            if result.type == "succeeded":
                del wanted[line.custom_id]
                await deliver(on_reply, reply_from_message(req.id, result.message,
                                                           req.schema_name))
                continue
            failed[line.custom_id] = _why(result)
            if result.type == "errored" and result.error.error.type in PERMANENT:
                invalid.append(line.custom_id)
        if failed:
            self._append({"batch_id": batch_id, "errored": failed})
        if invalid:
            raise UserError(f"teacher {self.model}: batch {batch_id}: {len(invalid)} request(s) "
                            f"refused, not resubmitted; the API says: {failed[invalid[0]]} "
                            f"(request {invalid[0]}; every errored result is in {self.state})")
        return failed

    async def generate(self, requests: Sequence[GenRequest], on_reply: OnReply) -> None:
        wanted = {r.id: r for r in requests}
        # 1. batches an earlier (killed) run already paid for
        for rec in self._recorded():
            ids = set(rec.get("custom_ids", ()))
            if rec.get("model") != self.model or not wanted.keys() & ids:
                continue
            if await self._wait(rec["batch_id"], len(rec["custom_ids"])):
                await self._collect(rec["batch_id"], wanted, on_reply)
        # 2. submit the rest; resubmit only what failed for a passing reason
        why: dict[str, str] = {}
        for _ in range(1 + RESUBMITS):
            if not wanted:
                break
            todo = list(wanted.values())
            for start in range(0, len(todo), CHUNK):
                chunk = todo[start:start + CHUNK]
                batch_id = await self._submit(chunk)
                await self._wait(batch_id, len(chunk))
                why |= await self._collect(batch_id, wanted, on_reply)
        for req in list(wanted.values()):
            error = (f"batch result {why.get(req.id, 'missing')} "
                     f"(after {1 + RESUBMITS} submissions)")
            await deliver(on_reply, GenReply(request_id=req.id, text=None, error=error))

    async def aclose(self) -> None:
        await self.client.close()


def _why(result: Any) -> str:
    """`errored overloaded_error: Overloaded`, `expired` or `canceled`."""
    if result.type != "errored":
        return result.type
    error = result.error.error
    return f"errored {error.type}: {error.message}"
