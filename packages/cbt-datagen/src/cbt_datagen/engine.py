"""The generation engine: any teacher task through any provider, resumable and costed.

    task, items = events.make(params, seeds)          # a task of cbt_datagen.tasks
    result = run_stage(provider, task, items, work_path=..., max_attempts=3, price=price)

Items are (item_id, user message) pairs in the order the output must have. Each gets a stable
key (provider, model, prompt sha256, item id, user message hash, task.key_params). Each reply
is validated once, against task.reply_model, as it arrives (a reply resumed from the log, when
the record is built); an invalid one is asked again with the errors fed back, up to
max_attempts, and then quarantined. Every paid reply is logged first (see worklog), so a rerun,
a crash or a larger N never pays for the same reply twice. Providers deliver replies in any
order; the output follows the order of `items`.
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from cbt_datagen.money import Budget, add_usage, cost_usd, prompt_tokens
from cbt_datagen.prompts import schema_for
from cbt_datagen.providers.base import GenReply, GenRequest, Provider
from cbt_datagen.tasks.base import Task
from cbt_datagen.validate import check_reply, extract_json, repair_message
from cbt_datagen.worklog import LoggedReply, WorkLog, attempt_id, load_log, request_key
from cbt_schema import Provenance, QuarantinedReply, Usage
from cbt_schema.params import Price


@dataclass
class StageResult:
    records: list[BaseModel]
    quarantined: list[QuarantinedReply]
    metrics: dict[str, Any]
    not_asked: list[str] = field(default_factory=list)  # item ids the cost ceiling left
    # this run's wall_s and requests_per_second (cbt_schema.timings), kept out of the metrics
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def quarantined_fraction(self) -> float:
        return len(self.quarantined) / max(1, self.metrics["requested"])


@dataclass
class _State:
    item_id: str
    user: str
    replies: list[LoggedReply] = field(default_factory=list)
    transport_failures: int = 0
    last_error: str = ""
    parsed: BaseModel | None = None  # the valid reply of this run, validated as it arrived

    def valid(self) -> LoggedReply | None:
        return next((r for r in self.replies if r.valid), None)

    def finished(self, max_attempts: int) -> bool:
        return self.valid() is not None or len(self.replies) >= max_attempts

    def tries(self) -> int:
        return len(self.replies) + self.transport_failures


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class _Run:
    def __init__(self, provider: Provider, task: Task, items: Sequence[tuple[str, str]],
                 work_path: Path, max_attempts: int, price: Price, batch: bool,
                 progress: bool, budget: Budget | None = None) -> None:
        self.provider, self.task, self.max_attempts = provider, task, max_attempts
        self.price, self.batch, self.budget = price, batch, budget
        self.schema = schema_for(task.reply_model)
        self.order: list[str] = []
        self.states: dict[str, _State] = {}
        for item_id, user in items:
            key = request_key(provider=provider.name, model=provider.model,
                              prompt_sha256=task.prompt.sha256, item_id=item_id,
                              user_sha256=_sha(user), params=task.key_params)
            if key not in self.states:
                self.order.append(key)
                self.states[key] = _State(item_id, user)
        for key, replies in load_log(work_path, set(self.states)).items():
            self.states[key].replies = replies
            for r in replies if budget else ():
                budget.observe(r.usage, r.cost_usd, paid_now=False)
        self.resumed = sum(s.finished(max_attempts) for s in self.states.values())
        self.log = WorkLog(work_path)
        self.by_request: dict[str, str] = {}
        self.new_replies = 0
        self.spent = 0.0
        self.bar = _bar(task.name, len(self.order), self.resumed, progress)

    def request(self, key: str) -> GenRequest:
        state = self.states[key]
        messages: list[dict[str, str]] = [{"role": "user", "content": state.user}]
        if state.replies:
            last = state.replies[-1]
            messages += [{"role": "assistant", "content": last.raw or "(empty reply)"},
                         {"role": "user", "content": repair_message(last.errors)}]
        rid = attempt_id(key, len(state.replies) + 1)
        self.by_request[rid] = key
        schema = (self.task.schema_of and self.task.schema_of(state.item_id)) or self.schema
        return GenRequest(id=rid, item_id=state.item_id, system=self.task.prompt.system,
                          messages=tuple(messages), schema=schema,
                          schema_name=self.task.reply_model.__name__,
                          max_tokens=self.task.max_tokens)

    async def on_reply(self, reply: GenReply) -> None:
        key = self.by_request.pop(reply.request_id, None)
        if key is None:
            return  # not ours, or a duplicate delivery: never counted twice
        state = self.states[key]
        if reply.error is not None or reply.text is None:
            state.transport_failures += 1
            state.last_error = reply.error or "no reply text"
            if state.tries() >= self.max_attempts:
                self.bar.update(1)
            return
        parsed, errors = check_reply(reply, self.task.reply_model, self.task.max_tokens)
        cost = cost_usd(reply.usage, self.price, batch=self.batch)
        logged = LoggedReply(key=key, item_id=state.item_id, attempt=len(state.replies) + 1,
                             request_id=reply.request_id, raw=reply.text,
                             stop_reason=reply.stop_reason, errors=errors, usage=reply.usage,
                             cost_usd=cost)
        await self.log.append(logged)  # durable before it counts
        state.replies.append(logged)
        state.parsed = parsed
        if self.budget is not None:
            self.budget.observe(reply.usage, cost, paid_now=True)
        self.new_replies += 1
        self.spent += cost
        if state.finished(self.max_attempts):
            self.bar.update(1)
        self.bar.set_postfix_str(f"${self.spent:.4f}", refresh=False)

    def pending(self) -> list[str]:
        return [k for k in self.order if not self.states[k].finished(self.max_attempts)
                and self.states[k].tries() < self.max_attempts]

    async def run(self) -> None:
        try:
            while keys := self.pending():
                requests = [self.request(k) for k in keys]
                if self.budget is not None:
                    requests = self._affordable(requests)
                    if not requests:
                        break  # the cost ceiling: what was paid for is kept
                await self.provider.generate(requests, self.on_reply)
                for rid in [r.id for r in requests if r.id in self.by_request]:
                    await self.on_reply(GenReply(request_id=rid, text=None,
                                           error="the provider returned no reply"))
        finally:
            await self.log.aclose()
            self.bar.close()

    def _affordable(self, requests: list[GenRequest]) -> list[GenRequest]:
        assert self.budget is not None
        admitted = self.budget.admit(requests)
        for req in requests[len(admitted):]:
            self.by_request.pop(req.id, None)
        return admitted

    def record(self, key: str, state: _State, good: LoggedReply) -> BaseModel:
        """The output record of a valid reply, with its provenance (the attempts it took)."""
        reply = state.parsed if state.parsed is not None else (  # resumed: validated here
            self.task.reply_model.model_validate_json(extract_json(good.raw)))
        paid = state.replies[:good.attempt]
        prov = Provenance(
            request_id=key, provider=self.provider.name, model=self.provider.model,
            prompt_id=self.task.prompt.prompt_id, prompt_sha256=self.task.prompt.sha256,
            attempts=good.attempt, usage=_sum_usage(paid),
            cost_usd=round(sum(r.cost_usd for r in paid), 8))
        return self.task.build(key, state.item_id, reply, prov)

    def quarantined(self, key: str, state: _State) -> QuarantinedReply:
        """An item that never got a valid reply: its last reply, or the transport error."""
        if state.replies:
            last = state.replies[-1]
            return QuarantinedReply(request_id=key, item_id=state.item_id, stage=self.task.name,
                                    raw=last.raw, errors=last.errors,
                                    attempts=len(state.replies))
        return QuarantinedReply(request_id=key, item_id=state.item_id, stage=self.task.name,
                                raw="", errors=[f"transport: {state.last_error}"],
                                attempts=state.tries())

    def result(self, wall_s: float) -> StageResult:
        records: list[BaseModel] = []
        quarantined: list[QuarantinedReply] = []
        usage, cost, repaired, first_try, largest = Usage(), 0.0, 0, 0, 0
        not_asked: list[str] = []
        for key in self.order:
            state = self.states[key]
            for r in state.replies:
                usage, cost = add_usage(usage, r.usage), cost + r.cost_usd
                largest = max(largest, prompt_tokens(r.usage))
            good = state.valid()
            if good is not None:
                records.append(self.record(key, state, good))
                repaired += good.attempt > 1
                first_try += good.attempt == 1
            elif state.tries() == 0:
                not_asked.append(state.item_id)  # the cost ceiling came first
            else:
                quarantined.append(self.quarantined(key, state))
        n = len(self.order) - len(not_asked)
        metrics = {
            "requested": n, "resumed": self.resumed, "succeeded": len(records),
            "repaired": repaired, "quarantined": len(quarantined),
            "quarantined_fraction": round(len(quarantined) / max(1, n), 4),
            "valid_first_try_fraction": round(first_try / max(1, n), 4),
            "tokens": {"input": usage.input_tokens, "output": usage.output_tokens,
                       "cache_read": usage.cache_read_input_tokens,
                       "cache_write": usage.cache_creation_input_tokens,
                       "thinking": usage.thinking_tokens},
            "cost_usd": round(cost, 6),
            "largest_prompt_tokens": largest,  # decides long-prompt rates (cbt-datagen cost)
            "this_run": {"replies": self.new_replies, "cost_usd": round(self.spent, 6)},
            "provider": self.provider.name, "model": self.provider.model,
            "prompt_id": self.task.prompt.prompt_id, "prompt_sha256": self.task.prompt.sha256,
        }
        if self.budget is not None:
            metrics["budget"] = self.budget.report(len(not_asked))
        timings = {"wall_s": round(wall_s, 3),
                   "requests_per_second": round(self.new_replies / wall_s, 3)
                   if wall_s > 0 else 0.0}
        return StageResult(records, quarantined, metrics, not_asked, timings)


def _sum_usage(replies: Sequence[LoggedReply]) -> Usage:
    total = Usage()
    for r in replies:
        total = add_usage(total, r.usage)
    return total


def _bar(stage: str, total: int, initial: int, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, desc=stage, unit="rec", file=sys.stderr,
                disable=not enabled, dynamic_ncols=True, mininterval=0.5)


async def run_stage_async(provider: Provider, task: Task, items: Sequence[tuple[str, str]],
                          *, work_path: str | Path, max_attempts: int, price: Price,
                          batch: bool = False, progress: bool = True,
                          budget: Budget | None = None) -> StageResult:
    """Generate one record per item (or quarantine it); see the module docstring. With a
    budget (cbt_datagen.money.Budget), the run stops before it could spend more than its ceiling;
    items it did not ask are neither records nor quarantined (metrics: budget.not_asked)."""
    start = time.perf_counter()
    run = _Run(provider, task, items, Path(work_path), max_attempts, price, batch, progress,
               budget)
    await run.run()
    return run.result(time.perf_counter() - start)


def run_stage(provider: Provider, task: Task, items: Sequence[tuple[str, str]],
              **kwargs: Any) -> StageResult:
    """Synchronous wrapper: runs the stage and closes the provider."""

    async def go() -> StageResult:
        try:
            return await run_stage_async(provider, task, items, **kwargs)
        finally:
            await provider.aclose()

    return asyncio.run(go())

