"""cbt-eval teacher against the loopback Claude with scripted labels: metrics by hand, cost,
repair, self-consistency, resume, the cost ceiling and bad input."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from cbt_datagen.worklog import LoggedReply
from cbt_eval.cli import _main
from cbt_eval.external import LabelMapping, load_labelled
from cbt_schema import UserError
from cbt_schema.errors import run_cli
from cbt_testing.teacher_servers.anthropic_server import AnthropicServer
from cbt_testing.teacher_servers.helpers import servers, write_params
from cbt_testing.teacher_servers.replies import Fault, LabelOracle

ROOT = Path(__file__).resolve().parents[3]
KEY = "test-key-not-a-secret-0123456789"
A, B, C = "all_or_nothing", "labeling", "magnification"
# text -> (gold labels in the file, what the scripted teacher names)
CASES = {
    "I failed the test so I am a total failure at everything.": ("all_or_nothing", [A]),
    "My friend did not call back, she must hate me now.": ("labeling", [A]),
    "The meeting went badly but I can learn from it.": ("none", [C]),
    "One mistake means I am stupid, I always ruin it.": ("all_or_nothing;labeling", [A, B]),
}


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    yield from servers(AnthropicServer, api_key=KEY)


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "labelled.csv").write_text("text,label\n" + "".join(
        f'"{text}",{gold}\n' for text, (gold, _) in CASES.items()))
    (tmp_path / "mapping.yaml").write_text("labels:\n  none: none\n")
    return tmp_path


def audit(tmp: Path, url: str, *extra: str, **teacher) -> tuple[int, dict | None]:
    write_params(tmp / "params.yaml", ROOT / "prompts", url, **teacher)
    out = tmp / "audit.json"
    out.unlink(missing_ok=True)
    code = run_cli("cbt-eval", _main, [
        "teacher", "--file", "labelled.csv", "--text-col", "text", "--labels-col", "label",
        "--mapping", "mapping.yaml", "--out", str(out), "--no-progress", *extra])
    return code, json.loads(out.read_text()) if out.exists() else None


def oracle(flip: float = 0.0) -> LabelOracle:
    return LabelOracle({text: named for text, (_, named) in CASES.items()}, flip=flip)


def first_reply_breaks_schema():
    lock, hit = threading.Lock(), []

    def plan(request_id: str, seen: int):
        with lock:
            if not hit:
                hit.append(request_id)
                return Fault.SCHEMA
        return None

    return plan


def test_scores_by_hand_with_cost_and_repairs(server, files: Path) -> None:
    s = server(responder=oracle(), faults=first_reply_breaks_schema())
    code, report = audit(files, s.url)
    assert code == 0
    m = report["metrics"]
    # by hand: TP a(1), a(4), b(4); FP a(2), c(3); FN b(2)
    assert m["micro_precision"] == pytest.approx(3 / 5) and m["micro_recall"] == 0.75
    assert m["micro_f1"] == pytest.approx(2 / 3)
    # a: P 2/3 R 1 F 0.8; b: P 1 R 1/2 F 2/3; c: F 0 -> macro over a, b, c
    assert m["per_class"][A]["f1"] == pytest.approx(0.8)
    assert m["macro_f1"] == pytest.approx((0.8 + 2 / 3 + 0) / 3)
    assert m["weighted_f1"] == pytest.approx((0.8 * 2 + 2 / 3 * 2) / 4)
    # the binary task: text 3 is the one gold negative, called distorted: P 3/4, R 1
    assert m["binary_f1"] == pytest.approx(6 / 7) and m["exact_set_accuracy"] == 0.5
    assert set(m["ci"]) >= {"micro_f1", "macro_f1", "weighted_f1", "binary_f1"}
    low, high = m["ci"]["micro_f1"]
    assert low <= m["micro_f1"] <= high and low < high
    assert report["texts"] == {"in_file": 4, "audited": 4, "scored": 4, "not_asked": 0,
                               "without_valid_reply": 0}
    assert report["replies"]["repaired_share"] == 0.25
    assert report["replies"]["quarantined_share"] == 0.0
    logged = [LoggedReply.model_validate_json(x) for x in
              (files / ".cache/datagen/teacher-audit.jsonl").read_text().splitlines()]
    assert len(logged) == 5  # four texts and one repair, every one paid and logged
    assert report["cost"]["usd"] == pytest.approx(sum(r.cost_usd for r in logged), abs=1e-6)
    assert report["cost"]["usd"] > 0 and report["cost"]["requests_per_second"] > 0
    assert report["cost"]["tokens"]["output"] == sum(r.usage.output_tokens for r in logged)
    assert report["teacher"]["model"] == "claude-haiku-5-5"
    # side by side: the row carries these figures, the plot one row per metric
    assert run_cli("cbt-eval", _main, ["teachers-report", "audit.json", "--out", "t.md",
                                       "--plot", "t.json"]) == 0
    row = next(x for x in (files / "t.md").read_text().splitlines()
               if x.startswith("| anthropic:claude-haiku-5-5"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1:4] == ["labelled.csv", "4", _with_ci(m, "micro_f1")]
    assert cells[-2:] == ["25%", "0%"]
    plot = json.loads((files / "t.json").read_text())
    assert {p["metric"]: p["value"] for p in plot}["weighted_f1"] == round(m["weighted_f1"], 4)


def _with_ci(m: dict, key: str) -> str:
    low, high = m["ci"][key]
    return f"{m[key]:.3f} [{low:.2f}, {high:.2f}]"


def test_samples_merge_by_majority_with_kappa_and_resume_pays_nothing(server, files) -> None:
    s = server(responder=oracle(flip=0.1))
    code, report = audit(files, s.url, "--samples", "5")
    assert code == 0
    c = report["consensus"]
    assert c["samples"] == 5 and c["events"] == 4 and c["events_with_all_samples"] == 4
    assert c["fleiss_kappa"] is not None and c["fleiss_kappa"] < 1
    assert report["replies"]["requested"] == 20
    seen, cost = len(s.seen), report["cost"]["usd"]
    code, again = audit(files, s.url, "--samples", "5")
    assert code == 0 and len(s.seen) == seen  # resumed from the log: nothing asked again
    assert again["cost"]["this_run_usd"] == 0 and again["cost"]["usd"] == cost
    assert again["metrics"] == report["metrics"]


def test_cost_ceiling_stops_cleanly_and_resumes(server, files: Path) -> None:
    s = server(responder=oracle())
    # Haiku's table price; one request's worst case is about $0.0015 (its prompt at the
    # cache-write rate, 1500 output tokens), the first real one about $0.0007 (a cache write):
    # the ceiling covers the first, not a second on top of it
    ceiling = 0.002
    code, report = audit(files, s.url, "--max-dollars", str(ceiling))
    assert code == 0 and report["stopped"].startswith("cost ceiling $0.002")
    scored = report["texts"]["scored"]
    assert 1 <= scored < 4 and report["texts"]["not_asked"] == 4 - scored
    assert report["cost"]["this_run_usd"] <= ceiling
    assert report["budget"]["spent_usd"] + report["budget"]["next_request_worst_case_usd"] \
        > ceiling  # it stopped only when the next request might not have fitted
    logged = [LoggedReply.model_validate_json(x) for x in
              (files / ".cache/datagen/teacher-audit.jsonl").read_text().splitlines()]
    assert len(logged) == scored == len({x.request_id for x in s.seen})  # nothing more sent
    code, rest = audit(files, s.url, "--max-dollars", "5")
    assert code == 0 and rest["stopped"] is None and rest["texts"]["scored"] == 4
    assert len({x.request_id for x in s.seen}) == 4  # the paid ones were not asked again
    assert rest["cost"]["this_run_usd"] < rest["cost"]["usd"]


def test_ceiling_below_one_request_is_one_line_and_sends_nothing(server, files, capsys) -> None:
    s = server(responder=oracle())
    code, report = audit(files, s.url, "--max-dollars", "0.0001")
    assert code == 2 and report is None and s.seen == []
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "raise --max-dollars" in err[0]


def test_bad_input_is_one_line(server, files: Path, capsys) -> None:
    s = server(responder=oracle())
    (files / "unlabelled.csv").write_text('text,label\n"a text",\n"another",\n')
    write_params(files / "params.yaml", ROOT / "prompts", s.url)
    base = ["teacher", "--text-col", "text", "--labels-col", "label", "--no-progress"]
    assert run_cli("cbt-eval", _main, [*base, "--file", "unlabelled.csv"]) == 2
    assert "no gold labels: 'label' empty in every one of 2 rows" in capsys.readouterr().err
    # a label the mapping does not know: the same error as cbt-eval external
    (files / "odd.csv").write_text('text,label\n"a text",Wishful thinking\n')
    assert run_cli("cbt-eval", _main, [*base, "--file", "odd.csv"]) == 2
    with pytest.raises(UserError) as exc:
        load_labelled(Path("odd.csv"), "text", ["label"], LabelMapping.load(None))
    assert str(exc.value) in capsys.readouterr().err
    assert run_cli("cbt-eval", _main, [*base, "--file", "labelled.csv", "--mapping",
                                       "mapping.yaml", "--samples", "0"]) == 2
    assert "teacher.samples" in capsys.readouterr().err
    assert s.seen == []


def test_an_import_source_has_no_teacher_to_audit(server, files: Path, capsys) -> None:
    s = server(responder=oracle())
    (files / "pairs.csv").write_text("situation,analysis\n")
    code, report = audit(files, s.url, provider="file",
                         file={"path": "pairs.csv", "columns": {"situation": "situation",
                                                                "assessment": "analysis"}})
    assert code == 2 and report is None and s.seen == []
    assert "params.yaml: teacher.provider: 'file' imports answers, there is no teacher to " \
           "audit; pass --provider (local, anthropic, anthropic-batch, openai-compatible)" \
           in capsys.readouterr().err


@pytest.mark.slow
def test_local_teacher_on_a_small_file(files: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real local teacher (SmolLM2-135M: a machinery check, not a judge of quality)."""
    import shutil

    import yaml

    from cbt_datagen.consensus import merge_labels
    from cbt_datagen.tasks.assessments import split_item_id
    from cbt_datagen.validate import extract_json
    from cbt_eval.metrics import score
    from cbt_schema.params import load_params

    base_model = pytest.importorskip("cbt_train.base_model")
    model_dir = base_model.cached_base_model(load_params(ROOT / "params.yaml").base_model)
    monkeypatch.setenv("CBT_LOCAL_MODEL_DIR", str(model_dir))
    shutil.copytree(ROOT / "prompts", files / "prompts")
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["assessments"]["max_tokens"] = 300  # shorter replies: a quicker test on 2 cores
    (files / "params.yaml").write_text(yaml.safe_dump(params))
    out = files / "local.json"
    assert run_cli("cbt-eval", _main, [
        "teacher", "--file", "labelled.csv", "--text-col", "text", "--labels-col", "label",
        "--mapping", "mapping.yaml", "--limit", "1", "--samples", "2", "--out", str(out),
        "--no-progress"]) == 0
    report = json.loads(out.read_text())
    assert report["teacher"]["provider"] == "local" and report["cost"]["usd"] == 0
    assert report["texts"]["scored"] == 1 and report["replies"]["requested"] == 2
    assert report["consensus"]["samples"] == 2
    # the score is that of exactly the logged replies, merged (1 of 2 is no majority)
    samples: dict[str, list[frozenset[str]]] = {}
    for line in (files / ".cache/datagen/teacher-audit.jsonl").read_text().splitlines():
        entry = LoggedReply.model_validate_json(line)
        if entry.valid:
            findings = json.loads(extract_json(entry.raw))["findings"]
            samples.setdefault(split_item_id(entry.item_id)[0], []).append(
                frozenset(f["distortion"] for f in findings))
    data = load_labelled(files / "labelled.csv", "text", ["label"],
                         LabelMapping.load(files / "mapping.yaml"))
    from cbt_eval.teacher_audit import LABELS, text_id

    preds = [merge_labels(samples.get(text_id(t), []), 0.5) for t in data.texts[:1]]
    expected = score(data.gold[:1], preds, LABELS)
    assert report["metrics"]["micro_f1"] == expected["micro_f1"]
    assert report["metrics"]["per_class"] == expected["per_class"]


@pytest.mark.parametrize("provider", ["anthropic-batch", "openai-compatible"])
def test_every_hosted_provider_scores_the_same(files: Path, monkeypatch, provider) -> None:
    """The batch API and an OpenAI-compatible server give the hand-computed figures too."""
    from cbt_testing.teacher_servers.openai_server import OpenAIServer

    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("CBT_BATCH_POLL_S", "0.05")
    if provider == "openai-compatible":
        s = OpenAIServer(responder=oracle()).start()
        url, teacher = s.url + "/v1", {"provider": provider, "model": "local-model"}
    else:
        s = AnthropicServer(responder=oracle()).start()
        url, teacher = s.url, {"provider": provider}
    try:
        code, report = audit(files, url, **teacher)
    finally:
        s.stop()
    assert code == 0 and report["teacher"]["provider"] == provider
    assert report["metrics"]["micro_f1"] == pytest.approx(2 / 3)
    assert report["metrics"]["binary_f1"] == pytest.approx(6 / 7)
    assert report["texts"]["scored"] == 4
