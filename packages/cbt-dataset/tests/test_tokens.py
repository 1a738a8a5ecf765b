"""Token counts with the student's tokenizer, and the note when there is none."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from cbt_dataset.cli import _main
from cbt_schema import ChatExample
from cbt_schema.errors import run_cli
from cbt_schema.jsonl import read_jsonl, write_jsonl
from cbt_testing.synthetic import synthesize

TEMPLATE = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
            "{% endfor %}")


def _run(tmp: Path, data, tokenizer: str | None, max_length: int = 64, status: int = 0) -> dict:
    (tmp / "system.txt").write_text("Spot thought distortions.\n")
    params = {"dataset": {"system_prompt": str(tmp / "system.txt"), "tokenizer": tokenizer},
              "train": {"max_length": max_length}}
    (tmp / "params.yaml").write_text(json.dumps(params))
    for name, records in (("seeds", data.seeds), ("events", data.events),
                          ("assessments", data.assessments)):
        write_jsonl(tmp / f"{name}.jsonl", records)
    argv = ["--params", str(tmp / "params.yaml"), "--no-figure", "--no-progress"]
    for name in ("seeds", "events", "assessments"):
        argv += [f"--{name}", str(tmp / f"{name}.jsonl")]
    argv += ["--out", str(tmp / "splits"), "--metrics", str(tmp / "data.json"),
             "--plots", str(tmp / "plots")]
    assert run_cli("cbt-dataset", _main, argv) == status
    return json.loads((tmp / "data.json").read_text()) if status == 0 else {}


def test_missing_tokenizer_stops_with_what_to_fetch(tmp_path: Path, capsys) -> None:
    _run(tmp_path, synthesize(20, seed=1), str(tmp_path / "models/base"), status=2)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "dataset.tokenizer: " in err
    assert "neither a folder nor a hub id in the local Hugging Face cache" in err
    assert "run `dvc repro base_model`" in err and not (tmp_path / "splits").exists()


def test_no_tokenizer_set_skips_the_counts(tmp_path: Path, capsys) -> None:
    metrics = _run(tmp_path, synthesize(20, seed=1), None)
    assert metrics["tokens"]["counted"] is False
    assert metrics["tokens"]["note"] == "skipped: dataset.tokenizer is not set"
    assert "token counts skipped" in capsys.readouterr().err
    with (tmp_path / "splits/lengths.csv").open() as fh:
        assert "tokens" not in next(csv.reader(fh))


@pytest.mark.slow  # importing transformers takes ~10 s here
def test_counts_with_a_real_tokenizer_and_flags_long_examples(tmp_path: Path) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    data = synthesize(40, seed=2)
    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    texts = [e.text for e in data.events]
    tok.train_from_iterator(texts, trainers.WordLevelTrainer(
        special_tokens=["<unk>", "<|im_start|>", "<|im_end|>"]))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>",
                                   bos_token="<|im_start|>", eos_token="<|im_end|>")
    fast.chat_template = TEMPLATE
    fast.save_pretrained(tmp_path / "tok")

    metrics = _run(tmp_path, data, str(tmp_path / "tok"), max_length=200)
    tokens = metrics["tokens"]
    assert tokens["counted"] is True and "its chat template" in tokens["note"]
    examples = (read_jsonl(tmp_path / "splits/train.jsonl", ChatExample)
                + read_jsonl(tmp_path / "splits/test.jsonl", ChatExample))
    loaded = AutoTokenizer.from_pretrained(tmp_path / "tok")
    expected = {ex.id: len(loaded.apply_chat_template(
        [m.model_dump() for m in ex.messages], tokenize=True)["input_ids"]) for ex in examples}
    with (tmp_path / "splits/lengths.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert {r["id"]: int(r["tokens"]) for r in rows} == expected
    counts = sorted(expected.values())
    assert (tokens["min"], tokens["max"]) == (counts[0], counts[-1])
    over = sorted(k for k, v in expected.items() if v > 200)
    assert 0 < len(over) < len(expected)  # the limit splits this data: the flag is tested
    assert tokens["over_max_length"] == len(over)
    report = json.loads((tmp_path / "splits/report.json").read_text())
    assert report["over_max_length"] == over


@pytest.mark.slow
def test_counts_with_the_student_tokenizer(tmp_path: Path) -> None:
    """The local student's own tokenizer (the pinned SmolLM2, built once per machine)."""
    base = pytest.importorskip("cbt_train.base_model").cached_base_model()
    metrics = _run(tmp_path, synthesize(20, seed=3), str(base), 1024)
    assert metrics["tokens"]["counted"] is True
    assert 100 < metrics["tokens"]["median"] < 1024
