"""The assessor a person runs, both paths side by side in one run, each through the real CLI
in fresh processes with the full crisis screen (keywords, then the learned probe):

- llama: the exported GGUF on llama.cpp, the probe on llama.cpp: no torch is imported;
- transformers: models/base + models/adapter on torch (the same probe).

  uv run python bench/bench_assessor.py [--runs 3]

Per path, the median of --runs cold runs over typical situations: seconds from process start
to the first byte of the answer (`--stream`), to the whole answer, and peak RSS. Then the
screen's cold start in a fresh process (imports, probe file, encoder, one text) and its warm
time per text. The crisis rates are the crisis_probe stage's (metrics/crisis_screen.json).
Needs `dvc repro` first (models/gguf, models/adapter, models/crisis_probe.json). The machine's
load is recorded: other work on a shared CPU slows every figure.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from cbt_testing.bench import first_output, write_results

ROOT = Path(__file__).resolve().parents[1]
SITUATIONS = [
    "My friend forgot to call me on my birthday and I keep thinking nobody ever remembers me.",
    "My boss criticised my report in front of everyone and now I'm sure I'll be fired.",
    "I failed my driving test again. I'm useless and I'll never be able to drive.",
]
TARGETS = {"first_token_s": 3.0, "whole_answer_s": 6.0, "peak_rss_mb": 600.0,
           "screen_cold_s": 1.0}
COLD = """
import json, sys, time
t0 = time.perf_counter()
from cbt_infer.safety import CrisisScreen
import llama_cpp
ti = time.perf_counter()
screen = CrisisScreen.load({probe!r})
screen.build()
t1 = time.perf_counter()
screen("My boss criticised my report in front of everyone.")
t2 = time.perf_counter()
heavy = sorted(m for m in ("torch", "transformers") if m in sys.modules)
print(json.dumps({{"imports_s": ti - t0, "load_s": t1 - t0, "first_text_s": t2 - t1,
                  "cold_s": t2 - t0, "imported": heavy}}))
"""


def cli_runs(backend: str, runs: int) -> dict:
    cli = [str(Path(sys.executable).with_name("cbt-infer")), "--backend", backend, "--stream"]
    timed = [first_output([*cli, SITUATIONS[i % len(SITUATIONS)]], cwd=ROOT)
             for i in range(runs)]
    answer = subprocess.run([*cli[:-1], "--json", SITUATIONS[0]], cwd=ROOT,
                            capture_output=True, text=True, check=True)
    result = json.loads(answer.stdout)
    return {"first_token_s": round(statistics.median(t["first_output_s"] for t in timed), 2),
            "whole_answer_s": round(statistics.median(t["wall_s"] for t in timed), 2),
            "peak_rss_mb": round(statistics.median(t["peak_rss_mb"] for t in timed), 1),
            "runs": [{k: v for k, v in t.items() if k != "output"} for t in timed],
            "one_answer": {k: result.get(k) for k in ("backend", "tier", "tokens",
                                                      "finish_reason", "parsed",
                                                      "quote_fidelity", "prompt_source")}}


def screen_runs(runs: int) -> dict:
    from cbt_infer.probe_cli import read_phrases
    from cbt_infer.safety import CrisisScreen

    probe = ROOT / "models" / "crisis_probe.json"
    cold = []
    for _ in range(runs):
        proc = subprocess.run([sys.executable, "-c", COLD.format(probe=str(probe))],
                              capture_output=True, text=True, cwd=ROOT, check=True)
        cold.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    screen = CrisisScreen.load(probe)
    texts = read_phrases(ROOT / "safety/heldout_b.ordinary.txt")[:20]
    screen(texts[0])
    times = []
    for text in texts:
        start = time.perf_counter()
        screen(text)
        times.append(time.perf_counter() - start)
    return {"cold_s": round(statistics.median(r["cold_s"] for r in cold), 2),
            "imports_s": round(statistics.median(r["imports_s"] for r in cold), 2),
            "cold_runs": [{k: (round(v, 3) if isinstance(v, float) else v)
                           for k, v in r.items()} for r in cold],
            "warm_ms_per_text": round(1000 * statistics.median(times), 1)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    for need in ("models/gguf/cbt-student-q4_k_m.gguf", "models/adapter",
                 "models/crisis_probe.json"):
        if not (ROOT / need).exists():
            sys.exit(f"bench_assessor: {need} is missing: run `python3 tasks.py repro` first")
    crisis = json.loads((ROOT / "metrics/crisis_screen.json").read_text())
    paths = {"llama": cli_runs("llama", args.runs),
             "transformers": cli_runs("transformers", args.runs)}
    screen = screen_runs(args.runs)
    llama = paths["llama"]
    met = {"first_token_s": llama["first_token_s"] <= TARGETS["first_token_s"],
           "whole_answer_s": llama["whole_answer_s"] <= TARGETS["whole_answer_s"],
           "peak_rss_mb": llama["peak_rss_mb"] <= TARGETS["peak_rss_mb"],
           "screen_cold_s": screen["cold_s"] <= TARGETS["screen_cold_s"]}
    write_results("assessor", {
        "situations": SITUATIONS, "runs": args.runs, "paths": paths, "screen": screen,
        "targets": TARGETS, "llama_meets": met,
        "crisis_rates": {k: v for k, v in crisis.items() if k.startswith("heldout")}})


if __name__ == "__main__":
    main()
