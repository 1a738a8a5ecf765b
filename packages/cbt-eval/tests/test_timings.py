"""The evaluate stage's outputs hold results only: seconds per example go to
timings/evaluate.json, and figures are rounded so a rerun within tolerance shows the same."""

from __future__ import annotations

import json
from pathlib import Path

from cbt_eval.evaluate import LABELS, write_outputs
from cbt_eval.guessers import margin, reference_scores
from cbt_eval.metrics import bootstrap_ci, score
from cbt_eval.report import label_pairs
from cbt_schema.timings import read_timings

GOLD = [frozenset({LABELS[0]}), frozenset({LABELS[0], LABELS[1]}), frozenset(),
        frozenset({LABELS[2]})]


def _system(answers: list[frozenset[str]], reference: dict, seconds: float,
            loss: float) -> dict:
    return {**score(GOLD, answers, LABELS),
            "ci": bootstrap_ci(GOLD, answers, LABELS, resamples=10, seed=0),
            "margin": margin(GOLD, answers, reference, LABELS, resamples=10, seed=0),
            "format_validity": 1.0, "mean_findings": 1.0, "test_loss": loss,
            "test_loss_all_tokens": loss + 0.5, "perplexity": 2.718281828 ** loss,
            "seconds_per_example": seconds}


def _outputs(tmp_path: Path, loss: float) -> tuple[dict, str]:
    reference = reference_scores(GOLD, LABELS, resamples=10, seed=0)
    answers = {"student": [frozenset({LABELS[0]})] * 4, "baseline": [frozenset()] * 4}
    results = {"n": len(GOLD), "reference": reference,
               "student": _system(answers["student"], reference, 4.12, loss),
               "baseline": _system(answers["baseline"], reference, 6.21, loss + 0.4)}
    pairs = {name: label_pairs(GOLD, a) for name, a in answers.items()}
    write_outputs(results, [], pairs, tmp_path / "eval.json", tmp_path / "eval.md",
                  tmp_path / "plots")
    return (json.loads((tmp_path / "eval.json").read_text()),
            (tmp_path / "eval.md").read_text())


def test_seconds_per_example_are_timings_not_metrics(tmp_path: Path) -> None:
    metrics, report = _outputs(tmp_path, 2.6034)
    assert "seconds" not in json.dumps(metrics) and "second" not in report
    timings = read_timings("evaluate")
    assert timings["student"] == {"seconds_per_example": 4.12}
    assert timings["baseline"] == {"seconds_per_example": 6.21}


def test_a_loss_moving_in_its_fourth_decimal_shows_the_same_report(tmp_path: Path) -> None:
    """Within train.loss_tolerance (0.001) a loss shows 3 decimals and perplexity (its exp,
    which moves 13 times as much) 1, so the report stays the same."""
    _, first = _outputs(tmp_path / "a", 2.6010)
    _, again = _outputs(tmp_path / "b", 2.6012)
    assert first == again
    assert "| test loss (answer tokens) | 2.601 | 3.001 |" in first
    assert "| perplexity | 13.5 | 20.1 |" in first
