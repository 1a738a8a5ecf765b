"""The local teacher (SmolLM2-135M-Instruct, transformers + xgrammar) on this CPU.

Generates events from the first seeds with the real event prompt, then assesses the valid
ones with the real assessment prompt, at batch size 1 and at the default batch size, and
reports per record: wall and CPU seconds, share valid on the first try (what the engine checks),
loop / copy / length-cap rates (cbt_datagen.quality) and whether the batched replies equal
the one-at-a-time ones. Writes bench/results/local_teacher.json.

  uv run python bench/bench_local_teacher.py [--n 8] [--n-single 3] [--model-dir models/base]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

from cbt_testing.bench import write_results

ROOT = Path(__file__).resolve().parents[1]


def model_dir(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    if (ROOT / "models/base/config.json").is_file():
        return ROOT / "models/base"
    from cbt_schema.params import load_params
    from cbt_train.base_model import cached_base_model

    return cached_base_model(load_params(ROOT / "params.yaml").base_model)


def run_mode(provider, requests, model, references) -> tuple[dict, dict]:
    from cbt_datagen.providers.local import fit_schema
    from cbt_datagen.quality import quality_metrics
    from cbt_datagen.validate import check_reply

    got = []
    wall, cpu = time.perf_counter(), time.process_time()
    asyncio.run(provider.generate(requests, got.append))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    by_id = {r.request_id: r for r in got}
    replies = [by_id[r.id] for r in requests]
    valid = [check_reply(r, model, requests[0].max_tokens)[1] == [] for r in replies]
    n, out_tokens = len(requests), sum(r.usage.output_tokens for r in replies)
    chars = sum(len(r.text or "") for r in replies)
    fitted = fit_schema(requests[0].schema, requests[0].max_tokens)
    stats = {"records": n, "batch_size": provider.batch_size, "wall_s": round(wall, 2),
             "s_per_record": round(wall / n, 2), "cpu_s_per_record": round(cpu / n, 2),
             "output_tokens_per_record": round(out_tokens / n, 1),
             "tokens_per_s": round(out_tokens / wall, 2),
             "chars_per_token": round(chars / max(out_tokens, 1), 2),
             "input_tokens_per_record": round(sum(r.usage.input_tokens for r in replies) / n),
             "valid_first_try": round(sum(valid) / n, 3),
             **quality_metrics([r.text or "" for r in replies], references, schema=fitted,
                               stop_reasons=[r.stop_reason for r in replies])}
    print(json.dumps(stats), file=sys.stderr, flush=True)
    return stats, by_id


def stage(name, make, requests, model, references, n_single) -> tuple[dict, dict]:
    batched, by_id = run_mode(make(None), requests, model, references)
    single, alone = run_mode(make(1), requests[:n_single], model, references)
    same = [alone[r.id].text == by_id[r.id].text for r in requests[:n_single]]
    sample = [by_id[r.id].text for r in requests[:3]]
    return {"batched": batched, "single": single,
            "speedup": round(single["s_per_record"] / batched["s_per_record"], 2),
            "batched_equals_single": round(sum(same) / len(same), 3), "samples": sample}, by_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=8, help="records per stage, batched")
    parser.add_argument("--n-single", type=int, default=3, help="records at batch size 1")
    parser.add_argument("--model-dir")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    args = parser.parse_args()

    from cbt_datagen.prompts import load_prompt, schema_for
    from cbt_datagen.providers.base import GenRequest
    from cbt_datagen.providers.local import LocalProvider
    from cbt_schema import Assessment, EventDraft, Seed
    from cbt_schema.jsonl import read_jsonl
    from cbt_schema.params import load_params

    params = load_params(ROOT / "params.yaml")
    where = model_dir(args.model_dir)

    def make(batch_size):
        return LocalProvider(where, params.teacher, params.base.seed, batch_size=batch_size,
                             threads=args.threads)

    def requests(prompt, items, model, max_tokens):
        return [GenRequest(id=f"bench-{model.__name__}-{i}", item_id=str(i), system=prompt.system,
                           messages=({"role": "user", "content": prompt.user(item)},),
                           schema=schema_for(model), schema_name=model.__name__,
                           max_tokens=max_tokens) for i, item in enumerate(items)]

    load = os.getloadavg()
    ev_prompt = load_prompt(ROOT / params.events.prompt, 0)
    seeds = read_jsonl(ROOT / "data/seeds.jsonl", Seed)[: args.n]
    ev_reqs = requests(ev_prompt, seeds, EventDraft, params.events.max_tokens)
    events, ev_replies = stage("events", make, ev_reqs, EventDraft, [ev_prompt.system],
                               args.n_single)

    as_prompt = load_prompt(ROOT / params.assessments.prompt, params.assessments.few_shot)
    drafts = []
    for r in ev_reqs:
        try:
            drafts.append(EventDraft.model_validate_json(ev_replies[r.id].text or ""))
        except ValueError:
            continue
    as_reqs = requests(as_prompt, drafts, Assessment, params.assessments.max_tokens)
    assessments, _ = stage("assessments", make, as_reqs, Assessment, [as_prompt.system],
                           args.n_single)
    write_results("local_teacher", {
        "model": params.teacher.model, "engine": "transformers + xgrammar (batched, shared "
        "system-prompt KV cache)", "threads": args.threads,
        "sampling": {"temperature": params.teacher.temperature, "top_p": params.teacher.top_p,
                     "repetition_penalty": params.teacher.repetition_penalty,
                     "seed": params.base.seed},
        "max_tokens": {"events": params.events.max_tokens,
                       "assessments": params.assessments.max_tokens},
        "loadavg_before": [round(x, 2) for x in load],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "events": events, "assessments": assessments})


if __name__ == "__main__":
    main()
