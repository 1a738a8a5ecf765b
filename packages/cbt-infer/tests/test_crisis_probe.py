"""The crisis screen's learned stage: training, the threshold rule, loading checks, and that it
adds alarms the keywords miss (with the real base model, on phrasings in no list)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cbt_infer.probe_cli import cross_validated, main, read_phrases, threshold_for
from cbt_infer.safety import Screen, screen
from cbt_schema.errors import UserError

SAFETY = Path(__file__).resolve().parents[3] / "safety"
# Written for this test, in no list: the keyword screen misses each of them.
UNSEEN_CRISIS = [
    "Some nights I stand at the top of the multi-storey car park and count the floors.",
    "I have started giving my plants to the neighbours, there is no point keeping them.",
]


@pytest.fixture(scope="module")
def trained(base_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("probe")
    heldout = out / "mini"
    heldout.with_suffix(".crisis.txt").write_text("\n".join(UNSEEN_CRISIS) + "\n")
    heldout.with_suffix(".ordinary.txt").write_text(
        "My flatmate ate my leftovers again and I am fuming.\n")
    argv = ["--base", str(base_dir), "--train", str(SAFETY / "train"),
            "--heldout", str(heldout), "--out", str(out / "probe.json"),
            "--metrics", str(out / "metrics.json")]
    assert main(argv) == 0
    return {"probe": out / "probe.json", "metrics": out / "metrics.json", "base": base_dir}


def test_threshold_keeps_the_target_recall() -> None:
    probs = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.01, 0.02]
    labels = [1] * 10 + [0, 0]
    t = threshold_for(probs, labels, 0.9)
    caught = sum(p >= t for p, y in zip(probs, labels, strict=True) if y)
    assert t == 0.1 and caught == 9
    assert threshold_for(probs, labels, 0.5) == 0.5


def test_cross_validation_is_out_of_fold_and_seeded() -> None:
    import torch

    torch.manual_seed(0)
    features = torch.cat([torch.randn(20, 4) + 3, torch.randn(20, 4) - 3])
    labels = [1] * 20 + [0] * 20
    first = cross_validated(features, labels, seed=1)
    assert first == cross_validated(features, labels, seed=1)
    assert min(first[:20]) > 0.5 > max(first[20:])  # separable: held-out folds right


def test_probe_adds_alarms_keywords_miss(trained: dict[str, Path]) -> None:
    from cbt_infer.crisis_probe import CrisisProbe

    probe = CrisisProbe.load(trained["probe"])
    for text in UNSEEN_CRISIS:
        assert not screen(text).crisis  # the keyword screen alone misses it
        verdict = screen(text, probe=probe)
        assert verdict.crisis and verdict.signals[0].startswith("learned screen (p=")
    assert screen("I want to kill myself", probe=probe).signals == ("kill myself",)
    metrics = json.loads(trained["metrics"].read_text())
    assert metrics["mini"]["keywords"]["recall"] == 0.0
    assert metrics["mini"]["combined"]["recall"] == 1.0
    assert metrics["train"]["probe_cross_validated"]["recall"] >= 0.95


def test_cli_uses_the_probe_before_any_student_loads(trained: dict[str, Path],
                                                     tmp_path: Path) -> None:
    cli = [sys.executable, "-c", "from cbt_infer.cli import main; main()"]
    proc = subprocess.run([*cli, "--json", "--base", str(tmp_path / "no-student"),
                           "--crisis-probe", str(trained["probe"]), UNSEEN_CRISIS[0]],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["crisis"] is True and data["signals"][0].startswith("learned screen")


def test_probe_for_another_base_model_is_refused(trained: dict[str, Path],
                                                 tmp_path: Path) -> None:
    from cbt_infer.crisis_probe import CrisisProbe

    data = json.loads(trained["probe"].read_text())
    data["base_identity"]["hidden_size"] = 4096
    other = tmp_path / "other.json"
    other.write_text(json.dumps(data))
    with pytest.raises(UserError, match="trained on a different base model"):
        CrisisProbe.load(other)
    other.write_text('{"format": "something-else"}')
    with pytest.raises(UserError, match="not a crisis probe"):
        CrisisProbe.load(other)
    with pytest.raises(UserError, match="crisis probe file not found"):
        CrisisProbe.load(tmp_path / "missing.json")


def test_screen_asks_the_probe_only_when_keywords_find_nothing() -> None:
    class Counting:
        calls = 0

        def flags(self, text: str) -> tuple[bool, float]:
            Counting.calls += 1
            return False, 0.01

    assert screen("I want to die", probe=Counting()) == Screen(True, ("want to die",))
    assert Counting.calls == 0
    assert screen("My boss shouted at me", probe=Counting()) == Screen(False, ())
    assert Counting.calls == 1


def test_bad_phrase_file_and_target(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="phrase file not found"):
        read_phrases(tmp_path / "none.txt")
    with pytest.raises(UserError, match="--target-recall"):
        main(["--crisis", "a", "--ordinary", "b", "--target-recall", "1.0"])
    with pytest.raises(UserError, match="no training texts"):
        main(["--train", str(tmp_path)])
    with pytest.raises(UserError, match="folder not found"):
        main(["--train", str(tmp_path / "none")])
