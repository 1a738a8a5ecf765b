"""Reference guessers against a hand computation, and the margin's verdict."""

import pytest

from cbt_eval.guessers import guesses, margin, reference_scores, verdict
from cbt_eval.metrics import score
from cbt_eval.report import markdown_report
from cbt_schema import Distortion

LABELS = ["a", "b", "c", "d"]
GOLD = [frozenset({"a"}), frozenset({"a", "b"}), frozenset(), frozenset({"c"})]


def test_guessers_match_a_hand_computation() -> None:
    ref = reference_scores(GOLD, LABELS, resamples=0, seed=1)
    # all labels: a tp2 fp2 -> f 2/3; b, c tp1 fp3 -> p .25 r 1 f .4; d tp0 fp4 -> 0
    every = ref["all_labels"]
    assert every["macro_f1"] == pytest.approx((2 / 3 + 0.4 + 0.4 + 0) / 4)
    assert every["micro_f1"] == pytest.approx(2 * 0.25 * 1 / 1.25)  # tp4 fp12 fn0
    assert every["weighted_f1"] == pytest.approx((2 / 3 * 2 + 0.4 + 0.4) / 4)
    # most frequent k: mean gold size 1 -> k = 1 -> {a} for every text
    assert ref["k"] == 1 and guesses(GOLD, LABELS, 1)["most_frequent_k"][0] == {"a"}
    top = ref["most_frequent_k"]
    assert top["macro_f1"] == pytest.approx((2 / 3 + 0 + 0) / 3)  # a, b, c seen; d not
    assert top["micro_f1"] == pytest.approx(0.5)  # tp2 fp2 fn2
    # binary: 3 of 4 gold sets distorted -> precision .75, recall 1
    assert ref["always_distorted"]["binary_f1"] == pytest.approx(2 * 0.75 / 1.75)
    assert every["binary_f1"] == pytest.approx(2 * 0.75 / 1.75)


def test_prevalence_draws_follow_the_gold_frequencies() -> None:
    gold = [frozenset({"a"})] * 50 + [frozenset()] * 50
    draw = guesses(gold, LABELS, 3)["prevalence"]
    assert 30 < sum("a" in s for s in draw) < 70 and not any({"b", "c", "d"} & s for s in draw)
    ref = reference_scores(gold, LABELS, resamples=0, seed=3)
    assert 0.3 < ref["prevalence"]["macro_f1"] < 0.7  # about the frequency, averaged


def test_binary_is_not_measurable_without_negatives() -> None:
    gold = [frozenset({"a"}), frozenset({"b"})]
    assert score(gold, [frozenset({"c"})] * 2, LABELS)["binary_f1"] is None
    assert reference_scores(gold, LABELS, resamples=10, seed=0)["always_distorted"][
        "binary_f1"] is None


def test_a_model_that_guesses_is_flagged() -> None:
    """A 'model' that names the most frequent label everywhere does not beat the guessers;
    one that copies the gold labels does."""
    labels = [d.value for d in Distortion]
    real = dict(zip(LABELS, labels, strict=False))
    gold = [frozenset(real[x] for x in s) for s in GOLD] * 10
    lazy_answers = [frozenset({labels[0]})] * len(gold)
    ref = reference_scores(gold, labels, resamples=200, seed=0)
    lazy = margin(gold, lazy_answers, ref, labels, resamples=200, seed=0)
    assert lazy["macro_f1"] <= 0 and lazy["verdict"] == "does not beat the best trivial guesser"
    exact = margin(gold, gold, ref, labels, resamples=200, seed=0)
    assert exact["macro_f1"] > 0.3 and exact["ci95"][0] > 0
    assert exact["verdict"] == "beats the best trivial guesser"
    assert verdict(0.05, [-0.1, 0.2]).endswith("but not clearly (the interval reaches zero)")
    results = {"n": len(gold), "reference": ref,
               "student": {**score(gold, lazy_answers, labels), "ci": {}, "margin": lazy}}
    text = markdown_report(results, [])
    assert "The student **does not beat the best trivial guesser**" in text
    assert text.index("## Against trivial guessers") < text.index("## All figures")
