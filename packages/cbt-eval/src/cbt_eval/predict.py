"""Run a model over situations and score its answers as inference read them."""

from __future__ import annotations

import gc
import math
import time
from dataclasses import dataclass
from pathlib import Path

from cbt_schema import ChatExample, UserError
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
    """Greedy answers for every situation (the crisis screen is off: every text is scored),
    scored on every finding inference read from each (AssessResult.findings), so an answer
    cut off before its closing still counts the distortions it named."""
    start = time.perf_counter()
    results = assessor.assess_many(situations, batch_size=params.batch_size, screen_input=False,
                                   progress=True, max_new_tokens=params.max_new_tokens,
                                   temperature=0.0, seed=seed)
    seconds = (time.perf_counter() - start) / max(len(situations), 1)
    return Predictions(
        labels=[frozenset(f.distortion.value for f in r.findings) for r in results],
        parsed=[r.parsed for r in results],
        findings=[len(r.findings) for r in results],
        raw=[r.raw for r in results],
        seconds_per_example=seconds,
        quotes=[quotes_found((f.thought for f in r.findings), situation)
                for r, situation in zip(results, situations, strict=True)],
    )


def test_losses(assessor, examples: list[ChatExample],
                base: str | Path) -> dict[str, float | None]:
    """Mean cross-entropy per token of the test conversations under the model, two ways (as
    train.loss_on defines them, so runs compare with the paper's losses whichever it used):
    `assistant`, the teacher's answers (each reply from its first token to the end of the
    conversation), and `all`, every token after the first. The tokens are the ones training
    finds (cbt_train.chat_template.encode, with `base`'s training template), uncut; each
    figure is the mean over every such token of the split (cbt_train.losses.pooled_losses).
    None for both when the backend has no transformers model or the template no training
    variant."""
    backend = assessor.backend
    model, tokenizer = getattr(backend, "model", None), getattr(backend, "tokenizer", None)
    none: dict[str, float | None] = {"assistant": None, "all": None}
    if model is None or tokenizer is None:
        return none
    from cbt_train.chat_template import encode, training_template
    from cbt_train.losses import pooled_losses

    try:
        template = training_template(tokenizer, base)
    except UserError:
        return none
    rows = [{"messages": [m.model_dump() for m in ex.messages]} for ex in examples]
    return pooled_losses(model, [ex.reply_to_end()
                                 for ex in encode(rows, tokenizer, template, max_length=None)])


def perplexity(loss: float | None) -> float | None:
    return math.exp(loss) if loss is not None and loss < 50 else None


def release(assessor) -> None:
    del assessor
    gc.collect()
