"""docs/figures.md's table, rendered from the committed bench/results/*.json.

Each row names the file it comes from with that file's date and the load average when it was
written (a 2-core machine shared with other jobs: CPU seconds are the steadier figure). A
result file that is not committed gives a row saying which command measures it, never a number.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[1] / "bench" / "results"
Row = tuple[str, str, str, str]  # area, figure, measured, target


def _source(name: str, data: dict) -> str:
    m = data["machine"]
    return (f"`{name}.json`, {m['date'][:10]}, {m['commit']}, load "
            f"{m['load_average_at_end'][0]:.1f}")


def foundation(d: dict) -> list[Row]:
    s, noop = d["seeds_100k"], d["dvc_repro_up_to_date"]
    return [("seeds", "`cbt-seeds` for N = 100,000 (whole CLI run)",
             f"{s['wall_s']:.2f} s, {s['peak_rss_mb']:.0f} MB peak RSS", "< 2 s"),
            ("pipeline", "`dvc repro seeds` with the stage up to date (best of 3)",
             f"{noop['wall_s_best']:.2f} s", "< 2 s")]


def dataset(d: dict) -> list[Row]:
    r = d["dataset_100k"]
    return [("dataset", f"assembly of {r['records']:,} synthetic records, near-duplicate "
             "detection on", f"{r['wall_s']:.1f} s wall, {r['cpu_s']:.1f} CPU-s, "
             f"{r['peak_rss_mb']:,.0f} MB peak; {r['exact_found']:,} of {r['exact_planted']:,} "
             f"exact and {r['near_found']:,} of {r['near_planted']:,} near duplicates planted "
             "were found", "< 60 s, < 2 GB")]


def imported(d: dict) -> list[Row]:
    r = d["import_100k"]
    rows = []
    for fmt in ("csv", "jsonl", "parquet"):
        if fmt in r:
            f = r[fmt]
            peak = max(f["events"]["peak_rss_mb"], f["assessments"]["peak_rss_mb"])
            rows.append(("import", f"{r['rows']:,} rows of pairs from {fmt.upper()} "
                         f"({f['file_mb']:.0f} MB): `events` / `assessments` with "
                         "teacher.provider file (parsing every assessment)",
                         f"{f['events']['wall_s']:.1f} / {f['assessments']['wall_s']:.1f} s "
                         f"({f['events']['rows_per_s']:,} / {f['assessments']['rows_per_s']:,} "
                         f"rows/s), {peak:,.0f} MB peak", ""))
    return rows


def teacher(d: dict) -> list[Row]:
    levels = d["throughput"]
    share = " / ".join(f"{lv['share_of_ideal']:.0%}" for lv in levels)
    cpu = " / ".join(f"{lv['client_cpu_ms_per_request']:.1f}" for lv in levels)
    conc = " / ".join(str(lv["concurrency"]) for lv in levels)
    f, c = d["faults"], d["cost_1000_assessments"]
    cost = {k: c[k]["cost_usd_per_1000"] for k in ("no_caching", "prompt_caching", "batch_api",
                                                  "batch_api_and_caching") if k in c}
    return [("teacher (loopback stand-in, own process, "
             f"{d['latency_s'] * 1000:.0f} ms per reply)",
             f"throughput vs ideal at concurrency {conc}", share, "≥ 90% at 32"),
            ("teacher", f"client CPU per request at concurrency {conc}", f"{cpu} ms", "< 5 ms"),
            ("teacher", f"{f['fault_rate']:.0%} injected faults ({f['kinds']}), "
             f"{f['requests']} requests", f"{f['lost']} lost, {f['duplicates']} duplicates, "
             f"{f['invalid']} invalid ({f['repaired']} repaired)", "0 / 0"),
            ("teacher", f"{c['assessments']:,} assessments with {c['model']}, {c['few_shot']} "
             "few-shot examples: **simulated** token counts (the stand-in's characters per "
             "token), real prices",
             " / ".join(f"${v:.2f}" for v in cost.values()) + " ("
             + " / ".join(k.replace("_", " ") for k in cost) + ")", "")]


def local_teacher(d: dict) -> list[Row]:
    ev, asm = d["events"], d["assessments"]
    return [("local teacher (SmolLM2-135M, a machinery check, not a source of quality)",
             f"events / assessments, batch {ev['batched']['batch_size']}",
             f"{ev['batched']['s_per_record']} / {asm['batched']['s_per_record']} s per record "
             f"({ev['batched']['cpu_s_per_record']} / {asm['batched']['cpu_s_per_record']} "
             f"CPU-s; batch 1: {ev['single']['s_per_record']} / "
             f"{asm['single']['s_per_record']} s); valid on first try "
             f"{ev['batched']['valid_first_try']:.0%} / {asm['batched']['valid_first_try']:.0%};"
             f" loop rate {ev['batched']['loop_rate']:.2f} / "
             f"{asm['batched']['loop_rate']:.2f}; batched equal to one at a time "
             f"{ev['batched_equals_single']:.0%} / {asm['batched_equals_single']:.0%}", "")]


def train(d: dict) -> list[Row]:
    h = d.get("hf_cpu")
    if not h:
        return []
    return [("train, CPU (local profile's recipe, hf; a machinery check)",
             f"{h['steps']} steps on {d['examples']['train']} synthetic examples",
             f"{h['s_per_step']:.2f} s/step, {h['tokens_per_s']:.0f} tokens/s, "
             f"{h['peak_rss_mb'] / 1024:.1f} GB peak RSS, {h['train_s']:.0f} s training / "
             f"{h['process_wall_s']:.0f} s whole command, {h['adapter_mb']} MB adapter; test "
             f"loss {h['initial_test_loss']:.2f} → {h['final_test_loss']:.2f}", "< 10 min")]


def remote(d: dict) -> list[Row]:
    rows = []
    for key, what in (("synthetic", "one file of random bytes"),
                      ("pipeline_outputs", "every pipeline output present")):
        r = d.get(key)
        if r:
            rows.append(("remote (loopback SeaweedFS S3)",
                         f"push / pull of {what} ({r['files']} files, {r['mb']:.0f} MB) into a "
                         "wiped cache", f"{r['push_s']:.1f} / {r['pull_s']:.1f} s "
                         f"({r['noop_push_s']:.1f} s of it DVC's fixed start-up); "
                         f"byte-identical: {r['byte_identical']}", ""))
    return rows


def infer(d: dict) -> list[Row]:
    rows = [("inference", "`cbt-infer --help` (median of 5)", f"{d['cli_help_s_median']:.2f} s",
             "< 0.5 s")]
    s = d.get("crisis_screen_startup", {})
    if "cold_s_median" in s:
        warm = s["warm_ms_per_text_median"]
        rows.append(("inference", "crisis screen with the probe's encoder on torch and "
                     "transformers: cold start (fresh process: imports, file, encoder, first "
                     "text) / warm time per text (the llama.cpp encoder's: docs/inference.md)",
                     f"{s['cold_s_median']:.1f} s / {warm['keywords_then_probe']:.0f} ms "
                     f"(keywords alone {warm['keywords']:.2f} ms)", ""))
    if "transformers" in d and isinstance(d.get("llama_q4_k_m"), dict):
        t, f16, q4 = d["transformers"], d["llama_f16"], d["llama_q4_k_m"]
        rows.append(("inference (the local SmolLM2-135M student, 3 prompts × 64 tokens)",
                     "tokens/s, time to first token, peak RSS: transformers / llama.cpp f16 / "
                     "llama.cpp q4_k_m",
                     f"{t['tokens_per_s']} / {f16['tokens_per_s']} / {q4['tokens_per_s']} "
                     f"tokens/s (q4 = {d['q4_speedup_vs_transformers']}× transformers); "
                     f"{t['ttft_s_median']} / {f16['ttft_s_median']} / {q4['ttft_s_median']} s; "
                     f"{t['peak_rss_mb']:,.0f} / {f16['peak_rss_mb']:,.0f} / "
                     f"{q4['peak_rss_mb']:,.0f} MB", "q4 ≥ 6×, TTFT < 0.5 s"))
    if "cli_first_answer" in d:
        rows.append(("inference", "first CLI answer end to end (transformers, loading "
                     "included): full crisis screen / keywords only",
                     f"{d['cli_first_answer']['wall_s']:.1f} / "
                     f"{d['cli_first_answer_keywords_only']['wall_s']:.1f} s", ""))
    return rows


TABLE: dict[str, tuple[Callable[[dict], list[Row]], str]] = {
    "foundation": (foundation, "bench/bench_foundation.py"),
    "dataset": (dataset, "bench/bench_dataset.py"),
    "import": (imported, "bench/bench_import.py"),
    "teacher": (teacher, "bench/bench_teacher.py"),
    "local_teacher": (local_teacher, "bench/bench_local_teacher.py"),
    "train": (train, "bench/bench_train.py"),
    "remote": (remote, "bench/bench_remote.py"),
    "infer": (infer, "bench/bench_infer.py"),
}


def measured() -> str:
    lines = ["| area | figure | measured | target | from |", "|---|---|---|---|---|"]
    for name, (rows, script) in TABLE.items():
        path = RESULTS / f"{name}.json"
        if not path.is_file():
            lines.append(f"| {name} | not measured in a committed file | run `uv run python "
                         f"{script}` and commit `bench/results/{name}.json` | | |")
            continue
        data = json.loads(path.read_text())
        lines += [f"| {a} | {f} | {m} | {t} | {_source(name, data)} |"
                  for a, f, m, t in rows(data)]
    return "\n".join(lines)


def ddp_rehearsal() -> str:
    """One process against two (bench/results/train_ddp.json), for docs/training.md."""
    path = RESULTS / "train_ddp.json"
    if not path.is_file():
        return ("Not measured in a committed file: run `uv run python bench/bench_train_ddp.py` "
                "and commit `bench/results/train_ddp.json`.")
    data = json.loads(path.read_text())
    d = data["ddp_rehearsal"]
    one, two = d["one_process"], d["two_processes"]
    return (f"Rehearsal (`bench/bench_train_ddp.py`, {_source('train_ddp', data)}): "
            f"{d['model']}, {d['steps']} steps at global batch {d['global_batch']}, examples "
            "in file order.\n\n"
            "| run | training time | tokens/s | final train loss |\n|---|---|---|---|\n"
            f"| 1 process, batch 1 x accumulation 2 | {one['train_s']:.1f} s | "
            f"{one['tokens_per_s']:,.0f} | {one['final_train_loss']:.6f} |\n"
            f"| 2 processes (ddp, gloo), batch 1 x accumulation 1 each | {two['train_s']:.1f} s "
            f"| {two['tokens_per_s']:,.0f} | {two['final_train_loss']:.6f} |\n\n"
            f"Largest difference between the two loss curves: {d['max_curve_difference']:.1e}. "
            f"Speed-up {d['speedup']}x: {d['note']}.")
