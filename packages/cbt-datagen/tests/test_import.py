"""teacher.provider: file: existing pairs in four layouts through events, assessments and
dataset, verbatim and rendered targets, and every kind of bad input the import rejects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from cbt_datagen.cli import _main
from cbt_schema import AssessmentRecord, ChatExample, Event, QuarantinedReply
from cbt_schema.errors import run_cli
from cbt_schema.jsonl import read_jsonl
from cbt_testing.import_files import pair_rows, write_pairs

COLUMNS = {"situation": "situation", "assessment": "analysis", "id": "id",
           "emotion": "emotion", "age": "age"}


def _params(tmp: Path, source: Path, columns: dict | None = None, target: str = "verbatim",
            **file: object) -> Path:
    (tmp / "system.txt").write_text("You help people notice unhelpful thinking.\n")
    params = {"teacher": {"provider": "file", "max_quarantined_fraction": 0.3,
                          "file": {"path": str(source), "columns": columns or COLUMNS, **file}},
              "dataset": {"system_prompt": str(tmp / "system.txt"), "tokenizer": None,
                          "test_size": 0.25, "target": target}}
    (tmp / "params.yaml").write_text(yaml.safe_dump(params))
    (tmp / "seeds.jsonl").write_text("")
    return tmp / "params.yaml"


def _run(tmp: Path, stage: str) -> int:
    g = tmp / "generated"
    argv = {"events": ["events", "--seeds", str(tmp / "seeds.jsonl"),
                       "--out", str(g / "events.jsonl"),
                       "--quarantine", str(g / "events.quarantine.jsonl"),
                       "--metrics", str(tmp / "metrics/datagen_events.json")],
            "assessments": ["assessments", "--events", str(g / "events.jsonl"),
                            "--out", str(g / "assessments.jsonl"),
                            "--quarantine", str(g / "assessments.quarantine.jsonl"),
                            "--metrics", str(tmp / "metrics/datagen.json"),
                            "--earlier-metrics", str(tmp / "metrics/datagen_events.json")],
            "dataset": ["--seeds", str(tmp / "seeds.jsonl"),
                        "--events", str(g / "events.jsonl"),
                        "--assessments", str(g / "assessments.jsonl"),
                        "--out", str(tmp / "splits"), "--metrics", str(tmp / "metrics/data.json"),
                        "--plots", str(tmp / "plots"), "--no-figure"]}[stage]
    if stage == "dataset":  # the next stage is cbt-dataset's
        from cbt_dataset.cli import _main as dataset_main

        return run_cli("cbt-dataset", dataset_main, [*argv, "--params",
                                                     str(tmp / "params.yaml")])
    return run_cli("cbt-datagen", _main, [*argv, "--params", str(tmp / "params.yaml"),
                                          "--no-progress"])


def _error_line(err: str) -> str:
    """The one error line (a warning about a source outside data/import/ may precede it)."""
    lines = [line for line in err.splitlines() if line.startswith("cbt-datagen: error:")]
    assert len(lines) == 1, err
    return lines[0]


def _import(tmp: Path) -> tuple[int, int]:
    return _run(tmp, "events"), _run(tmp, "assessments")


@pytest.mark.parametrize("fmt,name", [("csv", "pairs.csv"), ("jsonl", "pairs.jsonl"),
                                      ("parquet", "pairs.parquet"), ("datasets", "saved")])
def test_every_layout_imports_the_same_records(tmp_path: Path, fmt: str, name: str) -> None:
    if fmt in ("parquet", "datasets"):
        pytest.importorskip("pyarrow")
    rows = pair_rows(20, seed=1)
    source = write_pairs(tmp_path / "data" / name, rows, fmt)
    _params(tmp_path, source)
    assert _import(tmp_path) == (0, 0)
    events = read_jsonl(tmp_path / "generated/events.jsonl", Event)
    records = read_jsonl(tmp_path / "generated/assessments.jsonl", AssessmentRecord)
    assert [e.situation for e in events] == [r["situation"] for r in rows]  # multi-line kept
    assert [r.verbatim for r in records] == [r["analysis"] for r in rows]
    assert [r.assessment is not None for r in records] == [i % 5 != 4 for i in range(20)]
    first = events[0]
    assert first.seed is not None and (first.seed.emotion, first.seed.age) == ("anxious", 20)
    assert first.seed.sex == "unknown" and first.provenance.row == 1
    assert first.provenance.columns == COLUMNS and len(first.provenance.sha256) == 64
    parse = json.loads((tmp_path / "metrics/datagen.json").read_text())["assessments"]["parse"]
    assert (parse["read"], parse["unread"], parse["share_read"]) == (16, 4, 0.8)


def test_nested_chat_columns_by_dotted_path(tmp_path: Path) -> None:
    rows = pair_rows(8, seed=2)
    source = write_pairs(tmp_path / "chat.jsonl", rows, "jsonl")
    _params(tmp_path, source, {"situation": "messages.0.content",
                               "assessment": "messages.1.content"})
    assert _import(tmp_path) == (0, 0)
    records = read_jsonl(tmp_path / "generated/assessments.jsonl", AssessmentRecord)
    assert [r.verbatim for r in records] == [r["analysis"] for r in rows]


def test_verbatim_target_trains_on_the_text_and_tests_only_labelled(tmp_path: Path) -> None:
    rows = pair_rows(40, seed=3)
    _params(tmp_path, write_pairs(tmp_path / "p.csv", rows, "csv"), target="verbatim")
    assert _import(tmp_path) == (0, 0)
    assert _run(tmp_path, "dataset") == 0
    train = read_jsonl(tmp_path / "splits/train.jsonl", ChatExample)
    test = read_jsonl(tmp_path / "splits/test.jsonl", ChatExample)
    by_text = {r["situation"]: r["analysis"] for r in rows}
    assert len(train) + len(test) == 40 and len(test) == 10
    for ex in train + test:
        assert ex.messages[-1].content == by_text[ex.messages[1].content]
    assert all(ex.labelled for ex in test)  # nothing unscorable in the test split
    assert sum(not ex.labelled for ex in train) == 8
    assert all(ex.distortions for ex in test)
    metrics = json.loads((tmp_path / "metrics/data.json").read_text())
    assert metrics["target"] == "verbatim" and metrics["split"]["train_only_unlabelled"] == 8
    assert metrics["diversity"]["unlabelled"] == 8


def test_rendered_target_leaves_out_unread_and_lists_them(tmp_path: Path) -> None:
    _params(tmp_path, write_pairs(tmp_path / "p.csv", pair_rows(40, seed=3), "csv"),
            target="rendered")
    assert _import(tmp_path) == (0, 0)
    assert _run(tmp_path, "dataset") == 0
    report = json.loads((tmp_path / "splits/report.json").read_text())
    assert sum(e["reason"] == "assessment_unread" for e in report["excluded"]) == 8
    examples = (read_jsonl(tmp_path / "splits/train.jsonl", ChatExample)
                + read_jsonl(tmp_path / "splits/test.jsonl", ChatExample))
    assert len(examples) == 32 and all(ex.labelled for ex in examples)


def test_bad_rows_are_quarantined_with_reason_and_row(tmp_path: Path) -> None:
    rows = pair_rows(20, seed=4)
    rows[1]["situation"] = "   "
    rows[3]["analysis"] = "x" * 1200
    rows[5]["age"] = 16
    rows[7]["id"] = "r6"
    rows[9]["situation"] = rows[8]["situation"]  # a repeated scenario: reported, kept
    source = write_pairs(tmp_path / "p.csv", rows, "csv")
    raw = source.read_bytes().replace(b"Row 10:", b"Row \xff\xfe 10:")  # not UTF-8
    source.write_bytes(raw)
    _params(tmp_path, source, max_chars=1000)
    assert _import(tmp_path) == (0, 0)
    bad = read_jsonl(tmp_path / "generated/events.quarantine.jsonl", QuarantinedReply)
    assert {q.item_id: q.errors[0] for q in bad} == {
        "row 2": "row 2: situation is empty",
        "row 4": "row 4: assessment: 1200 characters, more than teacher.file.max_chars (1000)",
        "row 6": "row 6: age '16' is not a whole number from 18 to 120",
        "row 8": "row 8: id 'r6' is also row 7's",
        "row 11": "row 11: situation: not UTF-8 text"}
    assert "\\udcff" in next(q.raw for q in bad if q.item_id == "row 11")
    report = json.loads((tmp_path / "metrics/datagen_events.json").read_text())["events"]
    assert report["import"]["quarantined_by_reason"] == {
        "bad_age": 1, "duplicate_id": 1, "empty": 1, "not_utf8": 1, "too_long": 1}
    assert report["import"]["duplicate_rows"] == [{"row": 10, "same_as_row": 9}]
    assert len(read_jsonl(tmp_path / "generated/events.jsonl", Event)) == 15


def test_too_many_rejected_fails_the_stage(tmp_path: Path, capsys) -> None:
    rows = pair_rows(10, seed=5)
    for row in rows[:4]:
        row["analysis"] = ""
    _params(tmp_path, write_pairs(tmp_path / "p.jsonl", rows, "jsonl"))
    assert _run(tmp_path, "events") == 1
    assert "4 of 10 rows" in capsys.readouterr().err
    assert len(read_jsonl(tmp_path / "generated/events.quarantine.jsonl",
                          QuarantinedReply)) == 4  # written before failing


def test_missing_column_names_it_and_the_columns(tmp_path: Path, capsys) -> None:
    _params(tmp_path, write_pairs(tmp_path / "p.csv", pair_rows(3), "csv"),
            {"situation": "scenario", "assessment": "analysis"})
    assert _run(tmp_path, "events") == 2
    err = _error_line(capsys.readouterr().err)
    assert "teacher.file.columns.situation: no column 'scenario'" in err
    assert "(columns: id, situation, analysis, emotion, age)" in err


@pytest.mark.parametrize("name,content,says", [
    ("p.jsonl", b"id,situation\n1,a\n", "not a JSONL file: line 1 is not JSON"),
    ("p.csv", b"PAR1\x00\x00binary", "not a CSV file: it starts like a Parquet file"),
    ("p.parquet", b"id,situation\n1,a\n", "not a Parquet file"),
    ("p.xlsx", b"whatever", "cannot tell the format from the extension '.xlsx'"),
])
def test_a_file_not_in_its_format_is_one_line(tmp_path: Path, capsys, name, content,
                                              says) -> None:
    if name.endswith(".parquet"):
        pytest.importorskip("pyarrow")
    (tmp_path / name).write_bytes(content)
    _params(tmp_path, tmp_path / name)
    assert _run(tmp_path, "events") == 2
    assert says in _error_line(capsys.readouterr().err)


def test_a_changed_file_between_stages_is_refused(tmp_path: Path, capsys) -> None:
    source = write_pairs(tmp_path / "p.csv", pair_rows(6), "csv")
    _params(tmp_path, source)
    assert _run(tmp_path, "events") == 0
    write_pairs(source, pair_rows(6, seed=9), "csv")
    assert _run(tmp_path, "assessments") == 2
    assert "dvc repro events" in capsys.readouterr().err


def test_a_datasetdict_split_is_chosen_or_named(tmp_path: Path, capsys) -> None:
    datasets = pytest.importorskip("datasets")
    rows = pair_rows(6)
    folder = tmp_path / "saved"
    datasets.DatasetDict({"train": datasets.Dataset.from_list(rows[:4]),
                          "test": datasets.Dataset.from_list(rows[4:])}).save_to_disk(folder)
    _params(tmp_path, folder, split="test")
    assert _run(tmp_path, "events") == 0
    events = read_jsonl(tmp_path / "generated/events.jsonl", Event)
    assert [e.situation for e in events] == [r["situation"] for r in rows[4:]]
    _params(tmp_path, folder, split="validation")
    assert _run(tmp_path, "events") == 2
    assert "'validation' is not one of this DatasetDict's splits: train, test" in _error_line(
        capsys.readouterr().err)


def test_a_json_array_file_reads_like_jsonl(tmp_path: Path, capsys) -> None:
    """A .json file holding one array of objects (as CBT-Bench ships its sets)."""
    rows = pair_rows(4)
    (tmp_path / "p.json").write_text(json.dumps(rows, indent=2) + "\n")
    assert run_cli("cbt-datagen", _main, ["columns", str(tmp_path / "p.json")]) == 0
    out = capsys.readouterr().out
    assert "  situation: " in out and "  analysis: " in out
    _params(tmp_path, tmp_path / "p.json")
    assert _run(tmp_path, "events") == 0
    events = read_jsonl(tmp_path / "generated/events.jsonl", Event)
    assert [e.situation for e in events] == [r["situation"].strip() for r in rows]
    (tmp_path / "p.json").write_text('[{"situation": "cut short"')
    assert _run(tmp_path, "events") == 2
    assert "p.json: not valid JSON" in _error_line(capsys.readouterr().err)


@pytest.mark.parametrize("where", ["before", "after"])
def test_quiet_keeps_the_warning_and_drops_the_info_line(tmp_path: Path, capsys,
                                                         where: str) -> None:
    """-q before or after the subcommand's name: warnings stay on stderr, info lines go."""
    rows = pair_rows(6, seed=2)
    rows[5]["situation"] = rows[4]["situation"]
    _params(tmp_path, write_pairs(tmp_path / "p.csv", rows, "csv"))  # outside data/import
    outside = (f"cbt-datagen import: {tmp_path / 'p.csv'} is outside data/import/, so `dvc "
               "repro` will not notice when it changes; put it (or a `dvc add`-ed copy) under "
               "data/import/\n")
    repeats = ("cbt-datagen import: 1 row repeats an earlier row's situation (row 6 = row 5); "
               "the dataset stage drops them\n")
    assert _run(tmp_path, "events") == 0
    said = capsys.readouterr()
    assert said.err == outside + repeats and said.out.startswith("import: 6 of 6 rows")
    argv = ["events", "--seeds", str(tmp_path / "seeds.jsonl"),
            "--params", str(tmp_path / "params.yaml"), "--no-progress",
            "--out", str(tmp_path / "e.jsonl"), "--quarantine", str(tmp_path / "q.jsonl"),
            "--metrics", str(tmp_path / "m.json")]
    argv = ["-q", *argv] if where == "before" else [*argv, "-q"]
    assert run_cli("cbt-datagen", _main, argv) == 0
    assert capsys.readouterr().err == outside
