"""Inference figures: transformers vs llama.cpp f16 vs llama.cpp 4-bit, same prompts, one run.

  uv run python bench/bench_infer.py [--base models/base] [--adapter models/adapter]

Each backend runs in its own process (so peak RSS is its own): time to first token (streamed),
generated tokens per second, peak RSS. Also `cbt-infer --help` cold start and one CLI answer end
to end. Uses models/gguf/ when the export stage has run, else exports into a temp cache. The
machine's load average is recorded: other work on a shared CPU slows every figure.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import timed_subprocess, write_results

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
        assessor = Assessor.from_pretrained(model, adapter=adapter)
    else:
        assessor = Assessor.from_pretrained(gguf=model)
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


def screen_figures() -> dict:
    """The crisis screen on every phrase list in safety/: recall and false-positive rate of the
    keywords, the learned probe (models/crisis_probe.json, if built) and both; and speed."""
    from cbt_infer.probe_cli import read_phrases, screen_rates
    from cbt_infer.safety import screen

    folder = ROOT / "safety"
    sets = {"train": ([*sorted((folder / "train").glob("crisis_phrases*.txt"))],
                      [*sorted((folder / "train").glob("ordinary_situations*.txt"))])}
    for crisis_file in sorted(folder.glob("*.crisis.txt")):
        name = crisis_file.name.removesuffix(".crisis.txt")
        sets[name] = ([crisis_file], [folder / f"{name}.ordinary.txt"])
    probe, out = None, {}
    probe_file = ROOT / "models" / "crisis_probe.json"
    if probe_file.is_file():
        from cbt_infer.crisis_probe import CrisisProbe

        start = time.perf_counter()
        probe = CrisisProbe.load(probe_file, base=ROOT / "models" / "base")
        out["probe_load_s"] = round(time.perf_counter() - start, 2)
    for name, (crisis_files, ordinary_files) in sets.items():
        crisis = [t for f in crisis_files for t in read_phrases(f)]
        texts = crisis + [t for f in ordinary_files for t in read_phrases(f)]
        labels = [1] * len(crisis) + [0] * (len(texts) - len(crisis))
        start = time.perf_counter()
        keywords = [screen(t).crisis for t in texts]
        row = {"crisis": len(crisis), "ordinary": len(texts) - len(crisis),
               "keywords": screen_rates(keywords, labels),
               "keywords_ms_per_input": round((time.perf_counter() - start) * 1000 / len(texts),
                                              3)}
        if probe is not None:
            start = time.perf_counter()
            both = [screen(t, probe=probe).crisis for t in texts]
            row["keywords_then_probe"] = screen_rates(both, labels)
            row["keywords_then_probe_ms_per_input"] = round(
                (time.perf_counter() - start) * 1000 / len(texts), 1)
        out[name] = row
        print(name, row, flush=True)
    return out


def child(kind: str, model: str, adapter: str | None) -> dict:
    cmd = [sys.executable, __file__, "--one", kind, "--model", model]
    if adapter:
        cmd += ["--adapter", adapter]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"{kind} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def ggufs(base: str, adapter: str | None) -> tuple[Path, Path]:
    folder = ROOT / "models" / "gguf"
    if not (folder / "export.json").is_file():
        folder = Path(os.environ.get("TMPDIR", "/tmp")) / "cbt-bench-gguf"
        if not (folder / "export.json").is_file():
            from cbt_infer.export import export

            export(Path(base), Path(adapter) if adapter else None, folder, "q4_k_m")
    files = json.loads((folder / "export.json").read_text())["files"]
    return folder / files["f16"], folder / files["q4_k_m"]


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
        write_results("infer", {**old, "crisis_screen": screen_figures(),
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
    results = {"crisis_screen": screen_figures(), "prompts": PROMPTS,
               "max_new_tokens": MAX_NEW, "base": base, "adapter": adapter,
               "cli_help_s_median": statistics.median(help_runs),
               "cli_first_answer": timed_subprocess(answer, cwd=ROOT),
               "transformers": child("transformers", base, adapter)}
    from cbt_infer.gguf_tools import extra_missing

    if extra_missing():
        results["llama"] = f"skipped: extra cbt-infer[llama] not installed ({extra_missing()})"
    else:
        f16, q4 = ggufs(base, adapter)
        results["llama_f16"] = child("llama", str(f16), None)
        results["llama_q4_k_m"] = child("llama", str(q4), None)
        results["q4_speedup_vs_transformers"] = round(
            results["llama_q4_k_m"]["tokens_per_s"] / results["transformers"]["tokens_per_s"], 1)
    results["load_average_before_after"] = [round(x, 2) for x in
                                            (*load_before[:1], os.getloadavg()[0])]
    write_results("infer", results)


if __name__ == "__main__":
    main()
