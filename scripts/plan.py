"""Dry run of a profile: what `dvc exp run -S profile=<name>` would do, and what it would cost.

  uv run python scripts/plan.py --profile paper
  uv run python scripts/plan.py --profile paper teacher.model=claude-haiku-4-5 seeds.n=1000
  uv run python scripts/plan.py --profile paper --json plan.json
  uv run python scripts/plan.py --profile paper --check     # preflight; exit 1 if it fails

Composes the profile from conf/ exactly as the real run does, validates it, and prints the
models, N, the split, the stages that would rerun, the teacher's token use and dollar cost
(from the model table, cbt_datagen/models.yaml, and teacher.prices in params) in four ways of
paying (plain, prompt caching, Message Batches, both) and the training compute. Sends no
request, needs no API key, writes nothing but --json. --check adds the preflight
(scripts/preflight.py).

Estimates, not measurements: tokens are characters / CHARS_PER_TOKEN of the real rendered
prompts (the paper's seeds, the prompt templates, the few-shot examples); reply lengths are
the worked examples' (typical) or max_tokens (upper bound); training time is tokens / an
assumed throughput (--tokens-per-s).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from pathlib import Path
from statistics import mean
from typing import TYPE_CHECKING

import yaml
from compose_params import compose  # beside this script (sys.path[0])
from dvc_stages import downstream, load_stages, reads_param

from cbt_schema.errors import UserError, run_cli

if TYPE_CHECKING:
    from cbt_datagen.prompts import Prompt
    from cbt_schema.params import PipelineParams

ROOT = Path(__file__).resolve().parent.parent
CHARS_PER_TOKEN = 3.5  # English prose in BPE tokenizers (Claude, Llama 3): 3.5-4; low = safe
CHAT_OVERHEAD_TOKENS = 16  # role headers and end-of-turn tokens of one chat example
# The teacher forces one tool (the reply schema); Anthropic adds a tool-use system prompt of
# about 300-400 tokens for a forced tool (its pricing docs), and the tool schema itself.
TOOL_OVERHEAD_TOKENS = 340
# Assumed training throughput (tokens/s) when nothing measured is given: QLoRA on Llama-3-8B
# in 4 bits with unsloth on one A100 80GB, short (< 1k token) examples.
# On a 2-core CPU (the local profile: SmolLM2-135M, LoRA on all linear layers) an assumed
# 300 tokens/s; replace both with measured figures when bench/ has them.
ASSUMED_TOKENS_PER_S = {"GPU": 2000.0, "CPU": 300.0}


def tokens(text: str, chars_per_token: float = CHARS_PER_TOKEN) -> int:
    return math.ceil(len(text) / chars_per_token)


def _flat(value: object, prefix: str = "") -> dict[str, object]:
    if isinstance(value, dict):
        return {k: v for key, sub in value.items()
                for k, v in _flat(sub, f"{prefix}{key}.").items()}
    return {prefix.rstrip("."): value}


def compose_profile(profile: str, overrides: list[str]) -> tuple[dict, Path]:
    tmp = Path(tempfile.mkdtemp(prefix="cbt-plan-")) / "params.yaml"
    compose(tmp, [f"profile={profile}", *overrides])
    return yaml.safe_load(tmp.read_text()), tmp


def teacher_plan(params: PipelineParams, root: Path) -> dict:
    """Calls, tokens and dollars for the events and assessments stages, in four ways of
    paying: plain, with prompt caching, through Message Batches, and both."""
    from cbt_datagen.model_table import lookup, price_for, table_checked
    from cbt_datagen.prompts import examples_path, load_examples, load_prompt, schema_for
    from cbt_datagen.sources import imports
    from cbt_schema import Assessment, EventDraft
    from cbt_seeds.sampling import sample_seeds

    os.chdir(root)  # prompt paths in params are relative to the repo
    teacher = params.teacher
    if imports(teacher):  # no teacher: pairs from an existing dataset
        assert teacher.file is not None
        return {"provider": teacher.provider, "model": teacher.model, "source": teacher.file.path}
    info = lookup(teacher.model)
    per = info.chars_per_token if info else CHARS_PER_TOKEN
    seeds = sample_seeds(params.seeds, params.base.seed)
    examples_file = examples_path(Path(params.assessments.prompt))
    examples = load_examples(examples_file, len(examples_file.read_text().splitlines()))
    typical_event = mean(tokens(ex.event.model_dump_json(), per) for ex in examples)
    typical_answer = mean(tokens(ex.assessment.model_dump_json(), per) for ex in examples)
    anthropic = teacher.provider.startswith("anthropic")
    thinking = anthropic and teacher.thinking == "adaptive"
    price = price_for(teacher.model, teacher.prices)
    min_cache = info.min_cache_tokens if info and info.min_cache_tokens else None

    def stage(name: str, prompt: Prompt, schema: type, users: list[int],
              typical_out: float) -> dict:
        section = getattr(params, name)
        n = len(users)
        system = tokens(prompt.system, per) + tokens(json.dumps(schema_for(schema)), per)
        system += TOOL_OVERHEAD_TOKENS if anthropic and not thinking else 0
        cacheable = bool(anthropic and teacher.prompt_caching and min_cache
                         and system >= min_cache)
        # a cache entry is readable only once the first response that wrote it begins, so
        # the first wave of concurrent requests all write it
        writes = min(n, teacher.max_concurrency) if cacheable else 0
        out_typical = min(typical_out, section.max_tokens)
        out_max = section.max_tokens + (teacher.thinking_max_tokens if thinking else 0)
        user = sum(users) / max(n, 1)

        def dollars(out: float, cached: bool, batch: bool) -> float:
            from cbt_schema import Usage

            if not cached or not cacheable:
                one = Usage(input_tokens=round(system + user), output_tokens=round(out))
                return n * cost_usd(one, price, batch)
            write = Usage(input_tokens=round(user), output_tokens=round(out),
                          cache_creation_input_tokens=system)
            read = Usage(input_tokens=round(user), output_tokens=round(out),
                         cache_read_input_tokens=system)
            return (writes * cost_usd(write, price, batch)
                    + (n - writes) * cost_usd(read, price, batch))

        ways = {"plain": (False, False), "cached": (True, False), "batch": (False, True),
                "batch_cached": (True, True)}
        return {"calls": n, "prefix_tokens": system, "cacheable": cacheable,
                "cache_writes": writes, "few_shot": section.few_shot,
                "max_tokens": section.max_tokens, "input_tokens": round(n * (system + user)),
                "output_tokens_typical": round(n * out_typical),
                "output_tokens_max": n * out_max,
                "cost_usd_typical": {k: round(dollars(out_typical, c, b), 4)
                                     for k, (c, b) in ways.items()},
                "cost_usd_upper_bound": round(dollars(out_max, False, False), 4)}

    from cbt_datagen.money import cost_usd

    event_prompt = load_prompt(params.events.prompt)
    assess_prompt = load_prompt(params.assessments.prompt, params.assessments.few_shot)
    event_text = examples[0].event
    paying = ("batch" if teacher.provider == "anthropic-batch" else "plain")
    paying += "_cached" if teacher.prompt_caching and anthropic else ""
    paying = {"plain_cached": "cached"}.get(paying, paying)
    result = {
        "provider": teacher.provider, "model": teacher.model, "samples": teacher.samples,
        "lifecycle": ({"status": info.status, "released": str(info.released or ""),
                       "table_checked": table_checked()} if info else None),
        "thinking": teacher.thinking if anthropic else None,
        "prompt_caching": teacher.prompt_caching and anthropic, "paying": paying,
        "price_per_million": price.model_dump(exclude_none=True),
        "chars_per_token": per,
        "events": stage("events", event_prompt, EventDraft,
                        [tokens(event_prompt.user(s), per) for s in seeds], typical_event),
        "assessments": stage("assessments", assess_prompt, Assessment,
                             [tokens(assess_prompt.user(event_text), per)]
                             * (len(seeds) * teacher.samples),  # k samples per event
                             typical_answer),
    }
    result["cost_usd_typical"] = {k: round(result["events"]["cost_usd_typical"][k]
                                           + result["assessments"]["cost_usd_typical"][k], 2)
                                  for k in result["events"]["cost_usd_typical"]}
    result["cost_usd_upper_bound"] = round(result["events"]["cost_usd_upper_bound"]
                                           + result["assessments"]["cost_usd_upper_bound"], 2)
    return result


def train_plan(params: PipelineParams, tokens_per_s: float | None) -> dict:
    """Examples, steps, tokens and hours of the train stage."""
    from cbt_datagen.prompts import examples_path, load_examples
    from cbt_schema.render import render_assessment

    n = params.seeds.n
    size = params.dataset.test_size
    n_test = round(n * size) if size < 1 else min(int(size), n)
    n_train = n - n_test
    examples_file = examples_path(Path(params.assessments.prompt))
    examples = load_examples(examples_file, len(examples_file.read_text().splitlines()))
    system = tokens(Path(params.dataset.system_prompt).read_text())
    per_example = mean(system + tokens(f"{ex.event.situation} {ex.event.reaction}")
                       + tokens(render_assessment(ex.assessment)) + CHAT_OVERHEAD_TOKENS
                       for ex in examples)
    per_example = min(per_example, params.train.max_length)
    t = params.train
    global_batch = t.batch_size * t.grad_accum * t.processes  # one optimizer step
    steps_per_epoch = math.ceil(n_train / global_batch)
    steps = int(steps_per_epoch * t.epochs) if t.max_steps <= 0 else t.max_steps
    total_tokens = int(steps * global_batch * per_example)
    device = "GPU" if t.backend == "unsloth" or t.load_in_4bit else "CPU"
    rate = tokens_per_s or ASSUMED_TOKENS_PER_S[device]
    hours = total_tokens / (rate * t.processes) / 3600  # assumes ideal scaling
    return {"base_model": t.base_model, "backend": t.backend, "device": device,
            "load_in_4bit": t.load_in_4bit,
            "lora": t.lora.model_dump(), "epochs": t.epochs, "batch_size": t.batch_size,
            "grad_accum": t.grad_accum, "distributed": t.distributed, "processes": t.processes,
            "global_batch": global_batch, "warmup_steps": t.warmup_steps,
            "learning_rate": t.learning_rate, "optim": t.optim,
            "max_length": t.max_length, "n_train": n_train, "n_test": n_test,
            "tokens_per_example": round(per_example), "steps": steps,
            "train_tokens": total_tokens, "tokens_per_s": rate,
            "tokens_per_s_source": "given" if tokens_per_s else "assumed",
            "hours": round(hours, 3)}


def plan(profile: str, overrides: list[str], tokens_per_s: float | None,
         check: bool = False) -> dict:
    from cbt_schema.params import load_params

    raw, path = compose_profile(profile, overrides)
    try:
        params = load_params(path)
    except UserError as exc:
        source = f"conf/profile/{profile}.yaml" + (" with overrides" if overrides else "")
        raise UserError(str(exc).replace(str(path), source)) from None
    current = _flat(yaml.safe_load((ROOT / "params.yaml").read_text()) or {})
    changed = sorted(k for k, v in _flat(raw).items() if current.get(k) != v)
    stages = load_stages(ROOT)
    touched = [s for s in stages.values() if any(reads_param(s, k) for k in changed)]
    rerun = downstream(stages, *(s.name for s in touched))
    needs_key = params.teacher.provider.startswith("anthropic")
    checks = None
    if check:
        from preflight import run_checks

        checks = [vars(c) for c in run_checks(params, ROOT)]
    return {
        "profile": params.profile, "overrides": overrides, "seeds": params.seeds.n,
        "changed_params": changed,
        "stages_rerun": [s for s in stages if s in rerun],
        "teacher": teacher_plan(params, ROOT),
        "train": train_plan(params, tokens_per_s),
        "api_key": ({"name": "ANTHROPIC_API_KEY",
                     "set": bool(os.environ.get("ANTHROPIC_API_KEY"))} if needs_key else None),
        "command": f"uv run dvc exp run -S profile={profile}"
                   + "".join(f" -S {o}" for o in overrides),
        "checks": checks,
    }


def show(p: dict) -> None:
    print(f"profile {p['profile']}: dry run, nothing sent, nothing spent")
    print(f"  run it with: {p['command']}")
    print(f"  stages that would rerun: {', '.join(p['stages_rerun']) or 'none'} "
          f"({len(p['changed_params'])} params differ from params.yaml)")
    if "source" in p["teacher"]:  # imported: teacher_plan names the file, not a model
        print(f"teacher: none; pairs imported from {p['teacher']['source']} (no requests, $0)")
    else:
        show_teacher(p)
    show_train(p)


def show_teacher(p: dict) -> None:
    te = p["teacher"]
    life = te["lifecycle"]
    status = (f"{life['status']}, released {life['released'] or '?'}; model table checked "
              f"{life['table_checked']}") if life else "not in the model table"
    print(f"teacher: {te['model']} via {te['provider']} ({status}; thinking "
          f"{te['thinking'] or 'n/a'}, {te['chars_per_token']} characters per token)")
    for name in ("events", "assessments"):
        s = te[name]
        cached = (f"cached, {s['cache_writes']} cache writes" if s["cacheable"]
                  else "not cacheable")
        samples = (f" ({te['samples']} samples per event)"
                   if name == "assessments" and te.get("samples", 1) > 1 else "")
        print(f"  {name}: {s['calls']} calls{samples}, shared prefix ~{s['prefix_tokens']} tokens "
              f"({cached}; few-shot {s['few_shot']}), ~{s['input_tokens']:,} input tokens, "
              f"~{s['output_tokens_typical']:,} output (<= {s['output_tokens_max']:,})")
    cost = te["cost_usd_typical"]
    print(f"  teacher cost, typical: ${cost['plain']:.2f} plain, ${cost['cached']:.2f} with "
          f"prompt caching, ${cost['batch']:.2f} with batches, ${cost['batch_cached']:.2f} "
          f"both; this run pays the {te['paying'].replace('_', ' + ')} way: "
          f"~${cost[te['paying']]:.2f}")
    pr = te["price_per_million"]
    print(f"  teacher cost, upper bound: <= ${te['cost_usd_upper_bound']:.2f} if every reply "
          f"hit max_tokens, uncached (per million tokens: ${pr['input']:g} in, "
          f"${pr['output']:g} out, ${pr['cache_write']:g} cache write, ${pr['cache_read']:g} "
          f"cache read, batches {pr['batch_discount']:.0%} off; retries not counted)")
    if p["api_key"]:
        state = "set" if p["api_key"]["set"] else "NOT set (needed for the real run)"
        print(f"  {p['api_key']['name']}: {state}")


def show_train(p: dict) -> None:
    tr = p["train"]
    print(f"seeds: N={p['seeds']}; split {tr['n_train']} train / {tr['n_test']} test")
    lora = tr["lora"]
    print(f"student: {tr['base_model']} ({tr['backend']}, 4-bit {tr['load_in_4bit']}), LoRA "
          f"r={lora['r']} alpha={lora['alpha']} on {','.join(lora['target_modules'])}")
    procs = (f" x {tr['processes']} processes ({tr['distributed']})" if tr["processes"] > 1
             else "")
    print(f"  training: {tr['epochs']:g} epochs x {tr['n_train']} examples, global batch "
          f"{tr['batch_size']} x accumulation {tr['grad_accum']}{procs} = {tr['global_batch']}: "
          f"{tr['steps']} steps ({tr['warmup_steps']} warm-up), ~{tr['tokens_per_example']} "
          f"tokens/example, ~{tr['train_tokens']:,} tokens")
    per = " per process, ideal scaling" if tr["processes"] > 1 else ""
    print(f"  estimated training time: {tr['hours']:.2f} {tr['device']} hours at "
          f"{tr['tokens_per_s']:,.0f} tokens/s{per} ({tr['tokens_per_s_source']}; "
          f"--tokens-per-s to change)")


def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="plan", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="paper", help="conf/profile/<name>.yaml")
    parser.add_argument("--tokens-per-s", type=float, help="training throughput to assume")
    parser.add_argument("--json", type=Path, help="also write the plan as JSON")
    parser.add_argument("--check", action="store_true", help="preflight: credentials, model, "
                        "GPU, base models, stage inputs (free requests only); exit 1 if any "
                        "fails")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. seeds.n=100")
    args = parser.parse_args(argv)
    if not (ROOT / "conf/profile" / f"{args.profile}.yaml").is_file():
        known = ", ".join(sorted(p.stem for p in (ROOT / "conf/profile").glob("*.yaml")))
        raise UserError(f"conf/profile/{args.profile}.yaml: no such profile (known: {known})")
    result = plan(args.profile, args.overrides, args.tokens_per_s, args.check)
    show(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    if result["checks"] is None:
        return 0
    from preflight import Check

    checks = [Check(**c) for c in result["checks"]]
    print(f"preflight ({sum(not c.ok for c in checks)} of {len(checks)} checks failed):")
    for c in checks:
        print(c.line())
    return 1 if any(not c.ok for c in checks) else 0


if __name__ == "__main__":
    sys.exit(run_cli("plan", _main))
