"""`cbt-dataset` end to end: outputs, exclusions, errors, determinism, load_dataset."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cbt_dataset.cli import _main
from cbt_schema import ChatExample, render_assessment
from cbt_schema.errors import run_cli
from cbt_schema.jsonl import read_jsonl, write_jsonl
from cbt_testing.synthetic import synthesize

SYSTEM = "You help people notice unhelpful thinking patterns."


def _setup(tmp_path: Path, data, **dataset: object) -> Path:
    (tmp_path / "system.txt").write_text(SYSTEM + "\n")
    params = {"system_prompt": str(tmp_path / "system.txt"), "tokenizer": None,
              "test_size": 0.25, **dataset}
    (tmp_path / "params.yaml").write_text(json.dumps({"dataset": params,
                                                       "train": {"max_length": 64}}))
    write_jsonl(tmp_path / "seeds.jsonl", data.seeds)
    write_jsonl(tmp_path / "events.jsonl", data.events)
    write_jsonl(tmp_path / "assessments.jsonl", data.assessments)
    return tmp_path


def _run(tmp: Path, *extra: str) -> int:
    argv = ["--params", str(tmp / "params.yaml"), "--seeds", str(tmp / "seeds.jsonl"),
            "--events", str(tmp / "events.jsonl"), "--assessments",
            str(tmp / "assessments.jsonl"), "--out", str(tmp / "splits"), "--metrics",
            str(tmp / "metrics/data.json"), "--plots", str(tmp / "plots"), "--no-progress",
            *extra]
    return run_cli("cbt-dataset", _main, argv)


def test_writes_splits_report_metrics_plots_and_figure(tmp_path: Path) -> None:
    data = synthesize(120, seed=2, near=6, exact=2)
    tmp = _setup(tmp_path, data)
    assert _run(tmp) == 0
    train = read_jsonl(tmp / "splits/train.jsonl", ChatExample)
    test = read_jsonl(tmp / "splits/test.jsonl", ChatExample)
    assert (len(train), len(test)) == (84, 28)  # 120 - 8 duplicates, a quarter held out
    by_event = {r.event_id: r for r in data.assessments}
    events = {e.id: e for e in data.events}
    for ex in train + test:
        assert [m.role for m in ex.messages] == ["system", "user", "assistant"]
        assert ex.messages[0].content == SYSTEM
        assert ex.messages[1].content == events[ex.id].text
        assert ex.messages[2].content == render_assessment(by_event[ex.id].assessment)
    metrics = json.loads((tmp / "metrics/data.json").read_text())
    assert metrics["duplicates"] | {"exact": 2, "near_records": 6, "dropped": 8, "kept": 112} \
        == metrics["duplicates"]
    assert metrics["split"]["near_duplicate_pairs_across"] == 0
    assert metrics["tokens"]["counted"] is False
    assert metrics["diversity"]["emotions"] == 12
    report = json.loads((tmp / "splits/report.json").read_text())
    assert {copy: orig for orig, copy in data.exact_pairs + data.near_pairs} == {
        k: v["kept"] for k, v in report["dropped"].items()}
    for name in ("emotion", "sex", "age_band", "occupation", "relationship_status",
                 "distortion", "cooccurrence", "findings_per_assessment", "event_words",
                 "assessment_words"):
        assert (tmp / "plots" / f"{name}.csv").stat().st_size > 0, name
    png = (tmp / "plots/summary.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 20_000


@pytest.mark.slow  # importing datasets takes ~10 s on the 2-core machine
def test_chat_jsonl_loads_with_datasets(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    tmp = _setup(tmp_path, synthesize(40, seed=4))
    assert _run(tmp, "--no-figure") == 0
    ds = datasets.load_dataset("json", data_files={"train": str(tmp / "splits/train.jsonl"),
                                                   "test": str(tmp / "splits/test.jsonl")},
                               cache_dir=str(tmp / "hf-cache"))
    assert (ds["train"].num_rows, ds["test"].num_rows) == (30, 10)
    row = ds["test"][0]
    assert [m["role"] for m in row["messages"]] == ["system", "user", "assistant"]
    assert set(ds["train"].column_names) == {"id", "messages", "emotion", "distortions",
                                             "labelled"}


def test_records_missing_a_part_are_excluded_and_listed(tmp_path: Path, capsys) -> None:
    data = synthesize(60, seed=6)
    data.assessments[:] = [r for r in data.assessments if r.event_id != "event-0000003"]
    orphan = data.assessments[0].model_copy(update={"id": "orphan", "event_id": "nope"})
    data.assessments.append(orphan)
    data.seeds[:] = [s for s in data.seeds if s.id != "seed-0000005"]
    tmp = _setup(tmp_path, data)
    assert _run(tmp, "--no-figure") == 0
    metrics = json.loads((tmp / "metrics/data.json").read_text())["records"]
    assert metrics["excluded_by_reason"] == {"assessment_without_event": 1,
                                             "event_without_assessment": 1,
                                             "event_without_seed": 1}
    assert metrics["joined"] == 58
    excluded = json.loads((tmp / "splits/report.json").read_text())["excluded"]
    assert {(e["id"], e["reason"]) for e in excluded} == {
        ("orphan", "assessment_without_event"), ("event-0000003", "event_without_assessment"),
        ("event-0000005", "event_without_seed")}
    assert "excluded 3 records" in capsys.readouterr().err


def test_same_inputs_give_byte_identical_outputs(tmp_path: Path) -> None:
    data = synthesize(80, seed=8, near=4)
    a, b = tmp_path / "a", tmp_path / "b"
    for tmp in (a, b):
        tmp.mkdir()
        assert _run(_setup(tmp, data), "--no-figure") == 0
    for name in ("train.jsonl", "test.jsonl", "report.json", "lengths.csv"):
        assert (a / "splits" / name).read_bytes() == (b / "splits" / name).read_bytes()


@pytest.mark.parametrize(("change", "expected"), [
    ("empty_events", "events.jsonl: no records (the file is empty)"),
    ("no_join", "events.jsonl: no event joins both a seed in "),
    ("too_many_out", "events.jsonl: 30 of 40 events lack a seed or an assessment, more than "
                     "dataset.max_excluded_fraction (0.5)"),
    ("test_too_big", "params.yaml: dataset.test_size: 40 test records leave none for "
                     "training; only 40 records remain"),
    ("fractional_count", "params.yaml: dataset.test_size: Value error, a test size of 1 or "
                         "more is a count of records and must be whole"),
    ("no_prompt", "system.txt: system prompt file not found"),
    ("bad_line", "assessments.jsonl:2: not valid JSON"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path: Path, capsys, change: str,
                                                         expected: str) -> None:
    data = synthesize(40, seed=9)
    dataset: dict[str, object] = {}
    if change == "no_join":
        data.seeds[:] = [s.model_copy(update={"id": s.id + "x"}) for s in data.seeds]
    if change == "too_many_out":
        del data.assessments[10:]
    if change == "test_too_big":
        dataset["test_size"] = 40
    if change == "fractional_count":
        dataset["test_size"] = 2.5
    tmp = _setup(tmp_path, data, **dataset)
    if change == "empty_events":
        (tmp / "events.jsonl").write_text("")
    if change == "no_prompt":
        (tmp / "system.txt").unlink()
    if change == "bad_line":
        lines = (tmp / "assessments.jsonl").read_text().splitlines()
        lines[1] = lines[1][:40]
        (tmp / "assessments.jsonl").write_text("\n".join(lines) + "\n")
    capsys.readouterr()
    assert _run(tmp) == 2
    err = capsys.readouterr().err
    assert err.startswith("cbt-dataset: error: ") and expected in err, err
    assert err.count("\n") == 1
    assert not (tmp / "splits").exists() and not (tmp / "metrics").exists()
