"""Teacher figures against the loopback Anthropic server (no network, no key needed).

  uv run python bench/bench_teacher.py [--quick]

1. Throughput of the real client path (anthropic SDK -> engine -> validation -> fsynced log)
   at concurrency 1, 8, 32, 64 with 200 ms per reply, vs the ideal concurrency / latency, and
   the client's CPU time per request. Each level runs 24 rounds (conc x 24 requests) after a
   warm-up round that opens the connections. The server runs in its own process.
2. 20% injected faults across every kind: records lost, duplicated, invalid.
3. Cost of 1,000 assessments with the paper profile's teacher (claude-haiku-5-5) and its
   prompt (5 few-shot examples): without prompt caching, with it, and with the batch API, from
   the token counts the loopback server reports (characters / the model's characters per
   token: a simulation, not a bill) for the real rendered prompts and answers the size of the
   project's few-shot examples, priced from the model table (cbt_datagen/models.yaml).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from cbt_datagen.engine import run_stage_async
from cbt_datagen.model_table import price_for
from cbt_datagen.prompts import examples_path, load_examples, load_prompt
from cbt_datagen.providers.anthropic import AnthropicProvider
from cbt_datagen.providers.anthropic_batch import AnthropicBatchProvider
from cbt_datagen.tasks import assessments, events
from cbt_datagen.tasks.base import Task
from cbt_schema import EventDraft
from cbt_schema.params.teacher import TeacherParams
from cbt_testing.bench import write_results
from cbt_testing.teacher_servers.anthropic_server import AnthropicServer
from cbt_testing.teacher_servers.helpers import make_seeds

ROOT = Path(__file__).resolve().parent.parent
LATENCY = 0.2
MODEL = "claude-haiku-5-5"


def _server(*args: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m",
                             "cbt_testing.teacher_servers.anthropic_server", *args],
                            stdout=subprocess.PIPE, text=True)
    return proc, proc.stdout.readline().strip()


def _event_task() -> Task:
    return events.task(load_prompt(ROOT / "prompts/event.j2"), 400)


async def _run(provider, spec, items, work: Path, price, close: bool = True
               ) -> tuple[dict, float, float]:
    cpu, start = time.process_time(), time.perf_counter()
    result = await run_stage_async(provider, spec, items, work_path=work, max_attempts=3,
                                   price=price, progress=False,
                                   batch=provider.name == "anthropic-batch")
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    if close:
        await provider.aclose()
    return result, wall, cpu


def _cpu_s(pid: int) -> float:
    """user + system CPU seconds of a process, from /proc (the server's share of the work)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def throughput(url: str, server_pid: int, price, tmp: Path, quick: bool) -> list[dict]:
    rows = []
    spec = _event_task()
    for conc in (1, 8, 32, 64):
        # whole rounds of `conc` requests, enough of them for the steady state to dominate
        n = conc * (6 if quick else 24) if conc > 1 else (5 if quick else 13)
        teacher = TeacherParams(provider="anthropic", model=MODEL, base_url=url,
                                max_concurrency=conc, timeout_s=30)
        seeds = make_seeds(n + conc)
        warm = [(f"warm-{s.id}", spec.prompt.user(s)) for s in seeds[n:]]
        items = [(s.id, spec.prompt.user(s)) for s in seeds[:n]]

        async def level(teacher=teacher, warm=warm, items=items, conc=conc) -> tuple:
            # steady state: the same client, its connections opened by a warm-up round
            provider = AnthropicProvider(teacher)
            await _run(provider, spec, warm, tmp / f"warm{conc}.jsonl", price, close=False)
            return await _run(provider, spec, items, tmp / f"t{conc}.jsonl", price)

        load = os.getloadavg()[0]
        server_cpu = _cpu_s(server_pid)
        result, wall, cpu = asyncio.run(level())
        server_cpu = _cpu_s(server_pid) - server_cpu  # includes the warm-up round
        assert result.metrics["succeeded"] == n
        ideal = conc / LATENCY
        rows.append({"concurrency": conc, "requests": n, "wall_s": round(wall, 3),
                     "requests_per_s": round(n / wall, 2), "ideal_per_s": ideal,
                     "share_of_ideal": round(n / wall / ideal, 3),
                     "client_cpu_ms_per_request": round(1000 * cpu / n, 3),
                     "server_cpu_ms_per_request": round(1000 * server_cpu / (n + conc), 3),
                     "load_average_1min": round(load, 2)})
        print(rows[-1], flush=True)
    return rows


def faults(price, tmp: Path, quick: bool) -> dict:
    n = 120 if quick else 400
    proc, url = _server("--latency", str(LATENCY), "--fault-rate", "0.2", "--slow", "1.5")
    try:
        spec = _event_task()
        teacher = TeacherParams(provider="anthropic", model=MODEL, base_url=url,
                                max_concurrency=32, timeout_s=1.0)
        items = [(s.id, spec.prompt.user(s)) for s in make_seeds(n)]
        result, wall, _ = asyncio.run(_run(AnthropicProvider(teacher), spec, items,
                                           tmp / "faults.jsonl", price))
    finally:
        proc.terminate()
        proc.wait()
    got = Counter([r.seed_id for r in result.records] + [q.item_id for q in result.quarantined])
    invalid = 0
    for record in result.records:
        try:
            EventDraft(situation=record.situation, reaction=record.reaction)
        except ValueError:
            invalid += 1
    return {"requests": n, "fault_rate": 0.2, "kinds": "429, 529, 500, slow (past a 1 s "
            "timeout), max_tokens, invalid JSON, schema violation, refusal",
            "lost": sum(1 for i, _ in items if i not in got),
            "duplicates": sum(c - 1 for c in got.values() if c > 1), "invalid": invalid,
            "succeeded": result.metrics["succeeded"], "repaired": result.metrics["repaired"],
            "quarantined": result.metrics["quarantined"], "wall_s": round(wall, 2)}


def cost(price, tmp: Path, quick: bool) -> dict:
    n = 200 if quick else 1000
    path = ROOT / "prompts/assessment.j2"
    examples = load_examples(examples_path(path), 6)
    prompt = load_prompt(path, few_shot=5)

    def respond(tool: str, user: str, draw: str = "") -> dict:
        ex = examples[int(hashlib.sha256(user.encode()).hexdigest(), 16) % len(examples)]
        return ex.assessment.model_dump(mode="json")

    spec = assessments.task(prompt, 1500)
    items = [(f"event-{i}", prompt.user(ex.event) + f"\n(variant {i})")
             for i, ex in ((i, examples[i % len(examples)]) for i in range(n))]
    out = {"assessments": n, "model": MODEL, "few_shot": 5,
           "price_per_mtok": price.model_dump(), "system_prompt_chars": len(prompt.system)}
    for name, caching, batch in (("no_caching", False, False), ("prompt_caching", True, False),
                                 ("batch_api", False, True), ("batch_api_and_caching", True,
                                                              True)):
        server = AnthropicServer(responder=respond,
                                 batch_delay_s=0.05).start()
        try:
            teacher = TeacherParams(provider="anthropic-batch" if batch else "anthropic",
                                    model=MODEL, base_url=server.url,
                                    max_concurrency=16, prompt_caching=caching)
            provider = (AnthropicBatchProvider(teacher, state_dir=tmp / name, poll_s=0.05)
                        if batch else AnthropicProvider(teacher))
            result, _, _ = asyncio.run(_run(provider, spec, items, tmp / f"{name}.jsonl",
                                            price))
        finally:
            server.stop()
        m = result.metrics
        scale = 1000 / n
        out[name] = {"tokens": {k: round(v * scale) for k, v in m["tokens"].items()},
                     "cost_usd_per_1000": round(m["cost_usd"] * scale, 4)}
        print(name, out[name], flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer requests")
    args = parser.parse_args()
    os.environ.setdefault("ANTHROPIC_API_KEY", "sk-loopback-bench")
    price = price_for(MODEL)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        proc, url = _server("--latency", str(LATENCY))
        try:
            rows = throughput(url, proc.pid, price, tmp_path, args.quick)
        finally:
            proc.terminate()
            proc.wait()
        fault_figures = faults(price, tmp_path, args.quick)
        print(fault_figures, flush=True)
        cost_figures = cost(price, tmp_path, args.quick)
    write_results("teacher", {
        "latency_s": LATENCY, "load_average": os.getloadavg(), "nice": os.nice(0),
        "throughput": rows,
        "faults": fault_figures, "cost_1000_assessments": cost_figures,
        "note": "loopback server in its own process; the machine is shared, so the load "
                "average at the time is recorded with the figures"})


if __name__ == "__main__":
    main()
