"""The crisis screen's learned stage: training, the threshold rule, loading checks, and that it
adds alarms the keywords miss (with the real base model, on phrasings in no list)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cbt_infer.probe_cli import (
    cross_validated,
    likely_threshold_for,
    main,
    read_phrases,
    threshold_for,
)
from cbt_infer.safety import Screen, screen
from cbt_schema.errors import UserError


@pytest.fixture(scope="module")
def trained(trained_probe: dict[str, Path]) -> dict[str, Path]:
    return trained_probe


@pytest.fixture(scope="module")
def unseen(unseen_crisis: list[str]) -> list[str]:
    return unseen_crisis


def test_threshold_keeps_the_target_recall() -> None:
    probs = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.01, 0.02]
    labels = [1] * 10 + [0, 0]
    t = threshold_for(probs, labels, 0.9)
    caught = sum(p >= t for p, y in zip(probs, labels, strict=True) if y)
    assert t == 0.1 and caught == 9
    assert threshold_for(probs, labels, 0.5) == 0.5
    # texts the keywords already catch need no score: here they catch the five lowest, so
    # the bar rises from 0.1 to 0.6 (5 by keywords + 0.9, 0.8, 0.7, 0.6 = 9 of 10)
    keywords = [False] * 5 + [True] * 5 + [False, False]
    assert threshold_for(probs, labels, 0.9, keywords) == 0.6
    assert threshold_for(probs, labels, 0.5, keywords) == 1.0  # keywords alone are enough


def test_likely_threshold_caps_resources_only_on_ordinary_texts() -> None:
    probs = [0.9, 0.2, 0.95, 0.8, 0.6, 0.4, 0.3, 0.2, 0.1, 0.1, 0.05, 0.01]
    labels = [1, 1] + [0] * 10
    none = [False] * 12
    t = likely_threshold_for(probs, labels, 0.2, none, floor=0.15)  # room for 2 of 10
    assert 0.6 < t <= 0.6 + 1e-9 and sum(p >= t for p in probs[2:]) == 2
    # one ordinary text already sent there by keywords leaves room for one
    already = [False, False, False, False, False, True] + [False] * 6
    t = likely_threshold_for(probs, labels, 0.2, already, floor=0.15)
    assert 0.8 < t <= 0.8 + 1e-9
    assert likely_threshold_for(probs, labels, 0.0, none, floor=0.15) > 0.95  # none allowed
    assert likely_threshold_for(probs, labels, 0.49, none, floor=0.7) == 0.7  # never below


def test_cross_validation_is_out_of_fold_and_seeded() -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    features = np.vstack([rng.normal(3, 1, (20, 4)), rng.normal(-3, 1, (20, 4))])
    labels = [1] * 20 + [0] * 20
    first = cross_validated(features, labels, seed=1)
    assert first == cross_validated(features, labels, seed=1)
    assert min(first[:20]) > 0.5 > max(first[20:])  # separable: held-out folds right


def test_probe_adds_alarms_keywords_miss(trained: dict[str, Path], unseen: list[str]) -> None:
    from cbt_infer.crisis_probe import CrisisProbe

    probe = CrisisProbe.load(trained["probe"])
    for text in unseen:
        assert not screen(text).shows_resources  # the keyword screen alone misses it
        verdict = screen(text, probe=probe)
        assert verdict.shows_resources and verdict.signals[-1].startswith("learned screen (p=")
        assert verdict.probability is not None
        assert verdict.probability >= probe.thresholds[0]
    assert screen("I want to kill myself", probe=probe).signals == ("kill myself",)
    metrics = json.loads(trained["metrics"].read_text())
    assert metrics["mini"]["keywords"]["recall"] == 0.0
    assert metrics["mini"]["resources_shown"]["recall"] == 1.0
    assert metrics["train"]["resources_shown"]["recall"] >= 0.97  # the stage's target
    assert metrics["train"]["resources_only"]["false_positive_rate"] <= 0.05
    for rows in (metrics["train"], metrics["mini"]):  # the two tiers split "resources shown"
        assert (rows["resources_first"]["false_alarms"] + rows["resources_only"]["false_alarms"]
                == rows["resources_shown"]["false_alarms"])
        assert (rows["resources_first"]["missed"] + rows["resources_only"]["missed"]
                == rows["crisis"] + rows["resources_shown"]["missed"])
    low, high = probe.thresholds
    assert low <= high and metrics["thresholds"] == {"possible": round(low, 6),
                                                     "likely": round(high, 6)}


@pytest.mark.slow
def test_cli_and_api_give_the_same_tier(trained: dict[str, Path], unseen: list[str],
                                        tmp_path: Path) -> None:
    """One screen: the CLI's --json tier is the Python API's for the same text; likely risk
    is answered before any student loads (the --base folder does not exist)."""
    from cbt_infer.safety import CrisisScreen

    api = CrisisScreen.load(trained["probe"])
    cli = [sys.executable, "-c", "from cbt_infer.cli import main; main()"]
    texts = [*unseen, "My flatmate ate my leftovers again and I am fuming."]
    for text in texts:
        tier = api(text).tier
        base = tmp_path / "no-student" if tier == "likely" else trained["base"]
        proc = subprocess.run([*cli, "--json", "--base", str(base), "--max-new-tokens", "4",
                               "--crisis-probe", str(trained["probe"]), text],
                              capture_output=True, text=True, timeout=600, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        data = json.loads(proc.stdout)
        assert data["tier"] == tier and data["crisis"] is (tier == "likely")
        assert str(trained["probe"]) in data["screen"]
        assert bool(data["crisis_resources"]) is (tier == "possible")
    assert {api(t).tier for t in unseen} <= {"possible", "likely"}


def test_probe_with_another_encoder_is_refused(trained: dict[str, Path],
                                                 tmp_path: Path) -> None:
    from cbt_infer.crisis_probe import CrisisProbe

    data = json.loads(trained["probe"].read_text())
    alone = tmp_path / "alone.json"  # the probe file without its encoder beside it
    alone.write_text(json.dumps(data))
    with pytest.raises(UserError, match="the crisis probe's encoder is missing"):
        CrisisProbe.load(alone)
    shutil.copy(trained["encoder"], tmp_path / trained["encoder"].name)
    other = tmp_path / "other.json"  # beside a copy of the encoder (the fixture is shared)
    other.write_text(json.dumps({**data, "encoder": {**data["encoder"], "bytes": 1}}))
    with pytest.raises(UserError, match="fitted with another encoder"):
        CrisisProbe.load(other)
    # features computed differently from the stage's (another llama.cpp build, say)
    check = [{**data["check"][0], "p": data["check"][0]["p"] + 0.5}, *data["check"][1:]]
    other.write_text(json.dumps({**data, "check": check}))
    with pytest.raises(UserError, match="the features differ from the ones it was fitted on"):
        CrisisProbe.load(other).score(["x"])
    other.unlink()
    other.write_text('{"format": "something-else"}')
    with pytest.raises(UserError, match="not a crisis probe"):
        CrisisProbe.load(other)
    with pytest.raises(UserError, match="crisis probe file not found"):
        CrisisProbe.load(tmp_path / "missing.json")


def test_screen_asks_the_probe_only_when_keywords_leave_it_open() -> None:
    class Counting:
        calls = 0
        thresholds = (0.3, 0.8)

        def score(self, texts: list[str]) -> list[float]:
            Counting.calls += 1
            return [0.01]

    assert screen("I want to die", probe=Counting()) == Screen("likely", ("want to die",))
    assert Counting.calls == 0
    assert screen("My boss shouted at me", probe=Counting()) == Screen("none", (), 0.01)
    assert Counting.calls == 1
    # a passive signal alone is left open: the probe may raise it to likely, never lower it
    assert screen("I feel like such a burden to my family", probe=Counting()).tier == "possible"
    assert Counting.calls == 2
    # a hit about someone else: resources first only where the probe is close
    friend = "My best friend told me she has been cutting again and I feel helpless."
    assert screen(friend).tier == "possible"  # keywords only: resources first
    assert screen(friend, probe=Counting()).tier == "none"  # far from the threshold

    class Close(Counting):
        def score(self, texts: list[str]) -> list[float]:
            return [0.4]

    assert screen(friend, probe=Close()).tier == "possible"


def test_bad_phrase_file_and_target(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="phrase file not found"):
        read_phrases(tmp_path / "none.txt")
    with pytest.raises(UserError, match="--target-recall"):
        main(["--crisis", "a", "--ordinary", "b", "--target-recall", "1.0"])
    with pytest.raises(UserError, match="--max-resources-only"):
        main(["--crisis", "a", "--ordinary", "b", "--max-resources-only", "0.6"])
    with pytest.raises(UserError, match="no training texts"):
        main(["--train", str(tmp_path)])
    with pytest.raises(UserError, match="folder not found"):
        main(["--train", str(tmp_path / "none")])
