"""Full-size rehearsal of the paper profile's teacher against the faithful stand-in (no key,
no network): 621 events, then 621 assessments, through the real CLI and SDK.

  uv run python bench/bench_paper_rehearsal.py [--latency 1.0] [--n 621]

The stand-in (cbt_testing.teacher_servers.anthropic_server, API version 2026-10-21 rules)
runs in its own process and answers each request after --latency seconds; the teacher runs at
the paper profile's concurrency (16). Prints and writes bench/results/paper_rehearsal.json: per
stage, wall time, requests per second against the ideal (concurrency / latency), the client's
CPU time per request (the CLI process: SDK, engine, validation, fsynced log), the tokens the
stand-in reported (simulated: characters / the model's characters per token) and what they
would cost at the model table's prices.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from cbt_schema.timings import read_timings
from cbt_testing.bench import write_results

ROOT = Path(__file__).resolve().parent.parent


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _cli(work: Path, *argv: str) -> tuple[float, float]:
    """Run `cbt-datagen argv` in work/; (wall seconds, CPU seconds of that process)."""
    cpu, start = _children_cpu_s(), time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", "from cbt_datagen.cli import main; main()",
                           *argv, "--no-progress"],
                          cwd=work, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - start, _children_cpu_s() - cpu
    if proc.returncode:
        sys.exit(f"cbt-datagen {' '.join(argv)} failed:\n{proc.stderr[-2000:]}")
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=1.0, help="seconds per reply")
    parser.add_argument("--n", type=int, default=621, help="seeds (the paper's 621)")
    args = parser.parse_args()
    from cbt_testing.repo import load_script

    compose = load_script("compose_params").compose

    from cbt_datagen.model_table import lookup, price_for
    from cbt_schema.jsonl import write_jsonl
    from cbt_schema.params import load_params
    from cbt_seeds.sampling import sample_seeds

    server = subprocess.Popen([sys.executable, "-m",
                               "cbt_testing.teacher_servers.anthropic_server",
                               "--latency", str(args.latency)], stdout=subprocess.PIPE,
                              text=True)
    url = server.stdout.readline().strip()
    os.environ["ANTHROPIC_API_KEY"] = "sk-loopback-rehearsal"
    stages = {}
    try:
        with tempfile.TemporaryDirectory(prefix="cbt-rehearsal-") as tmp:
            work = Path(tmp)
            compose(work / "params.yaml", ["profile=paper", f"seeds.n={args.n}",
                                           f"teacher.base_url={url}"])
            raw = yaml.safe_load((work / "params.yaml").read_text())
            for section in ("events", "assessments"):
                raw[section]["prompt"] = str(ROOT / raw[section]["prompt"])
            (work / "params.yaml").write_text(yaml.safe_dump(raw))
            params = load_params(work / "params.yaml")
            write_jsonl(work / "data/seeds.jsonl", sample_seeds(params.seeds, params.base.seed))
            price = price_for(params.teacher.model, params.teacher.prices)
            cpu = {}
            for stage, extra in (("events", []), ("assessments", [
                    "--earlier-metrics", "metrics/datagen_events.json"])):
                _, cpu[stage] = _cli(work, stage, "--params", "params.yaml", *extra)
            metrics = json.loads((work / "metrics/datagen.json").read_text())
            for stage in ("events", "assessments"):
                m, speed = metrics[stage], read_timings(stage, root=work)
                requests = speed["this_run"]["replies"]
                ideal = params.teacher.max_concurrency / args.latency
                stages[stage] = {
                    "records": m["succeeded"], "quarantined": m["quarantined"],
                    "requests": requests, "wall_s": speed["wall_s"],
                    "requests_per_s": speed["requests_per_second"],
                    "ideal_per_s": ideal,
                    "share_of_ideal": round(speed["requests_per_second"] / ideal, 3),
                    "client_cpu_s": round(cpu[stage], 2),
                    "client_cpu_ms_per_request": round(1000 * cpu[stage] / max(1, requests), 2),
                    "tokens_simulated": m["tokens"], "cost_usd_simulated": m["cost_usd"]}
            stages["cost_usd_simulated_total"] = metrics["total"]["cost_usd"]
    finally:
        server.terminate()
        server.wait()
    write_results("paper_rehearsal", {
        "model": params.teacher.model, "concurrency": params.teacher.max_concurrency,
        "chars_per_token": lookup(params.teacher.model).chars_per_token,
        "latency_s": args.latency, "n": args.n, "price_per_million": price.model_dump(
            exclude_none=True), **stages,
        "note": "stand-in server in its own process; tokens and dollars are the stand-in's "
                "simulation (characters / chars_per_token), not a bill; client CPU includes "
                "each CLI's start-up (imports)"})


if __name__ == "__main__":
    main()
