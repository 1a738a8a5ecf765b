"""Render the generated figure blocks of README.md and docs/*.md from committed files.

  uv run python scripts/render_readme.py          # rewrite the blocks in every page
  uv run python scripts/render_readme.py --check  # exit 1 if a page is out of date

A block is the text between `<!-- figures:NAME -->` and `<!-- /figures:NAME -->`; PAGES says
which page holds which block. Its content comes only from committed files (bench/results/,
metrics/, params.yaml, conf/profile/), and tests/test_readme_figures.py checks every page
matches, so a figure in those blocks is never copied by hand. A page holding a block that
PAGES does not give it is an error too.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench/results"


def _load(name: str) -> dict | None:
    path = RESULTS / name
    return json.loads(path.read_text()) if path.is_file() else None


def _when(data: dict) -> str:
    m = data.get("machine", {})
    parts = [m.get("date", "")[:10], f"commit {m['commit']}" if m.get("commit") else "",
             f"{m['cpus']} cores" if m.get("cpus") else "",
             f"load {m['load_average_at_end'][0]}" if m.get("load_average_at_end") else ""]
    return ", ".join(p for p in parts if p)


def paper_cost() -> str:
    plan = _load("plan_paper.json")
    if plan is None:
        return "(no bench/results/plan_paper.json yet)"
    te = plan["teacher"]
    cost, life = te["cost_usd_typical"], te["lifecycle"]
    rows = [f"| {name} | ${cost[key]:.2f} |" for name, key in (
        ("plain (no caching, no batches)", "plain"), ("prompt caching (the default)", "cached"),
        ("Message Batches", "batch"), ("Message Batches + prompt caching", "batch_cached"))]
    return "\n".join([
        f"Planned teacher cost of the paper profile (`scripts/plan.py --profile paper`, "
        f"`bench/results/plan_paper.json`): {te['model']} ({life['status']}, prices from the "
        f"model table checked {life['table_checked']}), {plan['seeds']} events + "
        f"{plan['seeds']} assessments, typical reply lengths:", "",
        "| paying | teacher cost |", "|---|---|", *rows,
        f"| upper bound (every reply at max_tokens, uncached) | "
        f"${te['cost_usd_upper_bound']:.2f} |", "",
        f"Estimates: tokens are characters / {te['chars_per_token']} (the model's "
        f"tokenizer counts about 30% more than Haiku 4.5's); with caching, the first "
        f"{te['assessments']['cache_writes']} requests in flight each write the cache. Training:"
        f" {plan['train']['steps']} steps, {plan['train']['hours']:.2f} GPU hours at an "
        f"*assumed* {plan['train']['tokens_per_s']:,.0f} tokens/s."])


def paper_rehearsal() -> str:
    data = _load("paper_rehearsal.json")
    if data is None:
        return "(no bench/results/paper_rehearsal.json yet)"
    rows = []
    for stage in ("events", "assessments"):
        s = data[stage]
        rows.append(f"| {stage} | {s['records']} / {s['quarantined']} | {s['wall_s']:.1f} s | "
                    f"{s['requests_per_s']:.1f} of {s['ideal_per_s']:.0f} "
                    f"({s['share_of_ideal']:.0%}) | {s['client_cpu_ms_per_request']:.1f} ms |")
    return "\n".join([
        f"Full-size rehearsal against the stand-in (`bench/bench_paper_rehearsal.py`; "
        f"{data['n']} seeds, {data['latency_s']:g} s per reply, concurrency "
        f"{data['concurrency']}; {_when(data)}):", "",
        "| stage | records / quarantined | wall | requests/s (of ideal) | client CPU per request "
        "(start-up included) |", "|---|---|---|---|---|", *rows, "",
        f"Simulated tokens priced at the model table's rates: "
        f"${data['cost_usd_simulated_total']:.2f} for both stages (*simulated*: the stand-in "
        f"counts characters / {data['chars_per_token']}, it is not a bill)."])


def paper_gpu() -> str:
    data = _load("paper_gpu.json")
    if data is None:
        return ("Not yet measured: no CUDA machine was at hand when this was built. The "
                "gpu-marked tests (`uv run pytest -m gpu -s tests/test_paper_gpu.py`) write "
                "`bench/results/paper_gpu.json`, and this block shows them.")
    lines = [f"On {data['gpu']} (random-weight Llama-architecture model, paper settings):", "",
             "| backend | tokens/s | s/step | peak GPU MB | eval examples/s |",
             "|---|---|---|---|---|"]
    for backend in ("hf", "unsloth"):
        train, ev = data.get(f"train_{backend}"), data.get(f"evaluate_{backend}", {})
        if train:
            lines.append(f"| {backend} | {train['tokens_per_s']} | {train['s_per_step']} | "
                         f"{train['peak_gpu_mb']} | {ev.get('examples_per_s', '-')} |")
    return "\n".join(lines)


def _metric(system: dict, key: str, digits: int = 2) -> str:
    value = system.get(key)
    if value is None:
        return "not measurable"
    ci = system.get("ci95", {}).get(key)
    text = f"{round(value, digits) + 0.0:.{digits}f}"
    return f"{text} [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else text


def local_eval() -> str:
    """The evaluation table, chance-corrected figures first, from metrics/eval.json."""
    path = ROOT / "metrics/eval.json"
    m = json.loads(path.read_text())
    student, baseline, ref = m["student"], m["baseline"], m["reference"]
    margin = student["margin_over_best_guesser"]
    names = {"all_labels": "all ten labels", "most_frequent_k":
             f"most frequent k (k = {ref['most_frequent_k']['k']})",
             "prevalence": "prevalence draws"}

    def row(label: str, key: str, digits: int = 2) -> str:
        cells = [_metric(student, key, digits), _metric(baseline, key, digits)]
        cells += [_metric(ref[g], key, digits) for g in names]
        return f"| {label} | " + " | ".join(cells) + " |"

    lo, hi = margin["ci95"] or (float("nan"),) * 2
    flattered = []
    for key, label in (("micro_f1", "micro"), ("weighted_f1", "weighted")):
        top = max(names, key=lambda g, key=key: ref[g].get(key) or 0)
        flattered.append(f"{label} F1 {student[key]:.2f} against {ref[top][key]:.2f} for "
                         f"{names[top]}")
    return "\n".join([
        f"**Local profile result** (`metrics/eval.json`, `reports/eval.md`; {m['n']} test "
        f"examples, greedy; bootstrap 95% intervals in brackets). Teacher and student are both "
        f"SmolLM2-135M: this shows the machinery working, not clinical quality, and "
        f"{m['n']} examples make the intervals wide.", "",
        f"Chance-corrected first: the student's macro F1 margin over the best trivial guesser "
        f"({names[margin['over']]}, which never reads the text) is **{margin['macro_f1']:+.3f} "
        f"[{lo:+.2f}, {hi:+.2f}]**: it {margin['verdict']}. Mean Cohen's kappa over the "
        f"distortions: {student['mean_kappa']:.2f} (0 is chance). The figures that reward "
        f"naming many labels put the student beside the guessers: "
        f"{'; '.join(flattered)}.", "",
        "| metric | student (base + LoRA) | baseline (untuned base) | "
        + " | ".join(names.values()) + " |",
        "|---|---|---|" + "---|" * len(names),
        row("mean Cohen's kappa", "mean_kappa"), row("macro F1", "macro_f1"),
        row("micro F1", "micro_f1"), row("weighted F1", "weighted_f1"),
        row("distorted-or-not F1", "binary_f1"), row("exact-set accuracy", "exact_set_accuracy"),
        f"| format validity (answers that parse) | {student['format_validity']:.2f} | "
        f"{baseline['format_validity']:.2f} | " + " | ".join("–" for _ in names) + " |",
        f"| test loss / perplexity on the teacher's answers | {student['test_loss']:.2f} / "
        f"{student['perplexity']:.1f} | {baseline['test_loss']:.2f} / "
        f"{baseline['perplexity']:.1f} | " + " | ".join("–" for _ in names) + " |",
        "", _binary_note(ref["always_distorted"]), "",
        "Speed is not a result, so `metrics/eval.json` holds none: a run writes its seconds per "
        "example to `timings/evaluate.json` (git-ignored); committed inference speeds are in "
        "[the measured figures](figures.md) (`bench/results/infer.json`)."])


def _binary_note(always: dict) -> str:
    if always.get("binary_f1") is None:
        return ("Distorted-or-not F1 is not measurable while every gold assessment in the test "
                "split names a distortion: any answer that names anything would score 1.")
    return (f"Distorted-or-not F1 is measured against calling every text distorted, which "
            f"scores {always['binary_f1']:.2f} on this split (precision "
            f"{always['binary_precision']:.2f}: the share of test texts with a distortion).")


def crisis_screen() -> str:
    """The tiered screen's rates on the training texts (cross-validated) and held-out sets."""
    m = json.loads((ROOT / "metrics/crisis_screen.json").read_text())
    t, targets = m["thresholds"], m["targets"]

    def row(what: str, r: dict) -> str:
        met = {True: "yes", False: "**no**"}.get(r.get("meets_targets"), "(chooses thresholds)")
        cells = [f"{r[k]['recall']:.2f} / {r[k]['false_positive_rate']:.0%}"
                 for k in ("keywords", "resources_shown", "resources_first", "resources_only")]
        return f"| {what} | {r['crisis']} / {r['ordinary']} | {' | '.join(cells)} | {met} |"

    held = [k for k in m if k.startswith("heldout")]
    return "\n".join([
        f"Measured (`metrics/crisis_screen.json`, written by the `crisis_probe` stage). Probe "
        f"thresholds: possible risk {t['possible']:.3f}, likely risk {t['likely']:.3f}, chosen "
        f"on {m['chosen_for']['on']} for a recall of resources shown of "
        f"{m['chosen_for']['recall_resources_shown']:.2f} and at most "
        f"{m['chosen_for']['ordinary_resources_only_at_most']:.0%} of ordinary texts sent to "
        f"resources only. Targets on the held-out sets: recall of resources shown at least "
        f"{targets['recall_resources_shown_at_least']:.2f}, ordinary texts with resources only "
        f"at most {targets['ordinary_resources_only_at_most']:.0%} and with resources at all at "
        f"most {targets.get('ordinary_resources_shown_at_most', 1):.0%}. Each cell: share of "
        "crisis texts / share of ordinary texts.", "",
        "| texts | crisis / ordinary | keywords alone | resources shown at all (possible or "
        "likely) | resources first, then the analysis (possible) | resources only (likely) | "
        "meets targets |",
        "|---|---|---|---|---|---|---|",
        row("all of `safety/train`, cross-validated", m["train"]),
        *(row(f"held-out `{name}`", m[name]) for name in held)])


def crisis_startup() -> str:
    from render_assessor import crisis_startup as block

    return block()


def assessor() -> str:
    from render_assessor import assessor as block

    return block()


def serve() -> str:
    from render_assessor import serve as block

    return block()


def modelfile_crisis() -> str:
    """How often the exported student follows the Modelfile's crisis instruction."""
    path = ROOT / "bench/results/modelfile_crisis.json"
    if not path.is_file():
        return ("Not measured in a committed file: run `uv run python "
                "bench/bench_modelfile_crisis.py`.")
    d = json.loads(path.read_text())
    c, o = d["crisis"], d["ordinary"]
    return (f"Measured on `safety/{d['set']}` (`bench/bench_modelfile_crisis.py`, "
            f"{d['gguf_file']}, greedy): of {c['n']} crisis texts the exported student answered "
            f"{c['share_followed']:.0%} with resources and no analysis (as instructed), "
            f"{c['share_with_resources']:.0%} with any resource and "
            f"{c['share_with_analysis']:.0%} with an analysis; of {o['n']} ordinary texts, "
            f"{o['share_with_resources']:.0%} mentioned a resource "
            f"({d['s_per_reply']:.1f} s per reply at load "
            f"{d['machine']['load_average_at_end'][0]:.1f}).")


# The paper's reported losses (shared/reference/cbtllama-paper.txt, line 132): initial train
# 1.78, after 5 epochs train 0.27 and test 0.8614; which tokens they cover is not stated.
PAPER_LOSSES = {"initial_train": 1.78, "final_train": 0.27, "final_test": 0.8614}


def losses() -> str:
    """Both loss definitions of the committed training run beside the paper's figures."""
    m = json.loads((ROOT / "metrics/train.json").read_text())
    if "losses" not in m:
        return "Not measured yet: rerun the train stage (`dvc repro train`)."
    rows = [f"| this run, {kind} tokens{' (trained on)' if kind == m['loss_on'] else ''} | "
            f"{v['initial_train']:.3f} → {v['final_train']:.3f} | "
            f"{v['initial_test']:.3f} → {v['final_test']:.3f} |"
            for kind, v in m["losses"].items()]
    p = PAPER_LOSSES
    return "\n".join([
        f"Losses (`metrics/train.json`; {m['base_model']}, {m['examples']['train']} training "
        f"examples, {m['epochs']:g} epochs, {m['backend']} on {m['device']}) beside the paper's "
        "(its text, line 132; its tokens are not stated). The local profile is a machinery check "
        f"on a 135M model and {m['examples']['train']} examples, so only the method is "
        "comparable, not the values:", "",
        "| run | train loss (before → after) | test loss (before → after) |", "|---|---|---|",
        *rows,
        f"| the paper (Llama-3-8B, 621 examples, 5 epochs) | {p['initial_train']} → "
        f"{p['final_train']} | ? → {p['final_test']} |"])


def measured() -> str:
    from render_measured import measured as table  # beside this script (sys.path[0])

    return table()


def ddp() -> str:
    from render_measured import ddp_rehearsal

    return ddp_rehearsal()


def repro_tolerance() -> str:
    from render_repro import repro_tolerance as block

    return block()


def teacher_audit() -> str:
    from render_teachers import teacher_audit as block

    return block()


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        out[key] = (_merge(out[key], value) if isinstance(value, dict)
                    and isinstance(out.get(key), dict) else value)
    return out


def _profile(name: str) -> dict:
    """conf/profile/NAME.yaml over the profiles its `defaults` list names, as Hydra composes
    them (every profile file lists `_self_` last)."""
    import yaml

    raw = yaml.safe_load((ROOT / f"conf/profile/{name}.yaml").read_text(encoding="utf-8"))
    merged: dict = {}
    for parent in raw.pop("defaults", []):
        if parent != "_self_":
            merged = _merge(merged, _profile(parent))
    return _merge(merged, raw)


def _teacher(c: dict) -> str:
    t = c["teacher"]
    if t["provider"] == "file":
        return f"`file`: pairs imported from `{t['file']['path']}`"
    if t["provider"].startswith("anthropic"):
        caching = "prompt caching" if t["prompt_caching"] else "no prompt caching"
        return (f"`{t['provider']}`: {t['model']}, thinking {t['thinking']}, {caching}, "
                f"{c['assessments']['few_shot']} few-shot examples")
    return f"`{t['provider']}`: {t['model']}"


def _student(c: dict) -> str:
    b, tr = c["base_model"], c["train"]
    name = b["name"] if b["source"] == "hub" else (
        f"{Path(b['gguf_file']).name.split('.Q')[0]} (the GGUF in `{b['name']}`)")
    bits = "4-bit" if tr["load_in_4bit"] else "full precision"
    targets = "/".join(m.removesuffix("_proj") for m in tr["lora"]["target_modules"])
    return (f"{name}, {bits}; LoRA r={tr['lora']['r']} α={tr['lora']['alpha']} on {targets}; "
            f"backend {tr['backend']}")


def _training(c: dict) -> str:
    tr = c["train"]
    checkpointing = ", gradient checkpointing" if tr["gradient_checkpointing"] else ""
    return (f"lr {tr['learning_rate']:g} {tr['lr_scheduler']}, {tr['optim']}, batch "
            f"{tr['batch_size']} × accumulation {tr['grad_accum']}, {tr['warmup_steps']} "
            f"warm-up steps, {tr['epochs']} epochs, max length {tr['max_length']}{checkpointing}")


def _split(size: float) -> str:
    return f"{size:.0%}" if size < 1 else f"{size:g}"


PROFILE_ROWS: dict[str, Callable[[dict], str]] = {
    "teacher": _teacher,
    "seeds / test split": lambda c: f"{c['seeds']['n']} / {_split(c['dataset']['test_size'])}",
    "events asked for balanced thinking": lambda c: f"{c['events']['balanced_fraction']:.0%}",
    "training target": lambda c: c["dataset"]["target"],
    "student": _student,
    "training": _training,
}


def profiles() -> str:
    """The profiles side by side, composed from conf/profile/*.yaml."""
    import yaml

    others = sorted(p.stem for p in (ROOT / "conf/profile").glob("*.yaml") if p.stem != "local")
    names = ["local", *others]
    composed = {name: _profile(name) for name in names}
    committed = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    if composed["local"] != committed:
        raise SystemExit("conf/profile/local.yaml does not compose to params.yaml: run "
                         "scripts/compose_params.py")
    heads = [f"{n} (default)" if n == "local" else n for n in names]
    return "\n".join([
        "| | " + " | ".join(heads) + " |", "|---|" + "---|" * len(names),
        *(f"| {label} | " + " | ".join(row(composed[n]) for n in names) + " |"
          for label, row in PROFILE_ROWS.items())])


# Which page holds which block. Every page is rendered and checked, and a page that holds a
# block it is not given here is an error (a figure is never typed into a page by hand).
PAGES: dict[str, dict[str, Callable[[], str]]] = {
    "README.md": {"profiles": profiles},
    "docs/paper-profile.md": {"paper-cost": paper_cost, "paper-rehearsal": paper_rehearsal,
                              "paper-gpu": paper_gpu},
    "docs/teacher.md": {"teacher-audit": teacher_audit},
    "docs/training.md": {"losses": losses, "ddp": ddp},
    "docs/inference.md": {"assessor": assessor, "crisis-screen": crisis_screen,
                          "crisis-startup": crisis_startup, "modelfile-crisis": modelfile_crisis,
                          "serve": serve},
    "docs/evaluation.md": {"local-eval": local_eval},
    "docs/team-workflow.md": {"repro-tolerance": repro_tolerance},
    "docs/figures.md": {"measured": measured},
}
MARKER = re.compile(r"^<!-- figures:([a-z0-9-]+) -->$", re.M)


def render(page: str, text: str) -> str:
    """`text` with each of `page`'s blocks rendered anew."""
    blocks = PAGES.get(page, {})
    stray = sorted(set(MARKER.findall(text)) - set(blocks))
    if stray:
        raise SystemExit(f"{page}: block(s) {', '.join(stray)} belong to no page here; see "
                         "PAGES in scripts/render_readme.py")
    for name, make in blocks.items():
        pattern = re.compile(rf"(<!-- figures:{name} -->\n)(?:.*?\n)?(<!-- /figures:{name} -->)",
                             re.S)
        if not pattern.search(text):
            raise SystemExit(f"{page}: no block <!-- figures:{name} -->")
        block = make()
        text = pattern.sub(lambda m, b=block: m.group(1) + b + "\n" + m.group(2), text)
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 if a page is stale")
    args = parser.parse_args()
    pages = sorted({*PAGES, "README.md",
                    *(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md"))})
    stale = []
    for page in pages:
        path = ROOT / page
        current = path.read_text(encoding="utf-8")
        rendered = render(page, current)
        if rendered != current:
            stale.append(page)
            if not args.check:
                path.write_text(rendered, encoding="utf-8")
    if args.check and stale:
        print(f"{', '.join(stale)}: figure blocks are stale; run scripts/render_readme.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
