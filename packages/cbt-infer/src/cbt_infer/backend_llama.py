"""llama.cpp backend (the optional `cbt-infer[llama]` extra): a GGUF file, optionally with a
LoRA GGUF on top. The prompt is rendered from the GGUF's own chat template and tokenized
exactly as transformers does it, so greedy output can be compared token for token."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

from cbt_infer.backend_hf import Settings
from cbt_infer.loops import LoopWatch
from cbt_infer.prompt import end_of_turn_text
from cbt_infer.result import Generation
from cbt_schema.errors import UserError
from cbt_schema.student import GGUF_ANSWER_FORMAT, GGUF_SYSTEM_PROMPT, StudentTask

INSTALL_HINT = ("the llama.cpp backend needs the optional extra: "
                "uv pip install 'cbt-infer[llama]' (llama-cpp-python compiles from source, "
                "several minutes)")


def import_llama_cpp():
    try:
        import llama_cpp
    except ImportError:
        raise UserError(INSTALL_HINT) from None
    return llama_cpp


def lora_metadata(path: Path) -> dict[str, str]:
    """The cbt task keys of a LoRA GGUF (empty without gguf-py, which reads them)."""
    try:
        from gguf import GGUFReader
    except ImportError:
        return {}
    fields = GGUFReader(path).fields
    return {key: fields[key].contents() for key in (GGUF_SYSTEM_PROMPT, GGUF_ANSWER_FORMAT)
            if key in fields}


class LlamaBackend:
    name = "llama"

    def __init__(self, gguf: str | Path, lora: str | Path | None = None, n_ctx: int = 4096,
                 n_threads: int | None = None) -> None:
        for path, what in ((gguf, "GGUF model"), (lora, "LoRA GGUF")):
            if path is not None and not Path(path).is_file():
                raise UserError(f"{path}: {what} file not found (make one with "
                                "`cbt-infer export` or `dvc repro export`)")
        llama_cpp = import_llama_cpp()
        self.gguf, self.lora = Path(gguf), Path(lora) if lora else None
        self.description = str(gguf) + (f" + {lora}" if lora else "")
        try:
            self.llm = llama_cpp.Llama(model_path=str(gguf), lora_path=str(lora) if lora else None,
                                       n_ctx=n_ctx, n_threads=n_threads or os.cpu_count(),
                                       verbose=False)
        except (ValueError, RuntimeError) as exc:
            raise UserError(f"{self.description}: llama.cpp cannot load it ({exc})") from None
        meta = self.llm.metadata
        self.template = meta.get("tokenizer.chat_template")
        if not self.template:
            raise UserError(f"{gguf}: the GGUF has no tokenizer.chat_template")
        self.context_window = min(n_ctx, self.llm.n_ctx())
        eot = end_of_turn_text(lambda m: self._render(m, False))
        self.stop_text = [eot] if eot else []

    def carried_task(self) -> StudentTask | None:
        """The task the student was trained on, from the LoRA GGUF's metadata when one is
        applied (read with gguf-py where installed), else from the model GGUF's."""
        if self.lora is not None:
            meta = lora_metadata(self.lora)
            if (task := StudentTask.from_metadata(meta, str(self.lora))) is not None:
                return task
        return StudentTask.from_metadata(self.llm.metadata, str(self.gguf))

    def _render(self, messages: list[dict[str, str]], generation_prompt: bool = True) -> str:
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        return env.from_string(self.template).render(
            messages=messages, add_generation_prompt=generation_prompt,
            bos_token=self._token_text(self.llm.token_bos()),
            eos_token=self._token_text(self.llm.token_eos()))

    def _token_text(self, token: int) -> str:
        if token < 0:
            return ""
        return self.llm.detokenize([token], special=True).decode("utf-8", errors="replace")

    def _tokens(self, messages: list[dict[str, str]]) -> list[int]:
        return self.llm.tokenize(self._render(messages).encode("utf-8"), add_bos=False,
                                 special=True)

    def count_tokens(self, messages: list[dict[str, str]]) -> int:
        return len(self._tokens(messages))

    def _run(self, messages: list[dict[str, str]], settings: Settings) -> Iterator[dict]:
        tokens = self._tokens(messages)
        return self.llm.create_completion(
            prompt=tokens, max_tokens=settings.max_new_tokens, temperature=settings.temperature,
            top_p=settings.top_p, top_k=0, min_p=0.0, repeat_penalty=settings.repetition_penalty,
            seed=settings.seed, stop=self.stop_text, stream=True), len(tokens)

    def stream(self, messages: list[dict[str, str]], settings: Settings) -> Iterator[str]:
        """Yield text as it is generated; the generator's return value is the Generation.
        An answer that starts to repeat itself (cbt_infer.loops) is stopped there."""
        start = time.perf_counter()
        chunks, prompt_tokens = self._run(messages, settings)
        pieces: list[str] = []
        first = None
        reason = "length"
        watch = LoopWatch()
        for chunk in chunks:
            choice = chunk["choices"][0]
            text = choice.get("text") or ""
            if not pieces:
                text = text.lstrip()
            if text:
                first = first if first is not None else time.perf_counter() - start
                pieces.append(text)
                yield text
                if watch.feed(text):
                    reason = "loop"
                    chunks.close()  # ends the completion: llama.cpp samples no more tokens
                    break
            if choice.get("finish_reason"):
                reason = "stop" if choice["finish_reason"] == "stop" else "length"
        # the last sampled token (the stop token, the one at the limit, or the one that showed
        # the loop) is never evaluated
        generated = self.llm.n_tokens - prompt_tokens + 1 if pieces or reason == "stop" else 0
        return Generation(text="".join(pieces).strip(),
                          tokens=generated, finish_reason=reason,
                          prompt_tokens=prompt_tokens, seconds=time.perf_counter() - start,
                          first_token_s=first)

    def generate(self, messages: list[dict[str, str]], settings: Settings) -> Generation:
        gen = self.stream(messages, settings)
        while True:
            try:
                next(gen)
            except StopIteration as stop:
                return stop.value

    def generate_batch(self, batch: list[list[dict[str, str]]],
                       settings: Settings) -> list[Generation]:
        return [self.generate(messages, settings) for messages in batch]
