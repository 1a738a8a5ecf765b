"""Inference figures: transformers vs llama.cpp f16 vs llama.cpp 4-bit, same prompts, one run.

  uv run python bench/bench_infer.py [--base models/base] [--adapter models/adapter]

Each backend runs in its own process (so peak RSS is its own): time to first token (streamed),
generated tokens per second, peak RSS. Also `cbt-infer --help` cold start, one CLI answer end
to end with the full crisis screen and with keywords only, and the learned screen's cold and
warm time per text (`--quick`: only the screen and --help). Uses models/gguf/ when the
export stage has run, else exports into a temp cache. The machine's load average is recorded:
other work on a shared CPU slows every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from cbt_testing.bench import student_ggufs, timed_subprocess, write_results

PROMPTS = [
    "I failed my driving test again, I'm useless.",
    "My boss criticised my report in front of everyone and now I think I'll be fired.",
    "My sister forgot my birthday, nobody in my family cares about me.",
]
MAX_NEW = 64
ROOT = Path(__file__).resolve().parents[1]


def one(kind: str, model: str, adapter: str | None) -> dict:
    """Run in a child process: load, warm up, stream every prompt, report."""
    from cbt_infer import Assessor

    start = time.perf_counter()
    if kind == "transformers":
        assessor = Assessor.from_pretrained(model, adapter=adapter, crisis_probe=False)
    else:
        assessor = Assessor.from_pretrained(gguf=model, crisis_probe=False)
    load_s = time.perf_counter() - start
    assessor.assess("warm up", max_new_tokens=4, screen_input=False)
    runs = []
    for prompt in PROMPTS:
        stream = assessor.stream(prompt, max_new_tokens=MAX_NEW)
        for _ in stream:
            pass
        r = stream.result
        decode_s = r.seconds - (r.first_token_s or 0)
        runs.append({"ttft_s": r.first_token_s, "tokens": r.tokens, "seconds": r.seconds,
                     "decode_tokens_per_s": (r.tokens - 1) / decode_s if decode_s > 0 else None,
                     "finish_reason": r.finish_reason})
    tokens = sum(r["tokens"] for r in runs)
    seconds = sum(r["seconds"] for r in runs)
    return {"load_s": round(load_s, 2),
            "ttft_s_median": round(statistics.median(r["ttft_s"] for r in runs), 3),
            "tokens_per_s": round(tokens / seconds, 1),
            "decode_tokens_per_s": round(statistics.median(
                r["decode_tokens_per_s"] for r in runs), 1),
            "tokens": tokens, "finish_reasons": [r["finish_reason"] for r in runs],
            "peak_rss_mb": peak_rss_mb()}


def peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM; ru_maxrss would include the parent's at fork)."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


COLD = """
import json, time
t0 = time.perf_counter()
from cbt_infer.safety import CrisisScreen
screen = CrisisScreen.load({probe!r})
t1 = time.perf_counter()
screen("My boss criticised my report in front of everyone.")
t2 = time.perf_counter()
print(json.dumps({{"file_s": t1 - t0, "encoder_and_first_s": t2 - t1, "cold_s": t2 - t0}}))
"""


def screen_startup(runs: int = 3) -> dict:
    """The learned screen's start-up: cold (a fresh process: imports, probe file, encoder, the
    first text) and warm (per text once loaded), and the keywords' time per text. Recall and
    false alarms are the crisis_probe stage's (metrics/crisis_screen.json)."""
    from cbt_infer.probe_cli import read_phrases
    from cbt_infer.safety import CrisisScreen

    probe = ROOT / "models" / "crisis_probe.json"
    if not probe.is_file():
        return {"skipped": f"{probe} not built (dvc repro crisis_probe)"}
    cold = []
    for _ in range(runs):
        proc = subprocess.run([sys.executable, "-c", COLD.format(probe=str(probe))],
                              capture_output=True, text=True, cwd=ROOT)
        if proc.returncode:
            sys.exit(f"cold start failed:\n{proc.stderr[-2000:]}")
        cold.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    texts = read_phrases(ROOT / "safety/heldout_b.ordinary.txt")[:40]
    keywords, full = CrisisScreen.load(False), CrisisScreen.load(probe)
    full(texts[0])
    per_text = {}
    for name, screen in (("keywords", keywords), ("keywords_then_probe", full)):
        times = []
        for text in texts:
            start = time.perf_counter()
            screen(text)
            times.append((time.perf_counter() - start) * 1000)
        per_text[name] = round(statistics.median(times), 3)
    return {"cold_s_median": round(statistics.median(r["cold_s"] for r in cold), 2),
            "cold_runs": [{k: round(v, 2) for k, v in r.items()} for r in cold],
            "warm_ms_per_text_median": per_text, "texts": len(texts)}


def child(kind: str, model: str, adapter: str | None) -> dict:
    cmd = [sys.executable, __file__, "--one", kind, "--model", model]
    if adapter:
        cmd += ["--adapter", adapter]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"{kind} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--base")
    p.add_argument("--adapter")
    p.add_argument("--one", choices=["transformers", "llama"])
    p.add_argument("--model")
    p.add_argument("--quick", action="store_true", help="only (re)measure the crisis screen "
                   "and the CLI cold start, into the existing results")
    args = p.parse_args()
    cli = [str(Path(sys.executable).with_name("cbt-infer"))]
    if args.quick:
        path = ROOT / "bench" / "results" / "infer.json"
        old = json.loads(path.read_text()) if path.is_file() else {}
        old.pop("machine", None)
        help_runs = [timed_subprocess([*cli, "--help"])["wall_s"] for _ in range(5)]
        write_results("infer", {**old, "crisis_screen_startup": screen_startup(),
                                "cli_help_s_median": statistics.median(help_runs)})
        return
    if args.one:
        print(json.dumps(one(args.one, args.model, args.adapter)))
        return
    base = args.base or ("models/base" if (ROOT / "models/base/config.json").is_file() else None)
    if base is None:
        from cbt_train.base_model import cached_base_model

        base = str(cached_base_model())
    adapter = args.adapter or ("models/adapter" if (ROOT / "models/adapter").is_dir() else None)
    load_before = os.getloadavg()
    help_runs = [timed_subprocess([*cli, "--help"])["wall_s"] for _ in range(5)]
    answer = [*cli, "--base", base, "--max-new-tokens", str(MAX_NEW), PROMPTS[0]]
    if adapter:
        answer[3:3] = ["--adapter", adapter]
    results = {"crisis_screen_startup": screen_startup(), "prompts": PROMPTS,
               "max_new_tokens": MAX_NEW, "base": base, "adapter": adapter,
               "cli_help_s_median": statistics.median(help_runs),
               "cli_first_answer": timed_subprocess(answer, cwd=ROOT),
               "cli_first_answer_keywords_only": timed_subprocess(
                   [*answer[:-1], "--no-crisis-probe", answer[-1]], cwd=ROOT),
               "transformers": child("transformers", base, adapter)}
    from cbt_infer.gguf_tools import extra_missing

    if extra_missing():
        results["llama"] = f"skipped: extra cbt-infer[llama] not installed ({extra_missing()})"
    else:
        f16, q4, _ = student_ggufs(base, adapter)
        results["llama_f16"] = child("llama", str(f16), None)
        results["llama_q4_k_m"] = child("llama", str(q4), None)
        results["q4_speedup_vs_transformers"] = round(
            results["llama_q4_k_m"]["tokens_per_s"] / results["transformers"]["tokens_per_s"], 1)
    results["load_average_before_after"] = [round(x, 2) for x in
                                            (*load_before[:1], os.getloadavg()[0])]
    write_results("infer", results)


if __name__ == "__main__":
    main()
