"""Dry run of a profile: what `dvc exp run -S profile=<name>` would do, and what it would cost.

  uv run python scripts/plan.py --profile paper
  uv run python scripts/plan.py --profile paper teacher.model=claude-haiku-4-5 seeds.n=1000
  uv run python scripts/plan.py --profile paper --json plan.json

Composes the profile from conf/ exactly as the real run does, validates it, and prints the
models, N, the split, the stages that would rerun, the teacher's token use and dollar cost
(from the price table in params, via cbt_datagen.costs) and the training compute. Sends no
request, needs no API key, writes nothing but --json.

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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compose_params import compose
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


def tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def _flat(value: object, prefix: str = "") -> dict[str, object]:
    if isinstance(value, dict):
        return {k: v for key, sub in value.items()
                for k, v in _flat(sub, f"{prefix}{key}.").items()}
    return {prefix.rstrip("."): value}


def min_cacheable_tokens(model: str) -> int:
    """Shortest prefix Anthropic caches (its prompt-caching docs); shorter is billed plain."""
    if "haiku-4" in model or "opus-4-5" in model:
        return 4096
    return 2048 if "haiku" in model else 1024


def compose_profile(profile: str, overrides: list[str]) -> tuple[dict, Path]:
    tmp = Path(tempfile.mkdtemp(prefix="cbt-plan-")) / "params.yaml"
    compose(tmp, [f"profile={profile}", *overrides])
    return yaml.safe_load(tmp.read_text()), tmp


def teacher_plan(params: PipelineParams, root: Path) -> dict:
    """Calls, tokens and dollars for the events and assessments stages."""
    from cbt_datagen.costs import cost_usd, price_for
    from cbt_datagen.prompts import examples_path, load_examples, load_prompt, schema_for
    from cbt_schema import Assessment, EventDraft, Usage
    from cbt_seeds.sampling import sample_seeds

    os.chdir(root)  # prompt paths in params are relative to the repo
    seeds = sample_seeds(params.seeds, params.base.seed)
    examples_file = examples_path(Path(params.assessments.prompt))
    examples = load_examples(examples_file, len(examples_file.read_text().splitlines()))
    typical_event = mean(tokens(ex.event.model_dump_json()) for ex in examples)
    typical_answer = mean(tokens(ex.assessment.model_dump_json()) for ex in examples)
    anthropic = params.teacher.provider.startswith("anthropic")
    batch = params.teacher.provider == "anthropic-batch"
    price = price_for(params.teacher.model, params.teacher.prices)

    def stage(name: str, prompt: Prompt, schema: type, users: list[int],
              typical_out: float) -> dict:
        section = getattr(params, name)
        n = len(users)
        system = tokens(prompt.system) + tokens(json.dumps(schema_for(schema)))
        system += TOOL_OVERHEAD_TOKENS if anthropic else 0
        caching = (anthropic and params.teacher.prompt_caching
                   and system >= min_cacheable_tokens(params.teacher.model))
        out_typical = int(n * min(typical_out, section.max_tokens))
        out_max = n * section.max_tokens
        plain_in = n * system + sum(users)
        usages = {
            "typical": Usage(input_tokens=sum(users) if caching else plain_in,
                             output_tokens=out_typical,
                             cache_creation_input_tokens=system if caching else 0,
                             cache_read_input_tokens=(n - 1) * system if caching else 0),
            "upper_bound": Usage(input_tokens=plain_in, output_tokens=out_max),
        }
        return {"calls": n, "prefix_tokens": system, "cached": caching,
                "few_shot": section.few_shot,
                "max_tokens": section.max_tokens,
                "input_tokens": plain_in, "output_tokens_typical": out_typical,
                "output_tokens_max": out_max,
                **{f"cost_usd_{k}": round(cost_usd(u, price, batch=batch), 4)
                   for k, u in usages.items()}}

    event_prompt = load_prompt(params.events.prompt)
    assess_prompt = load_prompt(params.assessments.prompt, params.assessments.few_shot)
    event_text = examples[0].event
    result = {
        "provider": params.teacher.provider, "model": params.teacher.model,
        "prompt_caching": params.teacher.prompt_caching and anthropic,
        "batch_discount": batch, "price_per_million": price.model_dump(),
        "events": stage("events", event_prompt, EventDraft,
                        [tokens(event_prompt.user(s)) for s in seeds], typical_event),
        "assessments": stage("assessments", assess_prompt, Assessment,
                             [tokens(assess_prompt.user(event_text))] * len(seeds),
                             typical_answer),
    }
    for key in ("cost_usd_typical", "cost_usd_upper_bound"):
        result[key] = round(result["events"][key] + result["assessments"][key], 2)
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
    steps_per_epoch = math.ceil(n_train / (t.batch_size * t.grad_accum))
    steps = int(steps_per_epoch * t.epochs) if t.max_steps <= 0 else t.max_steps
    total_tokens = int(steps * t.batch_size * t.grad_accum * per_example)
    device = "GPU" if t.backend == "unsloth" or t.load_in_4bit else "CPU"
    rate = tokens_per_s or ASSUMED_TOKENS_PER_S[device]
    hours = total_tokens / rate / 3600
    return {"base_model": t.base_model, "backend": t.backend, "device": device,
            "load_in_4bit": t.load_in_4bit,
            "lora": t.lora.model_dump(), "epochs": t.epochs, "batch_size": t.batch_size,
            "grad_accum": t.grad_accum, "learning_rate": t.learning_rate, "optim": t.optim,
            "max_length": t.max_length, "n_train": n_train, "n_test": n_test,
            "tokens_per_example": round(per_example), "steps": steps,
            "train_tokens": total_tokens, "tokens_per_s": rate,
            "tokens_per_s_source": "given" if tokens_per_s else "assumed",
            "hours": round(hours, 3)}


def plan(profile: str, overrides: list[str], tokens_per_s: float | None) -> dict:
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
    }


def show(p: dict) -> None:
    te, tr = p["teacher"], p["train"]
    print(f"profile {p['profile']}: dry run, nothing sent, nothing spent")
    print(f"  run it with: {p['command']}")
    print(f"  stages that would rerun: {', '.join(p['stages_rerun']) or 'none'} "
          f"({len(p['changed_params'])} params differ from params.yaml)")
    print(f"teacher: {te['model']} via {te['provider']} (caching {te['prompt_caching']}, "
          f"batch discount {te['batch_discount']})")
    for name in ("events", "assessments"):
        s = te[name]
        cached = "cached" if s["cached"] else "not cached"
        print(f"  {name}: {s['calls']} calls, shared prefix ~{s['prefix_tokens']} tokens "
              f"({cached}; few-shot {s['few_shot']}), ~{s['input_tokens']:,} input tokens, "
              f"~{s['output_tokens_typical']:,} output (<= {s['output_tokens_max']:,}); "
              f"${s['cost_usd_typical']:.2f} typical, <= ${s['cost_usd_upper_bound']:.2f}")
    print(f"  teacher cost: ~${te['cost_usd_typical']:.2f} typical, "
          f"<= ${te['cost_usd_upper_bound']:.2f} if every reply hit max_tokens "
          f"(price table: {te['price_per_million']} $/M tokens; retries not counted)")
    if p["api_key"]:
        state = "set" if p["api_key"]["set"] else "NOT set (needed for the real run)"
        print(f"  {p['api_key']['name']}: {state}")
    print(f"seeds: N={p['seeds']}; split {tr['n_train']} train / {tr['n_test']} test")
    lora = tr["lora"]
    print(f"student: {tr['base_model']} ({tr['backend']}, 4-bit {tr['load_in_4bit']}), LoRA "
          f"r={lora['r']} alpha={lora['alpha']} on {','.join(lora['target_modules'])}")
    print(f"  training: {tr['epochs']:g} epochs x {tr['n_train']} examples, batch "
          f"{tr['batch_size']} x accumulation {tr['grad_accum']} = {tr['steps']} steps, "
          f"~{tr['tokens_per_example']} tokens/example, ~{tr['train_tokens']:,} tokens")
    print(f"  estimated training time: {tr['hours']:.2f} {tr['device']} hours at "
          f"{tr['tokens_per_s']:,.0f} tokens/s ({tr['tokens_per_s_source']}; "
          f"--tokens-per-s to change)")


def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="plan", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="paper", help="conf/profile/<name>.yaml")
    parser.add_argument("--tokens-per-s", type=float, help="training throughput to assume")
    parser.add_argument("--json", type=Path, help="also write the plan as JSON")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. seeds.n=100")
    args = parser.parse_args(argv)
    if not (ROOT / "conf/profile" / f"{args.profile}.yaml").is_file():
        known = ", ".join(sorted(p.stem for p in (ROOT / "conf/profile").glob("*.yaml")))
        raise UserError(f"conf/profile/{args.profile}.yaml: no such profile (known: {known})")
    result = plan(args.profile, args.overrides, args.tokens_per_s)
    show(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli("plan", _main))
