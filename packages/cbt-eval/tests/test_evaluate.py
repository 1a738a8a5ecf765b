"""The evaluate command end to end on the real SmolLM2 base (slow) and its input errors."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from cbt_eval.cli import _main
from cbt_schema import (
    Assessment,
    ChatExample,
    ChatMessage,
    Distortion,
    Finding,
    UserError,
    render_assessment,
)
from cbt_schema.jsonl import write_jsonl

SITUATIONS = ["My friend cancelled our plans last minute. Nobody ever wants to see me.",
              "I got 80% on my exam. Anything below perfect means I'm stupid."]


def _examples() -> list[ChatExample]:
    out = []
    for i, (text, d) in enumerate(zip(SITUATIONS, [Distortion.OVERGENERALIZATION,
                                                  Distortion.ALL_OR_NOTHING], strict=True)):
        answer = render_assessment(Assessment(
            validation="That sounds painful.", closing="Be gentle with yourself.",
            findings=[Finding(distortion=d, thought=text.split(". ")[1], challenge="Check it.")]))
        out.append(ChatExample(id=f"t{i}", distortions=[d], messages=[
            ChatMessage(role="system", content="You spot thought distortions."),
            ChatMessage(role="user", content=text),
            ChatMessage(role="assistant", content=answer)]))
    return out


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "params.yaml").write_text(
        "evaluate:\n  max_new_tokens: 24\n  batch_size: 2\n  bootstrap: 50\n")
    write_jsonl(tmp_path / "test.jsonl", _examples())
    return tmp_path


@pytest.mark.slow
def test_evaluate_writes_metrics_report_and_plots(project: Path) -> None:
    cbt_train = pytest.importorskip("cbt_train.base_model")
    base = cbt_train.cached_base_model()
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    # a LoRA with random (non-zero) B matrices changes the model: the student must differ
    # (seeded: the loss of an unseeded random adapter varied from run to run)
    torch.manual_seed(0)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(base),
                           LoraConfig(r=8, lora_alpha=64, target_modules=["q_proj", "v_proj"],
                                      task_type="CAUSAL_LM", init_lora_weights=False))
    model.save_pretrained(project / "adapter")
    code = _main(["evaluate", "--test", "test.jsonl", "--base", str(base), "--adapter",
                  "adapter", "--metrics", "m.json", "--report", "r.md", "--plots", "p"])
    assert code == 0
    metrics = json.loads((project / "m.json").read_text())
    assert metrics["n"] == 2
    for system in ("student", "baseline"):
        assert 0 <= metrics[system]["micro_f1"] <= 1
        loss = metrics[system]["test_loss"]
        assert metrics[system]["test_loss_all_tokens"] > 0  # the second definition (loss_on)
        # perplexity is reported while exp(loss) is meaningful (loss < 50), else left out
        assert loss > 0 and metrics[system].get("perplexity") == (
            pytest.approx(math.exp(loss)) if loss < 50 else None)
        assert set(metrics[system]["ci95"]) >= {"micro_f1", "macro_f1"}
        # every gold set names a distortion: the binary task cannot be measured here
        assert "binary_f1" not in metrics[system] and "binary_f1" not in metrics[system]["ci95"]
        margin = metrics[system]["margin_over_best_guesser"]
        best = metrics["reference"][margin["over"]]["macro_f1"]
        assert margin["macro_f1"] == pytest.approx(metrics[system].get("macro_f1", 0) - best)
    # the guessers on these two gold sets, by hand: all ten labels -> each gold label has
    # precision 1/2, recall 1 (F1 2/3), the eight others F1 0: macro F1 = 2 x 2/3 / 10
    assert metrics["reference"]["all_labels"]["macro_f1"] == pytest.approx(2 * (2 / 3) / 10)
    assert metrics["reference"]["most_frequent_k"]["k"] == 1
    # the adapter is applied to the student and only to the student
    assert abs(metrics["student"]["test_loss"] - metrics["baseline"]["test_loss"]) > 0.01
    report = (project / "r.md").read_text()
    assert "| micro F1 |" in report and "### Example 2" in report
    assert report.index("## Against trivial guessers") < report.index("| micro F1 |")
    assert "The student **" in report and "best trivial guesser" in report
    assert "Overgeneralization" in report
    assert (project / "p/per_class.csv").read_text().count("\n") == 1 + 2 * 10
    assert (project / "p/confusion.csv").exists()


def test_empty_split_and_missing_model_are_clear_errors(project: Path) -> None:
    (project / "empty.jsonl").write_text("")
    (project / "adapter").mkdir()
    with pytest.raises(UserError, match=r"models/nope: not found"):
        _main(["evaluate", "--test", "empty.jsonl", "--base", "models/nope",
               "--adapter", "adapter"])
    from cbt_eval.evaluate import load_test

    with pytest.raises(UserError, match=r"empty.jsonl: the test split is empty"):
        load_test(project / "empty.jsonl", None)
    with pytest.raises(UserError, match=r"--limit: must be at least 1"):
        _main(["evaluate", "--limit", "0"])


@pytest.mark.slow
def test_external_cli_scores_a_labelled_file(project: Path) -> None:
    cbt_train = pytest.importorskip("cbt_train.base_model")
    base = cbt_train.cached_base_model()
    (project / "adapter").mkdir()
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    get_peft_model(AutoModelForCausalLM.from_pretrained(base),
                   LoraConfig(r=2, target_modules=["q_proj"], task_type="CAUSAL_LM")
                   ).save_pretrained(project / "adapter")
    (project / "labelled.csv").write_text(
        "text,label\n"
        '"Everyone always ignores me at work.",Overgeneralization\n'
        '"They must think I am stupid.",Mind Reading\n'
        '"Lovely walk in the park today.",No Distortion\n'
        '"Whatever happens, happens.",Other\n')
    mapping = Path(__file__).resolve().parent.parent / "src/cbt_eval/mapping_template.yaml"
    code = _main(["external", "--file", "labelled.csv", "--text-col", "text", "--labels-col",
                  "label", "--mapping", str(mapping), "--base", str(base), "--adapter",
                  "adapter", "--out", "ext.json", "--baseline"])
    assert code == 0
    report = json.loads((project / "ext.json").read_text())
    assert report["n"] == 3
    assert report["data"]["dropped_labels"] == {"Other": 1}
    assert report["data"]["excluded_rows_without_known_label"] == 1
    for system in ("student", "baseline"):
        assert report[system]["n"] == 3 and 0 <= report[system]["binary_f1"] <= 1
        assert report[system]["margin"]["over"] in report["reference"]
    # gold: {overgeneralization}, {mind_reading}, {} -> calling all distorted: P 2/3, R 1
    assert report["reference"]["always_distorted"]["binary_f1"] == pytest.approx(0.8)
    assert report["reference"]["k"] == 1
