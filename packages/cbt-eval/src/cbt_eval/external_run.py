"""Score a model on an external labelled set."""

from __future__ import annotations

from pathlib import Path

from cbt_eval.evaluate import LABELS
from cbt_eval.external import LabelledSet
from cbt_eval.guessers import margin, reference_scores
from cbt_eval.metrics import bootstrap_ci, score
from cbt_eval.predict import load_assessor, predict, release
from cbt_schema.params import EvalParams


def scored(gold: list, preds: list, reference: dict, bootstrap: int, seed: int) -> dict:
    """One system's figures on a labelled set: every metric, its bootstrap intervals and its
    margin over the best guesser (`reference`: reference_scores of the same gold)."""
    result = score(gold, preds, LABELS)
    result["ci"] = bootstrap_ci(gold, preds, LABELS, resamples=bootstrap, seed=seed)
    result["margin"] = margin(gold, preds, reference, LABELS, resamples=bootstrap, seed=seed)
    return result


def run_external(data: LabelledSet, base: Path, adapter: Path | None, params: EvalParams,
                 seed: int, baseline: bool = False, gguf: Path | None = None) -> dict:
    texts = data.texts[:params.limit] if params.limit else data.texts
    gold = data.gold[:len(texts)]
    reference = reference_scores(gold, LABELS, resamples=params.bootstrap, seed=seed)
    report: dict = {"data": data.report(), "n": len(texts), "reference": reference}
    systems = [("student", adapter)] + ([("baseline", None)] if baseline else [])
    asked: str | None = None  # the student's own prompt (it carries it); the baseline's too
    for name, adapter_path in systems:
        assessor = load_assessor(base, adapter_path, params, asked,
                                 gguf=gguf if name == "student" else None)
        asked = asked or assessor.system_prompt
        preds = predict(assessor, texts, params, seed)
        result = scored(gold, preds.labels, reference, params.bootstrap, seed)
        result.update(format_validity=preds.format_validity, mean_findings=preds.mean_findings,
                      seconds_per_example=preds.seconds_per_example)
        report[name] = result
        release(assessor)
    return report
