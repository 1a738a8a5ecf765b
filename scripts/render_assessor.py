"""docs/inference.md's assessor blocks, rendered from bench/results/assessor.json: the two
paths a person can run side by side, and the crisis screen's start-up."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULT = ROOT / "bench/results/assessor.json"
MISSING = ("Not measured in a committed file: run `uv run python bench/bench_assessor.py` and "
           "commit `bench/results/assessor.json`.")
# the crisis screen with its encoder on torch and transformers, as bench/results/infer.json
# measured it
TORCH = ROOT / "bench/results/infer.json"


def _load() -> dict | None:
    return json.loads(RESULT.read_text()) if RESULT.is_file() else None


def _when(d: dict) -> str:
    m = d["machine"]
    return (f"{m['date'][:10]}, commit {m['commit']}, {m['cpus']} cores, load "
            f"{m['load_average_at_end'][0]}")


def assessor() -> str:
    """First token, whole answer and peak RSS of each path, against the targets."""
    d = _load()
    if d is None:
        return MISSING
    t, paths = d["targets"], d["paths"]
    rows = [("first token of the answer, from process start (cold, full screen)",
             "first_token_s", "s", f"≤ {t['first_token_s']:g} s"),
            ("whole answer, from process start", "whole_answer_s", "s",
             f"≤ {t['whole_answer_s']:g} s"),
            ("peak RSS", "peak_rss_mb", " MB", f"≤ {t['peak_rss_mb']:g} MB")]
    lines = [f"Measured by `bench/bench_assessor.py` ({_when(d)}; median of {d['runs']} cold "
             "CLI runs over typical situations, `cbt-infer --stream`, the full crisis screen).",
             "", "| | llama.cpp, no torch (default) | transformers | target (llama.cpp) |",
             "|---|---|---|---|"]
    for label, key, unit, target in rows:
        met = "met" if d["llama_meets"][key] else "**not met**"
        lines.append(f"| {label} | {paths['llama'][key]:g}{unit} | "
                     f"{paths['transformers'][key]:g}{unit} | {target}: {met} |")
    answer = paths["llama"]["one_answer"]
    lines += ["", f"One llama.cpp answer: {answer['tokens']} tokens, finished by "
              f"`{answer['finish_reason']}`, parsed: {answer['parsed']}, quote fidelity "
              f"{answer['quote_fidelity']}, prompt from {answer['prompt_source']}. The local "
              "student is SmolLM2-135M fine-tuned by the local profile: a machinery check, not a "
              "measure of quality."]
    return "\n".join(lines)


def crisis_startup() -> str:
    """The screen's cold start and warm cost, beside the torch encoder's cold start."""
    d = _load()
    if d is None:
        return MISSING
    s = d["screen"]
    torch = json.loads(TORCH.read_text()) if TORCH.is_file() else {}
    on_torch = torch.get("crisis_screen_startup", {})
    was = (f" (through torch and transformers, `bench/results/infer.json`: "
           f"{on_torch['cold_s_median']:.1f} s)" if "cold_s_median" in on_torch else "")
    met = "met" if d["llama_meets"]["screen_cold_s"] else (
        f"**not met**: importing llama-cpp-python, numpy and pydantic alone takes "
        f"{s['imports_s']:.2f} s, which the CLI pays once for the screen and the student alike")
    imported = sorted({m for r in s["cold_runs"] for m in r["imported"]})
    heavy = ", ".join(imported) if imported else "no torch, no transformers"
    return (f"Start-up (`bench/bench_assessor.py`, {_when(d)}): a fresh process takes "
            f"{s['cold_s']:.2f} s (median of {len(s['cold_runs'])}) from import to its first "
            f"verdict with the probe{was}; target ≤ {d['targets']['screen_cold_s']:g} s: {met}. "
            f"Imported on the way: {heavy}. Once loaded, a text takes "
            f"{s['warm_ms_per_text']:.0f} ms. Text the keywords put in the likely tier is "
            "answered before any model loads; interactive `cbt-infer` loads the probe and "
            "then the student while the person types.")


def serve() -> str:
    """`cbt-infer serve`: start-up, first token through the API and the page, throughput."""
    path = ROOT / "bench/results/serve.json"
    if not path.is_file():
        return ("Not measured in a committed file: run `uv run python bench/bench_serve.py` and "
                "commit `bench/results/serve.json`.")
    d = json.loads(path.read_text())
    s = d["serve"]
    codes = ", ".join(f"{n} × {code}" for code, n in sorted(s["status_counts"].items()))
    return "\n".join([
        f"Measured by `bench/bench_serve.py` ({_when(d)}; {s['student']}, at most "
        f"{s['max_new_tokens']} new tokens):", "",
        "| | |", "|---|---|",
        f"| listening, from process start | {s['listening_s']:.2f} s |",
        f"| ready (`/healthz` 200: student and probe loaded) | {s['ready_s']:.2f} s |",
        f"| first streamed token, `POST /v1/assess` (median of {s['first_token_runs']}) | "
        f"{s['first_token_api_s']:.2f} s |",
        f"| first token shown by the page (median of {s['first_token_runs']}) | "
        f"{s['first_token_page_s']:.2f} s |",
        f"| {s['clients']} clients, {s['requests']} requests | {s['requests_per_s']:.3f} "
        f"requests/s ({codes}) |", "",
        f"{s['note'][0].upper()}{s['note'][1:]}. The local student is SmolLM2-135M: a machinery "
        "check, not a measure of quality."])
