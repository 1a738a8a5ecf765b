"""The `local` teacher: SmolLM2-135M-Instruct (or any small HF causal LM) in process.

Replies are constrained to the request's JSON schema by xgrammar while transformers runs the
model, so every reply that stops on its own parses and satisfies the schema. Requests are
decoded in batches (default: teacher.max_concurrency, at most 8) that share the system prompt's
KV cache; see cbt_datagen.providers.local_decode.

A 135M model loops and runs out of tokens when a schema allows long strings, so the schema it
decodes against is a tightened copy (`fit_schema`): string maxLength scaled down so the whole
reply fits max_tokens, arrays capped at `max_items` (and, with `require_lists`, at least one
item unless the request's schema sets minItems itself). Anything valid under the tightened
schema is valid under the request's schema. Given the choice everywhere, SmolLM2-135M answers
the assessment with no findings almost always, so a request allows an empty list only where its
schema says so: the assessments stage does that for events written as balanced.

Sampling is seeded per request (base.seed and the request id), so the same request gives the
same reply again, and a repair attempt (a new request id) gives a new sample.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cbt_datagen.providers._common import request_seed
from cbt_datagen.providers.base import GenReply, GenRequest, OnReply
from cbt_schema import Usage, UserError
from cbt_schema.params import TeacherParams

DEFAULT_MODEL_DIR = "models/local"
MODEL_DIR_ENV = "CBT_LOCAL_MODEL_DIR"
CHARS_PER_TOKEN = 2.5     # conservative: SmolLM2 writes ~4 chars/token of English, fewer of junk
STRUCTURE_TOKENS = 20     # JSON punctuation, keys and enum labels per object, roughly


def fit_schema(schema: dict[str, Any], max_tokens: int, *, max_items: int = 3,
               require_lists: bool = True) -> dict[str, Any]:
    """A tightened copy of `schema` whose longest reply fits in about max_tokens tokens."""
    out = copy.deepcopy(schema)
    strings: list[tuple[dict[str, Any], int]] = []  # (node, how many times it can occur)
    objects = 0

    def walk(node: Any, times: int) -> None:
        nonlocal objects
        if not isinstance(node, dict):
            return
        kind = node.get("type")
        if kind == "string" and "enum" not in node:
            strings.append((node, times))
        elif kind == "object":
            objects += times
            for child in node.get("properties", {}).values():
                walk(child, times)
            if require_lists:
                arrays = [k for k, v in node.get("properties", {}).items()
                          if isinstance(v, dict) and v.get("type") == "array"]
                node["required"] = [*node.get("required", []),
                                    *(k for k in arrays if k not in node.get("required", []))]
        elif kind == "array":
            node["maxItems"] = min(node.get("maxItems", max_items), max_items)
            if require_lists and "minItems" not in node:  # an explicit minItems 0 stays
                node["minItems"] = 1
            walk(node.get("items"), times * node["maxItems"])
        for key in ("$defs", "definitions"):
            for child in node.get(key, {}).values():
                walk(child, times)

    walk(out, 1)
    budget = (max_tokens - STRUCTURE_TOKENS * max(objects, 1)) * CHARS_PER_TOKEN
    total = sum(node.get("maxLength", 1000) * times for node, times in strings)
    if strings and total > budget:
        scale = max(budget, 0) / total
        for node, _ in strings:
            low = node.get("minLength", 0)
            node["maxLength"] = max(int(node.get("maxLength", 1000) * scale), low + 10)
    return out


def resolve_model_dir(teacher: TeacherParams, model_dir: str | Path | None = None) -> Path:
    """model_dir, else teacher.model when it names a folder, else $CBT_LOCAL_MODEL_DIR, else
    models/local (what the local_model stage writes)."""
    if model_dir is not None:
        return Path(model_dir)
    if Path(teacher.model).is_dir():
        return Path(teacher.model)
    return Path(os.environ.get(MODEL_DIR_ENV) or DEFAULT_MODEL_DIR)


class LocalProvider:
    """A teacher that runs a small HF model in this process (see the module docstring)."""

    name = "local"

    def __init__(self, model_dir: str | Path, params: TeacherParams, seed: int, *,
                 batch_size: int | None = None, threads: int | None = None,
                 max_items: int = 3, require_lists: bool = True) -> None:
        self.model = params.model
        self.model_dir = Path(model_dir)
        self.seed = seed
        self.batch_size = batch_size or min(params.max_concurrency, 8)
        self.max_items, self.require_lists = max_items, require_lists
        from cbt_datagen.providers.local_decode import PrefixCache, Sampling

        self.sampling = Sampling(params.temperature, params.top_p, params.repetition_penalty)
        self._prefix = PrefixCache()
        self._grammars: dict[str, Any] = {}
        self._load(threads)

    def _load(self, threads: int | None) -> None:
        where = self.model_dir
        if not (where / "config.json").is_file():
            raise UserError(f"{where}: not a model folder (no config.json); build it with "
                            "`dvc repro base_model` or point teacher.model at one")
        if not any((where / f).is_file() for f in ("tokenizer.json", "tokenizer_config.json")):
            raise UserError(f"{where}: no tokenizer files (tokenizer.json) beside the model")
        import torch
        import xgrammar as xgr
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if threads:
            torch.set_num_threads(threads)
        try:
            self.tok = AutoTokenizer.from_pretrained(where)
            self.lm = AutoModelForCausalLM.from_pretrained(where, dtype=torch.float32).eval()
        except (OSError, ValueError, KeyError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UserError(f"{where}: cannot load the local teacher model: {first}") from None
        if not self.tok.chat_template:
            raise UserError(f"{where}: the tokenizer has no chat template")
        end = self.tok.convert_tokens_to_ids("<|im_end|>")
        eos = self.lm.generation_config.eos_token_id
        stops = {end} if isinstance(end, int) and end != self.tok.unk_token_id else set()
        stops |= set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        self.stop_ids = stops
        info = xgr.TokenizerInfo.from_huggingface(self.tok, vocab_size=self.lm.config.vocab_size,
                                                  stop_token_ids=sorted(stops))
        self._compiler = xgr.GrammarCompiler(info)

    def grammar(self, schema: dict[str, Any], max_tokens: int) -> Any:
        fitted = fit_schema(schema, max_tokens, max_items=self.max_items,
                            require_lists=self.require_lists)
        key = json.dumps(fitted)  # property order matters: it is the reply's order
        if key not in self._grammars:
            self._grammars[key] = self._compiler.compile_json_schema(
                key, any_whitespace=False, strict_mode=True)
        return self._grammars[key]

    def _chat_ids(self, messages: list[dict[str, str]], generation_prompt: bool) -> list[int]:
        ids = self.tok.apply_chat_template(messages, add_generation_prompt=generation_prompt,
                                           tokenize=True)
        if isinstance(ids, dict) or hasattr(ids, "keys"):
            ids = ids["input_ids"]
        return list(ids)

    def prompt_ids(self, req: GenRequest) -> list[int]:
        messages = [{"role": "system", "content": req.system}, *req.messages]
        return self._chat_ids(messages, True)

    def system_len(self, req: GenRequest, prompt: list[int]) -> int:
        """Tokens of the system turn alone, when they begin the prompt (else 0)."""
        system = self._chat_ids([{"role": "system", "content": req.system}], False)
        return len(system) if prompt[:len(system)] == system else 0

    def run_batch(self, requests: Sequence[GenRequest]) -> list[GenReply]:
        """Decode one batch synchronously (the async generate runs this in a thread)."""
        import xgrammar as xgr

        from cbt_datagen.providers.local_decode import decode_batch

        limit = getattr(self.lm.config, "max_position_embeddings", 8192)
        prompts = [self.prompt_ids(r) for r in requests]
        replies: dict[int, GenReply] = {}
        todo = []
        for i, (r, ids) in enumerate(zip(requests, prompts, strict=True)):
            if len(ids) + r.max_tokens > limit:
                replies[i] = GenReply(r.id, None, error=f"prompt of {len(ids)} tokens plus max_"
                                      f"tokens {r.max_tokens} exceeds the {limit}-token context")
            else:
                todo.append(i)
        if todo:
            matchers = [xgr.GrammarMatcher(self.grammar(requests[i].schema,
                                                        requests[i].max_tokens)) for i in todo]
            done = decode_batch(self.lm, [prompts[i] for i in todo], matchers,
                                [request_seed(self.seed, requests[i].id) for i in todo],
                                [requests[i].max_tokens for i in todo], self.sampling,
                                self.stop_ids, self._prefix,
                                prefix_len=min(self.system_len(requests[i], prompts[i])
                                               for i in todo))
            for i, d in zip(todo, done, strict=True):
                text = self.tok.decode(d.tokens, skip_special_tokens=True,
                                       clean_up_tokenization_spaces=False)
                usage = Usage(input_tokens=d.prompt_tokens, output_tokens=len(d.tokens))
                replies[i] = GenReply(requests[i].id, text, usage=usage,
                                      stop_reason="end_turn" if d.stopped else "max_tokens")
        return [replies[i] for i in range(len(requests))]

    async def generate(self, requests: Sequence[GenRequest], on_reply: OnReply) -> None:
        # requests sharing a system prompt go together, so their batch shares its KV cache
        order = sorted(range(len(requests)), key=lambda i: requests[i].system)
        for start in range(0, len(order), self.batch_size):
            batch = [requests[i] for i in order[start:start + self.batch_size]]
            try:
                replies = await asyncio.to_thread(self.run_batch, batch)
            except RuntimeError as exc:
                replies = [GenReply(r.id, None, error=f"local model failed: {exc}")
                           for r in batch]
            for reply in replies:
                result = on_reply(reply)
                if inspect.isawaitable(result):
                    await result

    async def aclose(self) -> None:
        self._grammars.clear()


def make_provider(teacher: TeacherParams, *, seed: int,
                  model_dir: str | Path | None = None) -> LocalProvider:
    """The local teacher as cbt_datagen.sources makes it (teacher.provider local)."""
    return LocalProvider(resolve_model_dir(teacher, model_dir), teacher, seed)
