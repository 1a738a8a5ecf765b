"""Self-consistency: majority merge, the closest sample as target, Fleiss' kappa by hand."""

from __future__ import annotations

import pytest

from cbt_datagen.consensus import agreement, closest, fleiss_kappa, merge_labels
from cbt_datagen.tasks.assessments import choose_targets, sample_item_id, split_item_id
from cbt_schema import Assessment, AssessmentRecord, Distortion
from cbt_testing.teacher_servers.replies import LabelOracle

A, B, C = "all_or_nothing", "labeling", "magnification"


def test_fleiss_kappa_by_hand() -> None:
    # 3 subjects, 3 raters, 2 categories. P_i = 1, 1, 1/3 -> P = 7/9; p = 5/9, 4/9 ->
    # P_e = 41/81; kappa = (7/9 - 41/81) / (1 - 41/81) = 22/40
    assert fleiss_kappa([[3, 0], [0, 3], [2, 1]]) == pytest.approx(0.55)
    assert fleiss_kappa([[2, 0], [0, 2]]) == pytest.approx(1.0)
    # raters who split every subject evenly agree less than chance: P = 0, P_e = 1/2
    assert fleiss_kappa([[1, 1], [1, 1]]) == pytest.approx(-1.0)


def test_fleiss_kappa_not_measurable() -> None:
    assert fleiss_kappa([[3, 0], [3, 0]]) is None      # every rating in one category
    assert fleiss_kappa([[2, 1]]) is None              # one subject
    assert fleiss_kappa([[1, 0], [0, 1]]) is None      # one rater
    assert fleiss_kappa([[2, 1], [1, 1]]) is None      # unequal raters


def test_majority_is_strict_and_a_param() -> None:
    samples = [frozenset({A, B}), frozenset({A}), frozenset({A, C})]
    assert merge_labels(samples, 0.5) == {A}
    assert merge_labels(samples, 0.3) == {A, B, C}      # 1 of 3 > 0.3
    assert merge_labels([frozenset({A}), frozenset()], 0.5) == set()  # 1 of 2 is no majority
    assert merge_labels([], 0.5) == set()


def test_closest_sample_first_on_ties() -> None:
    samples = [frozenset({A, B}), frozenset({A}), frozenset({C})]
    assert closest(samples, frozenset({A})) == 1
    assert closest([frozenset({A, B}), frozenset({A, C})], frozenset({A})) == 0


def test_item_ids_keep_sample_one_as_the_event() -> None:
    assert sample_item_id("event-1", 1) == "event-1"
    assert split_item_id(sample_item_id("event-1", 3)) == ("event-1", 3)
    assert split_item_id("event-1") == ("event-1", 1)


def _record(event: str, labels: set[str], n: int) -> AssessmentRecord:
    reply = LabelOracle({"x": sorted(labels)})("Assessment", "x")
    return AssessmentRecord(id=f"a-{event}-{n}", event_id=event,
                            assessment=Assessment.model_validate(reply))


def test_choose_targets_writes_the_closest_sample_with_its_consensus() -> None:
    pairs = [(2, _record("e1", {A}, 2)), (1, _record("e1", {A, B}, 1)),
             (3, _record("e1", {A, C}, 3)), (1, _record("e2", {B}, 1)),
             (2, _record("e2", {B}, 2)), (3, _record("e2", {B}, 3))]
    chosen, report = choose_targets(pairs, 3, 0.5)
    assert [r.event_id for r in chosen] == ["e1", "e2"]
    first = chosen[0].consensus
    assert first is not None and first.merged == [Distortion(A)] and first.chosen == 2
    assert first.votes == {Distortion(A): 3, Distortion(B): 1, Distortion(C): 1}
    assert chosen[0].id == "a-e1-2" and chosen[1].consensus.chosen == 1
    assert report["events"] == 2 and report["events_with_all_samples"] == 2
    # by hand, pooled over the 20 (event, distortion) subjects: 16 all-absent rows and
    # A in e1 and B in e2 all-present [3,0]; B and C in e1 split [1,2] -> P = (18 + 2/3)/20;
    # present ratings 3+3+1+1 = 8 of 60 -> P_e = (8/60)^2 + (52/60)^2
    observed, expected = (18 + 2 / 3) / 20, (8 / 60) ** 2 + (52 / 60) ** 2
    assert report["fleiss_kappa"] == pytest.approx((observed - expected) / (1 - expected),
                                                   abs=1e-4)
    per = report["fleiss_kappa_per_distortion"]
    assert per[A] == 1.0 and per["overgeneralization"] is None  # never named: not measurable
    assert report["target_differs_from_merged"] == 0.0


def test_agreement_skips_events_missing_samples() -> None:
    groups = [[frozenset({A}), frozenset({A})], [frozenset({A})]]
    result = agreement(groups, [A, B], 2)
    assert result["events_with_all_samples"] == 1
