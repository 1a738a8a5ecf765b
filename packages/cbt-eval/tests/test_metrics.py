import pytest

from cbt_eval.metrics import bootstrap_ci, cohen_kappa, score

LABELS = ["a", "b", "c"]


def test_hand_computed_example() -> None:
    gold = [{"a"}, {"a", "b"}, set(), {"c"}]
    pred = [{"a"}, {"b"}, {"a"}, set()]
    s = score(gold, pred, LABELS)
    # a: tp1 fp1 fn1 -> p=r=f=0.5 ; b: tp1 -> 1,1,1 ; c: fn1 -> 0,0,0
    assert s["per_class"]["a"] == pytest.approx(
        {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2, "predicted": 2,
         "kappa": 0.0})
    assert s["per_class"]["b"]["f1"] == 1.0 and s["per_class"]["c"]["f1"] == 0.0
    assert s["micro_precision"] == pytest.approx(2 / 3)
    assert s["micro_recall"] == pytest.approx(2 / 4)
    assert s["micro_f1"] == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    assert s["macro_f1"] == pytest.approx(0.5)
    assert s["weighted_f1"] == pytest.approx((0.5 * 2 + 1 * 1 + 0 * 1) / 4)
    # binary: gold positive = [1,1,0,1], pred positive = [1,1,1,0]
    assert s["binary_precision"] == pytest.approx(2 / 3)
    assert s["binary_recall"] == pytest.approx(2 / 3)
    assert s["exact_set_accuracy"] == 0.25
    assert s["mean_predicted_labels"] == 0.75


def test_kappa() -> None:
    assert cohen_kappa([True, False, True, False], [True, False, True, False]) == 1.0
    assert cohen_kappa([True, True, False, False], [True, False, True, False]) == 0.0
    assert cohen_kappa([False, False], [False, False]) == 1.0
    assert cohen_kappa([True, False, False, False], [False, True, True, True]) < 0


def test_perfect_and_empty_predictions() -> None:
    gold = [{"a"}, {"b"}, set()]
    assert score(gold, gold, LABELS)["macro_f1"] == 1.0
    nothing = score(gold, [set(), set(), set()], LABELS)
    assert nothing["micro_f1"] == 0.0 and nothing["exact_set_accuracy"] == pytest.approx(1 / 3)


def test_bootstrap_interval_brackets_the_estimate_and_is_seeded() -> None:
    gold = [{"a"}, {"b"}, set(), {"a", "c"}] * 10
    pred = [{"a"}, {"a"}, set(), {"c"}] * 10
    ci = bootstrap_ci(gold, pred, LABELS, resamples=200, seed=1)
    point = score(gold, pred, LABELS)
    for key, (low, high) in ci.items():
        assert low <= point[key] <= high
    assert ci == bootstrap_ci(gold, pred, LABELS, resamples=200, seed=1)


def test_length_mismatch() -> None:
    with pytest.raises(ValueError, match="2 gold label sets but 1 predictions"):
        score([set(), set()], [set()], LABELS)
