"""Claude through the Message Batches API: half price, for large runs.

Submit the requests as one batch (chunks of CHUNK), poll until it ends with a progress bar,
stream the JSONL results (any order; matched by custom_id = request id) and resubmit only the
requests that errored, expired or were canceled, up to RESUBMITS times. Submitted batch ids are
recorded in `state_dir/batches.jsonl` before polling, so a run that is killed while a batch is
in flight picks that batch's results up on the next run instead of paying for it again.
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

    def _record(self, batch_id: str, ids: list[str]) -> None:
        if self.state is None:
            return
        from cbt_schema.jsonl import JsonlAppender

        with JsonlAppender(self.state) as out:
            out.append({"batch_id": batch_id, "model": self.model, "custom_ids": ids})

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
                       on_reply: OnReply) -> None:
        """Deliver the results of wanted requests; failed ones stay in `wanted`."""
        results = await self.client.messages.batches.results(batch_id)
        async for line in results:
            req = wanted.get(line.custom_id)
            if req is None:
                continue
            result = line.result
            if result.type != "succeeded":
                continue
            del wanted[line.custom_id]
            await deliver(on_reply, reply_from_message(req.id, result.message, req.schema_name))

    async def generate(self, requests: Sequence[GenRequest], on_reply: OnReply) -> None:
        wanted = {r.id: r for r in requests}
        # 1. batches an earlier (killed) run already paid for
        for rec in self._recorded():
            if rec.get("model") != self.model or not wanted.keys() & set(rec["custom_ids"]):
                continue
            if await self._wait(rec["batch_id"], len(rec["custom_ids"])):
                await self._collect(rec["batch_id"], wanted, on_reply)
        # 2. submit the rest; resubmit only what errored, expired or was canceled
        last_error = "not processed"
        for _ in range(1 + RESUBMITS):
            if not wanted:
                break
            todo = list(wanted.values())
            for start in range(0, len(todo), CHUNK):
                chunk = todo[start:start + CHUNK]
                batch_id = await self._submit(chunk)
                await self._wait(batch_id, len(chunk))
                await self._collect(batch_id, wanted, on_reply)
            last_error = f"batch result not succeeded after {1 + RESUBMITS} submissions"
        for req in list(wanted.values()):
            await deliver(on_reply, GenReply(request_id=req.id, text=None, error=last_error))

    async def aclose(self) -> None:
        await self.client.close()
