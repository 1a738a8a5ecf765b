"""The Python API: load a student once, then assess situations (whole, streamed or batched).

    from cbt_infer import Assessor
    assessor = Assessor.from_pretrained("models/base", adapter="models/adapter")
    result = assessor.assess("I failed my driving test again, I'm useless")
    result.tier                # the crisis screen's verdict: likely, possible or none
    result.assessment          # cbt_schema.Assessment, or None with result.problems
    for chunk in (stream := assessor.stream("...")):
        print(chunk, end="")
    stream.result              # the AssessResult once the stream is exhausted
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path

from cbt_infer.backend_hf import Settings
from cbt_infer.choose import choose
from cbt_infer.crisis_probe import CrisisProbe
from cbt_infer.prompt import task_for
from cbt_infer.result import AssessResult, from_generation
from cbt_infer.safety import NOTICE, POSSIBLE_LINE, CrisisResources, CrisisScreen, Screen
from cbt_infer.safety import screen as keywords_only
from cbt_schema.errors import UserError
from cbt_schema.student import StudentTask

KEYWORDS_LIKELY = "keywords (likely risk)"


class CrisisPolicy:
    """What a person at risk gets, the same from every entry point (the Python API, the CLI;
    the evaluation turns the screen off with `screen_input=False`):

    - keywords first: their likely risk is final (the probe never lowers a tier), so it is
      answered at once, with no model file read or loaded (`screen`: "keywords (likely risk)");
    - then the learned probe: `crisis_probe` True finds it at $CBT_CRISIS_PROBE or
      models/crisis_probe.json, where a missing or corrupt file is an error naming the fix; a
      path or a CrisisProbe names it; False is keywords only, said in every result's `screen`;
    - likely risk gets the resources only (`answer`, the one place that answer is built),
      possible risk the resources first and then the analysis (`lead`), none the
      analysis alone.

    `country` (ISO code, default $CBT_COUNTRY) picks the crisis lines; `crisis_resources` (a
    CrisisResources or a JSON file) replaces them. The probe file is read on first need, or
    by `load()` (to fail before any other work); its encoder by `build()`."""

    def __init__(self, crisis_probe: CrisisProbe | str | Path | bool = True,
                 crisis_resources: CrisisResources | str | Path | None = None,
                 country: str | None = None) -> None:
        if crisis_resources is None:
            crisis_resources = CrisisResources.for_country(country)
        elif not isinstance(crisis_resources, CrisisResources):
            crisis_resources = CrisisResources.load(crisis_resources)
        self.resources = crisis_resources
        self._probe = crisis_probe
        self._screen: CrisisScreen | None = None

    @property
    def screen(self) -> CrisisScreen:
        """Keywords, then the probe (read from its file on first use)."""
        if self._screen is None:
            self._screen = CrisisScreen.load(self._probe)
        return self._screen

    def load(self) -> CrisisPolicy:
        """Read the probe file now: a missing one fails before any model loads."""
        _ = self.screen
        return self

    def build(self) -> CrisisPolicy:
        """Also load the probe's encoder now (never while another thread loads a model)."""
        self.screen.build()
        return self

    def verdict(self, situation: str,
                before_probe: Callable[[], None] | None = None) -> Screen:
        """The tier of a (non-empty) situation: keywords, then the probe when they leave it
        open. `before_probe` runs just before the probe scores (the CLI waits there for a
        student loading in another thread)."""
        keywords = keywords_only(situation)
        if keywords.crisis:
            return keywords
        if before_probe is not None:
            before_probe()
        return self.screen(situation)

    def crisis_answer(self, situation: str,
                      before_probe: Callable[[], None] | None = None) -> AssessResult | None:
        """The likely tier's answer, or None for the other tiers (before any student)."""
        verdict = self.verdict(situation, before_probe)
        return self.answer(situation, verdict) if verdict.crisis else None

    def answer(self, situation: str, verdict: Screen) -> AssessResult:
        """The crisis answer for a likely verdict: no model output, so no backend."""
        label = KEYWORDS_LIKELY if verdict.probability is None else self.screen.active
        return AssessResult(situation=situation, message=self.resources.render(), notice="",
                            crisis=True, signals=verdict.signals, finish_reason="crisis",
                            tier=verdict.tier, screen=label)

    def lead(self) -> str:
        """What the possible tier shows before the analysis."""
        return f"{self.resources.render()}\n\n{POSSIBLE_LINE}"

    def mark(self, result: AssessResult, verdict: Screen | None) -> AssessResult:
        """An analysis marked with the verdict (None: the screen was off); the possible tier
        carries the lead."""
        if verdict is None:
            return replace(result, screen="off")
        return replace(result, tier=verdict.tier, signals=verdict.signals,
                       crisis_resources=self.lead() if verdict.tier == "possible" else "",
                       screen=self.screen.active)


class Stream:
    """Iterate for text chunks; `.result` holds the AssessResult once iteration ends."""

    def __init__(self, chunks: Iterator[str]) -> None:
        self._chunks = chunks
        self.result: AssessResult | None = None

    def __iter__(self) -> Iterator[str]:
        self.result = yield from self._chunks


class Assessor:
    def __init__(self, backend, task: StudentTask | str, policy: CrisisPolicy | None = None,
                 settings: Settings | None = None) -> None:
        """`task` is the student's task (a bare string is taken as an explicit system prompt);
        `policy` None means keywords only (CrisisPolicy(crisis_probe=False), said in each
        result's `screen`); from_pretrained screens with the learned probe by default."""
        self.backend = backend
        self.task = task if isinstance(task, StudentTask) else StudentTask(task,
                                                                           source="explicit")
        self.policy = policy or CrisisPolicy(crisis_probe=False)
        self.settings = settings or Settings()

    @property
    def system_prompt(self) -> str:
        return self.task.system_prompt

    @property
    def resources(self) -> CrisisResources:
        return self.policy.resources

    @property
    def crisis_screen(self) -> CrisisScreen:
        return self.policy.screen

    @classmethod
    def from_pretrained(cls, base: str | Path | None = None, adapter: str | Path | None = None,
                        *, gguf: str | Path | None = None, lora_gguf: str | Path | None = None,
                        backend: str = "auto", system_prompt: str | Path | None = None,
                        crisis_resources: CrisisResources | str | Path | None = None,
                        crisis_probe: CrisisProbe | str | Path | bool = True,
                        country: str | None = None,
                        settings: Settings | None = None, dtype: str | None = None,
                        device: str = "auto",
                        n_ctx: int = 4096, n_threads: int | None = None) -> Assessor:
        """Load the student. With no model named, `backend="auto"` takes the exported GGUF
        (models/gguf/) on llama.cpp when it exists and llama.cpp is installed (no torch),
        else models/base + models/adapter on transformers (cbt_infer.choose). `gguf=` names
        a GGUF file (optionally `lora_gguf=`); `base` (+ `adapter`) a model folder.

        The student is asked the way it was trained: the system prompt and answer format
        come from the model (the adapter's student_task.json, or the GGUF's metadata). An
        explicit `system_prompt` (text or a .txt path) that differs from the trained one is
        said on stderr and in each result's `prompt_source`; a model that carries none gets
        the built-in prompt, said the same way.
        The crisis screen (CrisisPolicy) is keywords, then the learned probe: `crisis_probe`
        True finds it at $CBT_CRISIS_PROBE or models/crisis_probe.json (an error when
        missing), a path or a CrisisProbe names it, False turns it off (keywords only).
        `country` (ISO code, default $CBT_COUNTRY) picks the crisis lines; `crisis_resources`
        (a JSON file) replaces them. `device` auto loads on CUDA when there is a
        GPU (bf16, or 4-bit for a bitsandbytes checkpoint), else on the CPU in fp32, and
        refuses a model that does not fit with the estimate (cbt_infer.device)."""
        choice = choose(backend, base=base, adapter=adapter, gguf=gguf)
        policy = CrisisPolicy(crisis_probe, crisis_resources, country)
        # before the student: a missing probe fails fast, and one model loads at a time
        policy.build()
        if choice.backend == "llama":
            from cbt_infer.backend_llama import LlamaBackend

            model = LlamaBackend(choice.gguf, lora_gguf, n_ctx=n_ctx, n_threads=n_threads)
            carried = model.carried_task()
        else:
            if lora_gguf is not None:
                raise UserError("lora_gguf= goes with a GGUF model (gguf=), not a model folder")
            from cbt_infer.backend_hf import TransformersBackend
            from cbt_infer.loading import load_transformers, resolve

            spec = resolve(choice.base, choice.adapter)
            hf, tokenizer = load_transformers(spec, dtype=dtype, device=device)
            description = spec.base + (f" + {spec.adapter}" if spec.adapter else "")
            model = TransformersBackend(hf, tokenizer, description)
            carried = (StudentTask.from_folder(spec.adapter)
                       or StudentTask.from_folder(spec.base))
        return cls(model, task_for(system_prompt, carried), policy, settings)

    # -- checks -------------------------------------------------------------------------
    def _prepare(self, situation: str, settings: Settings) -> list[dict[str, str]]:
        """Messages for a situation, or UserError when it is empty or does not fit.

        Over-long input is an error, not silently truncated: cutting a person's words could
        cut what matters. The limit is the context window minus room for the answer."""
        if not isinstance(situation, str) or not situation.strip():
            raise UserError("the situation is empty: describe what happened and how you feel")
        messages = self.task.messages(situation.strip())
        used = self.backend.count_tokens(messages)
        window = self.backend.context_window
        if used + settings.max_new_tokens > window:
            room = window - settings.max_new_tokens - (used - self.count_situation(situation))
            raise UserError(
                f"the situation is too long: the prompt is {used} tokens and the answer needs up "
                f"to {settings.max_new_tokens}, over the model's context window of {window}; "
                f"shorten it to at most {max(room, 0)} tokens (about {max(room, 0) * 3 // 4} "
                "words) or lower --max-new-tokens")
        return messages

    def count_situation(self, situation: str) -> int:
        return (self.backend.count_tokens(self.task.messages(situation))
                - self.backend.count_tokens(self.task.messages("")))

    def _settings(self, overrides: dict) -> Settings:
        return replace(self.settings, **{k: v for k, v in overrides.items() if v is not None})

    # -- the API ------------------------------------------------------------------------
    def assess(self, situation: str, *, screen_input: bool = True,
               **overrides) -> AssessResult:
        """Assess one situation. Overrides: max_new_tokens, temperature, top_p,
        repetition_penalty, seed. A crisis signal returns the crisis response, no analysis."""
        return self.assess_many([situation], screen_input=screen_input, progress=False,
                                **overrides)[0]

    def stream(self, situation: str, *, screen_input: bool = True,
               verdict: Screen | None = None, **overrides) -> Stream:
        """Stream one situation's answer. `verdict` is the policy's verdict when the caller
        already screened the situation (the server screens before it queues a generation)."""
        return Stream(self._stream(situation, screen_input, self._settings(overrides), verdict))

    def _verdict(self, situation: str, screen_input: bool) -> Screen | None:
        if not screen_input or not isinstance(situation, str) or not situation.strip():
            return None  # off (evaluation), or an empty input _prepare reports
        return self.policy.verdict(situation)

    def _stream(self, situation: str, screen_input: bool, settings: Settings,
                verdict: Screen | None = None) -> Iterator[str]:
        if verdict is None:
            verdict = self._verdict(situation, screen_input)
        if verdict is not None and verdict.crisis:
            result = self.policy.answer(situation, verdict)
            yield result.display
            return result
        messages = self._prepare(situation, settings)
        if verdict is not None and verdict.tier == "possible":
            yield f"{self.policy.lead()}\n\n"
        gen = yield from self.backend.stream(messages, settings)
        yield "\n\n" + NOTICE
        return self._result(situation, gen, settings, verdict)

    def _result(self, situation: str, gen, settings: Settings,
                verdict: Screen | None) -> AssessResult:
        """A generation read as an answer, marked with the verdict and the prompt's source."""
        result = from_generation(situation, gen, NOTICE, self.backend.name,
                                 settings.max_new_tokens)
        return self.policy.mark(replace(result, prompt_source=self.task.source), verdict)

    def assess_many(self, situations: Iterable[str], *, batch_size: int = 1,
                    screen_input: bool = True, progress: bool = True,
                    **overrides) -> list[AssessResult]:
        """Assess many situations in order, `batch_size` prompts per generate call.

        For evaluation, `screen_input=False` skips the crisis screen (every situation gets the
        model's answer). Every input is checked (empty, too long) before any generation."""
        settings = self._settings(overrides)
        situations = list(situations)
        results: list[AssessResult | None] = [None] * len(situations)
        verdicts = [self._verdict(s, screen_input) for s in situations]
        todo: list[tuple[int, list[dict[str, str]]]] = []
        for i, situation in enumerate(situations):
            if (verdict := verdicts[i]) is not None and verdict.crisis:
                results[i] = self.policy.answer(situation, verdict)
                continue
            try:
                todo.append((i, self._prepare(situation, settings)))
            except UserError as exc:
                where = f"situation {i + 1}: " if len(situations) > 1 else ""
                raise UserError(f"{where}{exc}") from None
        from tqdm import tqdm

        bar = tqdm(total=len(todo), desc="assessing", unit="situation", file=sys.stderr,
                   disable=not progress)
        for start in range(0, len(todo), batch_size):
            chunk = todo[start:start + batch_size]
            gens = self.backend.generate_batch([m for _, m in chunk], settings)
            for (i, _), gen in zip(chunk, gens, strict=True):
                results[i] = self._result(situations[i], gen, settings, verdicts[i])
            bar.update(len(chunk))
        bar.close()
        return [r for r in results if r is not None]
