"""The models behind the server: loaded in the background while it already listens, the crisis
screen before every generation, and one generation at a time with a bounded queue.

The screen is the assessor's own (CrisisPolicy): likely risk is answered with the resources and
no model call; possible risk streams the resources first, then the analysis. While the models
load, keyword-likely texts are still answered (they need no model); anything else is told to
wait. llama.cpp runs one generation per context, so there is one slot; up to `queue` requests
wait for it and the rest are refused (`Busy`, HTTP 429). A generation runs in its own thread and
stops at its next token when its client goes away.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cbt_infer.assessor import Assessor, CrisisPolicy
from cbt_infer.crisis_resources import CrisisResources
from cbt_infer.result import AssessResult
from cbt_infer.safety import Screen
from cbt_infer.safety import screen as keywords_only
from cbt_schema.errors import UserError

log = logging.getLogger(__name__)


class Busy(Exception):
    """The slot is taken and the queue is full."""


class NotReady(Exception):
    """The models are still loading, or failed to load (the message says which)."""


@dataclass
class Screened:
    """A situation after the screen: the assessor that answers it, the verdict, and the
    finished answer when no generation is needed (the likely tier)."""

    situation: str
    verdict: Screen
    assessor: Assessor | None = None
    answer: AssessResult | None = None
    overrides: dict[str, Any] = field(default_factory=dict)


class Engine:
    """`load()` builds the Assessor (in a background thread, from `start()`); `describe`
    names what is being loaded, for /healthz before the models are ready."""

    def __init__(self, load: Callable[[], Assessor], describe: dict[str, str] | None = None,
                 queue: int = 4, country: str | None = None,
                 crisis_resources: str | Path | None = None) -> None:
        self._load = load
        self.describe = dict(describe or {})
        self.queue = queue
        self.country = country
        self.crisis_resources = crisis_resources
        self.state = "loading"
        self.error = ""
        self.assessor: Assessor | None = None
        self.started = time.monotonic()
        self.ready_s: float | None = None
        self._by_country: dict[str, Assessor] = {}
        self._screen_lock = threading.Lock()
        self._slot = asyncio.Semaphore(1)
        self.busy = 0
        self.waiting = 0
        self.stopped_by_client = 0
        self.refused = 0

    # -- loading ------------------------------------------------------------------------
    def start(self) -> None:
        threading.Thread(target=self._run_load, name="cbt-serve-load", daemon=True).start()

    def _run_load(self) -> None:
        try:
            assessor = self._load()
        except UserError as exc:  # said on the terminal too: /healthz is not all one watches
            log.error("cbt-infer serve: the models failed to load: %s", exc)
            self.error, self.state = str(exc), "error"
        except Exception as exc:  # shown on /healthz; the traceback goes to the log
            log.exception("cbt-infer serve: loading failed")
            self.error, self.state = f"{type(exc).__name__}: {exc}", "error"
        else:
            self.assessor = assessor
            self.describe.update(backend=assessor.backend.name,
                                 student=assessor.backend.description,
                                 prompt_source=assessor.task.source,
                                 screen=assessor.crisis_screen.active)
            self.ready_s = time.monotonic() - self.started
            self.state = "ok"
            log.info("cbt-infer serve: ready in %.1f s (%s)", self.ready_s,
                     assessor.backend.description)

    def health(self) -> dict[str, Any]:
        data: dict[str, Any] = {"status": "loading" if self.state == "loading" else self.state}
        if self.error:
            data["error"] = self.error
        data.update(self.describe)
        data.update(ready_s=self.ready_s, slots={"total": 1, "busy": self.busy,
                                                 "queued": self.waiting, "queue": self.queue},
                    stopped_by_client=self.stopped_by_client, refused=self.refused)
        return data

    # -- the screen ---------------------------------------------------------------------
    def _policy(self, country: str | None) -> CrisisPolicy:
        """Keywords only, for the likely answers given while the models load."""
        return CrisisPolicy(False, self.crisis_resources, country or self.country)

    def assessor_for(self, country: str | None) -> Assessor:
        """The assessor for a country's crisis lines: the loaded student, its probe and
        settings, with that country's resources (the server's own when none is named)."""
        base = self.assessor
        assert base is not None
        if not country or self.crisis_resources is not None:
            return base
        key = country.strip().upper()
        if key not in self._by_country:
            resources = CrisisResources.for_country(country)
            policy = CrisisPolicy(base.crisis_screen.probe or False, resources)
            self._by_country[key] = Assessor(base.backend, base.task, policy, base.settings)
        return self._by_country[key]

    async def screen(self, situation: str, country: str | None = None,
                     **overrides: Any) -> Screened:
        """The verdict on a (checked, non-empty) situation, and the answer when it is
        likely risk. NotReady when the models are not loaded and the keywords leave it open."""
        if self.state != "ok":
            verdict = keywords_only(situation)
            if verdict.crisis:
                return Screened(situation, verdict,
                                answer=self._policy(country).answer(situation, verdict))
            if self.state == "error":
                raise NotReady(f"the models failed to load: {self.error}")
            raise NotReady("the models are still loading; try again in a moment")
        assessor = self.assessor_for(country)
        verdict = await asyncio.to_thread(self._verdict, assessor, situation)
        answer = assessor.policy.answer(situation, verdict) if verdict.crisis else None
        return Screened(situation, verdict, assessor, answer, overrides)

    def _verdict(self, assessor: Assessor, situation: str) -> Screen:
        with self._screen_lock:  # the probe's llama.cpp context: one text at a time
            return assessor.policy.verdict(situation)

    # -- generation ---------------------------------------------------------------------
    def reserve(self) -> Ticket:
        """A place in the queue, or Busy when it is full (before any response starts)."""
        if self.busy + self.waiting >= 1 + self.queue:
            self.refused += 1
            raise Busy(f"the server is busy: {self.busy} answer is being written and "
                       f"{self.waiting} are waiting (the limit); try again shortly")
        self.waiting += 1
        return Ticket(self)

    async def generate(self, screened: Screened,
                       ticket: Ticket) -> AsyncIterator[tuple[str, Any]]:
        """With a reserved ticket: ("chunk", text) as the assessor streams (the display text:
        the possible tier's lead, the answer, the notice), then ("result", AssessResult) or
        ("error", message). Leaving early (a client gone) stops the generation."""
        assessor = screened.assessor
        assert assessor is not None
        ticket.started = True
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        cancel = threading.Event()
        acquired = False
        try:
            await self._slot.acquire()
            acquired = True
            self.waiting -= 1
            self.busy += 1

            def put(kind: str, value: Any) -> None:
                loop.call_soon_threadsafe(events.put_nowait, (kind, value))

            def work() -> None:
                stopped = False
                try:
                    stream = assessor.stream(screened.situation, verdict=screened.verdict,
                                             **screened.overrides)
                    chunks = iter(stream)
                    for chunk in chunks:
                        if cancel.is_set():
                            stopped = True
                            chunks.close()  # llama.cpp samples no more tokens
                            break
                        put("chunk", chunk)
                    else:
                        put("result", stream.result)
                except UserError as exc:
                    put("error", str(exc))
                except Exception as exc:
                    log.exception("cbt-infer serve: the generation failed")
                    put("error", f"the generation failed ({type(exc).__name__})")
                finally:
                    loop.call_soon_threadsafe(self._release, stopped)

            threading.Thread(target=work, name="cbt-serve-generate", daemon=True).start()
            while True:
                kind, value = await events.get()
                yield kind, value
                if kind != "chunk":
                    return
        finally:
            if not acquired:
                self.waiting -= 1
            cancel.set()  # a consumer that left stops the thread at its next token

    def _release(self, stopped: bool) -> None:
        self.busy -= 1
        self._slot.release()
        if stopped:
            self.stopped_by_client += 1


class Ticket:
    """A place in the queue. `generate` takes it over; `drop()` gives back one that never
    reached `generate` (a response that failed before its stream began)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.started = False

    def drop(self) -> None:
        if not self.started:
            self.started = True
            self.engine.waiting -= 1
