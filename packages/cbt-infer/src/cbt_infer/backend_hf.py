"""transformers backend: base + peft adapter, or a merged model; greedy or seeded sampling."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from cbt_infer.loops import LoopStop
from cbt_infer.prompt import end_of_turn_text
from cbt_infer.result import Generation


@dataclass(frozen=True)
class Settings:
    """Decoding settings shared by both backends. temperature 0 means greedy."""

    max_new_tokens: int = 384
    temperature: float = 0.0
    top_p: float = 1.0
    repetition_penalty: float = 1.0
    seed: int | None = None


def stop_token_ids(tokenizer, model) -> list[int]:
    """Every id that ends the assistant's turn: the template's end-of-turn token (found by
    rendering the template), the generation config's eos, and the tokenizer's eos."""
    ids: list[int] = []
    eot = end_of_turn_text(
        lambda m: tokenizer.apply_chat_template(m, tokenize=False, add_generation_prompt=False))
    if eot:
        eot_id = tokenizer.convert_tokens_to_ids(eot)
        if isinstance(eot_id, int) and eot_id != tokenizer.unk_token_id:
            ids.append(eot_id)
    gen_eos = getattr(model.generation_config, "eos_token_id", None)
    for value in (gen_eos if isinstance(gen_eos, list) else [gen_eos]) + [tokenizer.eos_token_id]:
        if isinstance(value, int) and value not in ids:
            ids.append(value)
    return ids


class TransformersBackend:
    name = "transformers"

    def __init__(self, model, tokenizer, description: str) -> None:
        self.model, self.tokenizer, self.description = model, tokenizer, description
        self.stop_ids = stop_token_ids(tokenizer, model)
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token_id = self.stop_ids[0]
        limits = [getattr(model.config, "max_position_embeddings", None),
                  getattr(tokenizer, "model_max_length", None)]
        self.context_window = min(x for x in limits if isinstance(x, int) and 0 < x < 10**7)

    def render(self, messages: list[dict[str, str]]) -> str:
        return self.tokenizer.apply_chat_template(messages, tokenize=False,
                                                  add_generation_prompt=True)

    def count_tokens(self, messages: list[dict[str, str]]) -> int:
        return len(self.tokenizer(self.render(messages), add_special_tokens=False).input_ids)

    def _kwargs(self, settings: Settings) -> dict:
        import torch

        kwargs: dict = {"max_new_tokens": settings.max_new_tokens, "eos_token_id": self.stop_ids,
                        "pad_token_id": self.tokenizer.pad_token_id,
                        "repetition_penalty": settings.repetition_penalty}
        if settings.temperature > 0:
            if settings.seed is not None:
                torch.manual_seed(settings.seed)
            kwargs.update(do_sample=True, temperature=settings.temperature, top_p=settings.top_p,
                          top_k=0)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        return kwargs

    def _loop_stop(self, width: int) -> tuple[LoopStop, dict]:
        """A LoopStop for prompts `width` tokens wide, and the generate() argument for it."""
        from transformers import StoppingCriteriaList

        loop = LoopStop(self.tokenizer, width)
        return loop, {"stopping_criteria": StoppingCriteriaList([loop])}

    def _finish(self, new_ids: list[int], prompt_tokens: int, start: float,
                first: float | None, looped_at: int | None = None) -> Generation:
        """The Generation of one row: up to its end-of-turn token, or to where LoopStop saw
        it loop (whichever came first), else everything (it hit max_new_tokens)."""
        stop_at = next((i for i, t in enumerate(new_ids) if t in self.stop_ids), None)
        if looped_at is not None and (stop_at is None or looped_at <= stop_at):
            reason, kept, ended = "loop", new_ids[:looped_at], 0
        elif stop_at is not None:
            reason, kept, ended = "stop", new_ids[:stop_at], 1
        else:
            reason, kept, ended = "length", new_ids, 0
        text = self.tokenizer.decode(kept, skip_special_tokens=True).strip()
        return Generation(text=text, tokens=len(kept) + ended,
                          finish_reason=reason, prompt_tokens=prompt_tokens,
                          seconds=time.perf_counter() - start, first_token_s=first)

    def generate_batch(self, batch: list[list[dict[str, str]]],
                       settings: Settings) -> list[Generation]:
        """Generate for several prompts at once (left padding); greedy results match
        one-at-a-time generation up to float rounding."""
        import torch

        start = time.perf_counter()
        self.tokenizer.padding_side = "left"
        enc = self.tokenizer([self.render(m) for m in batch], return_tensors="pt",
                             padding=True, add_special_tokens=False).to(self.model.device)
        width = enc.input_ids.shape[1]
        loop, stopping = self._loop_stop(width)
        with torch.inference_mode():
            out = self.model.generate(**enc, **self._kwargs(settings), **stopping)
        lengths = enc.attention_mask.sum(dim=1).tolist()
        return [self._finish(out[i, width:].tolist(), int(lengths[i]), start, None,
                             loop.looped.get(i)) for i in range(len(batch))]

    def generate(self, messages: list[dict[str, str]], settings: Settings) -> Generation:
        return self.generate_batch([messages], settings)[0]

    def stream(self, messages: list[dict[str, str]],
               settings: Settings) -> Iterator[str]:
        """Yield text as it is generated; the generator's return value is the Generation."""
        import torch
        from transformers import TextIteratorStreamer

        start = time.perf_counter()
        enc = self.tokenizer(self.render(messages), return_tensors="pt",
                             add_special_tokens=False).to(self.model.device)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True,
                                        skip_special_tokens=True)
        holder: dict = {}
        width = enc.input_ids.shape[1]
        loop, stopping = self._loop_stop(width)

        def run() -> None:
            try:
                with torch.inference_mode():
                    holder["out"] = self.model.generate(**enc, **self._kwargs(settings),
                                                        **stopping, streamer=streamer)
            except BaseException as exc:  # re-raised in the caller's thread
                holder["error"] = exc
                streamer.end()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        first = None
        leading = True
        for chunk in streamer:
            if leading:
                chunk = chunk.lstrip()
                leading = not chunk
            if chunk:
                first = first if first is not None else time.perf_counter() - start
                yield chunk
        thread.join()
        if "error" in holder:
            raise holder["error"]
        return self._finish(holder["out"][0, width:].tolist(), width, start, first,
                            loop.looped.get(0))
