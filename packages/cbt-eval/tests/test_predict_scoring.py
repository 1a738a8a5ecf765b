"""Canned answers through a real Assessor with a stand-in backend: parsing, scoring and the
guessers checked against figures computed by hand."""

from __future__ import annotations

import pytest

from cbt_eval.evaluate import LABELS
from cbt_eval.guessers import margin, reference_scores
from cbt_eval.metrics import score
from cbt_eval.predict import predict
from cbt_infer.assessor import Assessor
from cbt_infer.result import Generation
from cbt_schema import Assessment, Distortion, Finding, render_assessment
from cbt_schema.params import EvalParams

D = Distortion


def _answer(*found: Distortion) -> str:
    return render_assessment(Assessment(
        validation="That sounds hard.", closing="Be kind to yourself.",
        findings=[Finding(distortion=d, thought="I always fail.", challenge="Is that true?")
                  for d in found]))


class CannedBackend:
    """Answers each prompt with the next canned text, as a model would."""

    name = "canned"
    context_window = 4096

    def __init__(self, answers: list[str]) -> None:
        self.answers = list(answers)

    def count_tokens(self, messages: list[dict[str, str]]) -> int:
        return sum(len(m["content"].split()) for m in messages)

    def generate_batch(self, batch, settings) -> list[Generation]:
        return [Generation(text=self.answers.pop(0), tokens=10, finish_reason="stop")
                for _ in batch]


def test_canned_answers_score_as_computed_by_hand() -> None:
    answers = [_answer(D.OVERGENERALIZATION), _answer(D.JUMPING_TO_CONCLUSIONS, D.LABELING),
               "I'm not sure what to say.",  # does not parse: no findings
               _answer()]
    gold = [frozenset({D.OVERGENERALIZATION.value}), frozenset({D.JUMPING_TO_CONCLUSIONS.value}),
            frozenset({D.MAGNIFICATION.value}), frozenset()]
    assessor = Assessor(CannedBackend(answers), "Spot distortions.")
    preds = predict(assessor, ["a", "b", "c", "d"], EvalParams(batch_size=2), seed=0)
    assert preds.parsed == [True, True, False, True]
    assert preds.findings == [1, 2, 0, 0]
    result = score(gold, preds.labels, LABELS)
    # overgeneralization tp1; jumping to conclusions tp1; labeling fp1; magnification fn1
    assert result["micro_precision"] == pytest.approx(2 / 3)
    assert result["micro_recall"] == pytest.approx(2 / 3)
    assert result["macro_f1"] == pytest.approx((1 + 1 + 0 + 0) / 4)
    # binary: gold distorted [1, 1, 1, 0], answered distorted [1, 1, 0, 0]
    assert result["binary_precision"] == 1.0 and result["binary_recall"] == pytest.approx(2 / 3)
    assert result["exact_set_accuracy"] == pytest.approx(2 / 4)  # texts 1 and 4
    ref = reference_scores(gold, LABELS, resamples=0, seed=0)
    # all ten labels: three gold labels, each in 1 of 4 texts: precision 1/4, recall 1, F1 0.4;
    # the seven others F1 0
    assert ref["all_labels"]["macro_f1"] == pytest.approx(3 * 0.4 / 10)
    m = margin(gold, preds.labels, ref, LABELS, resamples=0, seed=0)
    best = max(("all_labels", "most_frequent_k", "prevalence"),
               key=lambda g: ref[g]["macro_f1"])
    assert m["over"] == best and m["macro_f1"] == pytest.approx(0.5 - ref[best]["macro_f1"])
    assert m["macro_f1"] > 0 and m["verdict"].startswith("beats")
