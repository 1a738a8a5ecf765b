"""Teacher audit figures: how F1 and agreement (Fleiss' kappa) change with teacher.samples k.

  uv run python bench/bench_teacher_audit.py [--texts 60] [--flip 0.1] [--local-k 1 3]

Two teachers, each through `cbt-eval teacher` (the pipeline's assessment prompt and engine):
- the loopback Claude stand-in (Haiku 5.5 prices; SIMULATED): a labelled set of synthetic texts
  whose gold labels the stand-in knows, each of the ten labels flipped with chance --flip in
  every sample (cbt_testing.teacher_servers.replies.LabelOracle), k = 1, 3, 5;
- the local teacher (SmolLM2-135M-Instruct on this CPU: a machinery check, not a judge of
  quality) on the worksheet's five worked examples (prompts/assessment_examples.jsonl, gold:
  their own distortions; the local profile shows the teacher none of them, few_shot 0).
The k runs share one resume log, so k = 3 holds k = 1's sample and k = 5 holds k = 3's: the
rows differ only by the merge. Each audit report goes to reports/teachers/, the side-by-side
report to reports/teachers.md and plots/teachers.json, the figures to
bench/results/teacher_audit.json.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import sys
import tempfile
from pathlib import Path

from cbt_testing.bench import ROOT, write_results

REPORTS = ROOT / "reports/teachers"
KEEP = ("micro_f1", "macro_f1", "weighted_f1", "binary_f1", "mean_kappa", "exact_set_accuracy")


def synthetic_set(path: Path, n: int) -> dict[str, list[str]]:
    """n distinct texts; a fifth have no distortion, the rest one or two. Returns the gold."""
    from cbt_schema import Distortion
    from cbt_testing.teacher_servers.replies import event_reply

    labels = [d.value for d in Distortion]
    gold: dict[str, list[str]] = {}
    for i in range(n):
        draft = event_reply(f"Profile: 30, female, clerk {i}.\nEmotion: shame {i}.")
        text = f"{draft['situation']} {draft['reaction']} (entry {i})"
        h = int(hashlib.sha256(text.encode()).hexdigest(), 16)
        gold[text] = [] if i % 5 == 0 else sorted({labels[h % 10], labels[(h // 10) % 10]}
                                                   if h % 3 == 0 else {labels[h % 10]})
    _write(path, gold)
    return gold


def examples_set(path: Path) -> None:
    from cbt_datagen.prompts import FewShotExample
    from cbt_schema.jsonl import read_jsonl

    examples = read_jsonl(ROOT / "prompts/assessment_examples.jsonl", FewShotExample)
    _write(path, {f"{ex.event.situation} {ex.event.reaction}":
                  sorted(d.value for d in ex.assessment.distortions) for ex in examples})


def _write(path: Path, gold: dict[str, list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "label"])
        for text, labels in gold.items():
            writer.writerow([text, ";".join(labels) or "none"])


def audit(tmp: Path, params: Path, data: Path, name: str, label: str, *extra: str) -> dict:
    import json

    from cbt_eval.cli import _main
    from cbt_schema.errors import run_cli

    out = REPORTS / f"{name}.json"
    code = run_cli("cbt-eval", _main, [
        "teacher", "--params", str(params), "--file", str(data), "--text-col", "text",
        "--labels-col", "label", "--mapping", str(tmp / "mapping.yaml"), "--work-dir",
        str(tmp / "work"), "--label", label, "--out", str(out), "--no-progress", *extra])
    if code:
        sys.exit(f"cbt-eval teacher failed for {name}")
    report = json.loads(out.read_text())
    m = report["metrics"]
    return {**{k: m[k] for k in KEEP}, "ci": {k: m["ci"].get(k) for k in KEEP[:4]},
            "margin_macro_f1": m["margin"]["macro_f1"],
            "fleiss_kappa": (report["consensus"] or {}).get("fleiss_kappa"),
            "texts": report["texts"]["scored"], "requests": report["replies"]["requested"],
            "cost_usd": report["cost"]["usd"], "usd_per_text": report["cost"]["usd_per_text"],
            "wall_s": report["cost"]["wall_s"], "report": str(out.relative_to(ROOT))}


def stand_in(tmp: Path, n: int, flip: float) -> dict:
    from cbt_testing.teacher_servers.anthropic_server import AnthropicServer
    from cbt_testing.teacher_servers.helpers import write_params
    from cbt_testing.teacher_servers.replies import LabelOracle

    data = tmp / "synthetic.csv"
    gold = synthetic_set(data, n)
    os.environ.setdefault("ANTHROPIC_API_KEY", "bench-not-a-secret")
    with AnthropicServer(responder=LabelOracle(gold, flip=flip)) as server:
        params = write_params(tmp / "standin.yaml", Path("prompts"), server.url)
        return {str(k): audit(tmp, params, data, f"standin-k{k}",
                              f"stand-in Haiku 5.5, flip {flip} (simulated) k={k}",
                              "--samples", str(k)) for k in (1, 3, 5)}


def local(tmp: Path, ks: list[int]) -> dict:
    data = tmp / "examples.csv"
    examples_set(data)
    return {str(k): audit(tmp, ROOT / "params.yaml", data, f"local-k{k}",
                          f"local SmolLM2-135M (machinery check) k={k}", "--samples", str(k))
            for k in ks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=60)
    parser.add_argument("--flip", type=float, default=0.1)
    parser.add_argument("--local-k", type=int, nargs="*", default=[1, 3])
    args = parser.parse_args()
    from cbt_eval.teachers_report import write_report

    os.chdir(ROOT)  # the params' prompt paths are relative to the project

    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        (tmp / "mapping.yaml").write_text("labels:\n  none: none\n")
        results = {"stand_in": {"flip": args.flip, "texts": args.texts,
                                "by_k": stand_in(tmp, args.texts, args.flip)}}
        if args.local_k:
            if not os.environ.get("CBT_LOCAL_MODEL_DIR"):
                from cbt_schema.params import load_params
                from cbt_train.base_model import cached_base_model

                os.environ["CBT_LOCAL_MODEL_DIR"] = str(cached_base_model(
                    load_params(ROOT / "params.yaml").base_model))
            results["local"] = {"texts": "prompts/assessment_examples.jsonl (5 worked examples)",
                                "by_k": local(tmp, args.local_k)}
    reports = sorted(REPORTS.glob("*.json"))
    write_report(reports, ROOT / "reports/teachers.md", ROOT / "plots/teachers.json")
    write_results("teacher_audit", results)


if __name__ == "__main__":
    main()
