"""Run a model over situations and read its answers back into distortion sets."""

from __future__ import annotations

import gc
import math
import time
from dataclasses import dataclass
from pathlib import Path

from cbt_schema import ChatExample, parse_assessment
from cbt_schema.params import EvalParams
from cbt_schema.quotes import fidelity, quotes_found


@dataclass
class Predictions:
    labels: list[frozenset[str]]
    parsed: list[bool]
    findings: list[int]
    raw: list[str]
    seconds_per_example: float
    test_loss: float | None = None
    quotes: list[list[bool]] | None = None  # per answer, per finding: quote in the text?

    @property
    def format_validity(self) -> float:
        return sum(self.parsed) / len(self.parsed) if self.parsed else 0.0

    @property
    def mean_findings(self) -> float:
        return sum(self.findings) / len(self.findings) if self.findings else 0.0

    @property
    def quote_fidelity(self) -> float | None:
        """The share of all findings whose quoted thought is in the situation's own words
        (cbt_schema.quotes); None when no answer names a finding."""
        return fidelity([found for answer in self.quotes or [] for found in answer])


def load_assessor(base: str | Path, adapter: str | Path | None, params: EvalParams,
                  system_prompt: str | None = None, gguf: str | Path | None = None):
    """The model to score, asked with the prompt it carries (or `system_prompt`: the
    baseline is asked with the student's own)."""
    from cbt_infer import Assessor

    if gguf is not None:
        return Assessor.from_pretrained(gguf=gguf, system_prompt=system_prompt,
                                        crisis_probe=False)
    return Assessor.from_pretrained(base, adapter, system_prompt=system_prompt,
                                    crisis_probe=False)


def predict(assessor, situations: list[str], params: EvalParams, seed: int) -> Predictions:
    """Greedy answers for every situation (the crisis screen is off: every text is scored)."""
    start = time.perf_counter()
    results = assessor.assess_many(situations, batch_size=params.batch_size, screen_input=False,
                                   progress=True, max_new_tokens=params.max_new_tokens,
                                   temperature=0.0, seed=seed)
    seconds = (time.perf_counter() - start) / max(len(situations), 1)
    parses = [parse_assessment(r.raw) for r in results]
    return Predictions(
        labels=[frozenset(d.value for d in p.distortions) for p in parses],
        parsed=[r.parsed for r in results],
        findings=[len(p.findings) for p in parses],
        raw=[r.raw for r in results],
        seconds_per_example=seconds,
        quotes=[quotes_found((f.thought for f in p.findings), situation)
                for p, situation in zip(parses, situations, strict=True)],
    )


def test_losses(assessor, examples: list[ChatExample]) -> dict[str, float | None]:
    """Mean cross-entropy per token of the test conversations under the model, two ways (as
    train.loss_on defines them, so runs compare with the paper's losses whichever it used):
    `assistant`, the teacher's answers only (after the generation prompt), and `all`, every
    token after the first. None for both when the backend has no transformers model."""
    backend = assessor.backend
    model, tokenizer = getattr(backend, "model", None), getattr(backend, "tokenizer", None)
    none: dict[str, float | None] = {"assistant": None, "all": None}
    if model is None or tokenizer is None:
        return none
    import torch
    import torch.nn.functional as F

    total, count = {"assistant": 0.0, "all": 0.0}, {"assistant": 0, "all": 0}
    model.eval()
    for ex in examples:
        messages = [m.model_dump() for m in ex.messages]
        prompt = tokenizer.apply_chat_template(messages[:-1], tokenize=False,
                                               add_generation_prompt=True)
        full = tokenizer.apply_chat_template(messages, tokenize=False)
        if not full.startswith(prompt):
            return none
        prompt_len = len(tokenizer(prompt, add_special_tokens=False).input_ids)
        ids = tokenizer(full, add_special_tokens=False, return_tensors="pt").input_ids
        with torch.no_grad():
            logits = model(input_ids=ids.to(model.device)).logits[0, :-1].float()
        nll = F.cross_entropy(logits, ids[0, 1:].to(model.device), reduction="none")
        for kind, start in (("assistant", max(prompt_len - 1, 0)), ("all", 0)):
            total[kind] += float(nll[start:].sum())
            count[kind] += int(nll[start:].numel())
    return {k: total[k] / count[k] if count[k] else None for k in total}


def perplexity(loss: float | None) -> float | None:
    return math.exp(loss) if loss is not None and loss < 50 else None


def release(assessor) -> None:
    del assessor
    gc.collect()
