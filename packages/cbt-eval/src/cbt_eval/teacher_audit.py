"""cbt-eval teacher: score a teacher on labelled real texts before paying for a full run.

Each text goes to the teacher through the pipeline's own assessment prompt (the params'
`assessments` section) and engine, as an event whose situation is the text, so the audit
measures exactly what the assessments stage would get. Differences, both on purpose:
- every text may be answered with no findings (real texts can hold none; the pipeline allows
  that only for events written as balanced);
- replies go to their own resume log (`teacher-audit.jsonl` in the work dir), so an
  interrupted audit resumes without paying twice and never mixes with the pipeline's log.

With teacher.samples k > 1 each text is asked k times and scored on the merged labels
(cbt_datagen.tasks.assessments), with Fleiss' kappa. A text whose every reply was quarantined
counts as naming nothing (the teacher failed it); a text the cost ceiling left unasked is not
scored.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path
from typing import Any

from cbt_eval.evaluate import LABELS
from cbt_eval.external import LabelledSet
from cbt_eval.external_run import scored
from cbt_eval.guessers import reference_scores
from cbt_schema import UserError
from cbt_schema.params import PipelineParams

LOG_NAME = "teacher-audit.jsonl"


def text_id(text: str) -> str:
    return "text-" + hashlib.sha256(text.encode()).hexdigest()[:16]


def teacher_replies(texts: list[str], params: PipelineParams, *, work_dir: Path,
                    max_usd: float | None, progress: bool, source: str
                    ) -> tuple[dict[str, list[tuple[int, Any]]], Any, str]:
    """Ask the teacher about every text (k samples each): ({text id: [(sample, record)]},
    the engine's StageResult, the prompt's sha256)."""
    from cbt_datagen.engine import run_stage
    from cbt_datagen.model_table import check_model, price_for
    from cbt_datagen.money import Budget
    from cbt_datagen.prompts import load_prompt
    from cbt_datagen.sources import TeacherSource
    from cbt_datagen.tasks import assessments
    from cbt_schema import Event

    teacher, section = params.teacher, params.assessments
    check_model(teacher, source=source)
    price = price_for(teacher.model, teacher.prices, source=source)
    prompt = load_prompt(section.prompt, section.few_shot)
    schema = assessments.open_schema()
    k = teacher.samples
    items = [(assessments.sample_item_id(text_id(t), j),
              prompt.user(Event(id=text_id(t), seed_id="audit", situation=t)))
             for t in texts for j in range(1, k + 1)]
    replies: dict[str, list[tuple[int, Any]]] = {}
    build = assessments.builder(lambda sample, record: replies.setdefault(
        record.event_id, []).append((sample, record)), prefix="audit")

    teaching = TeacherSource(params)
    output_bound = section.max_tokens + (teacher.thinking_max_tokens
                                         if teacher.thinking == "adaptive" else 0)
    budget = (Budget(max_usd, price, teaching.batch, output_bound) if max_usd is not None
              else None)
    task = assessments.task(prompt, section.max_tokens, name="teacher-audit", build=build,
                            key_params={**teaching.key_params(section.max_tokens),
                                        "findings": "open"},
                            schema_of=lambda _item: schema)
    result = run_stage(teaching.provider(work_dir), task, items, work_path=work_dir / LOG_NAME,
                       max_attempts=teacher.max_attempts, price=price, batch=teaching.batch,
                       progress=progress, budget=budget)
    return replies, result, prompt.sha256


def audit(data: LabelledSet, params: PipelineParams, *, work_dir: Path,
          max_usd: float | None = None, limit: int | None = None, progress: bool = True,
          bootstrap: int = 1000, source: str = "params.yaml") -> dict[str, Any]:
    """The audit report: the teacher, the data, every metric with intervals, cost and
    throughput, and (k > 1) agreement."""
    from cbt_datagen.tasks.assessments import choose_targets, labels_of, split_item_id

    texts = data.texts[:limit] if limit else data.texts
    gold_by_text = dict(zip(texts, data.gold, strict=False))
    replies, result, sha = teacher_replies(texts, params, work_dir=work_dir, max_usd=max_usd,
                                        progress=progress, source=source)
    teacher = params.teacher
    k = teacher.samples
    merged: dict[str, frozenset[str]] = {}
    consensus = None
    if k > 1:
        pairs = [pair for samples in replies.values() for pair in samples]
        chosen, consensus = choose_targets(pairs, k, teacher.majority)
        merged = {r.event_id: frozenset(d.value for d in r.consensus.merged) for r in chosen}
    else:
        merged = {eid: labels_of(samples[0][1]) for eid, samples in replies.items()}
    run = result.metrics
    unasked = Counter(split_item_id(item)[0] for item in result.not_asked)
    asked = [t for t in texts if unasked[text_id(t)] < k]  # asked at least once: scored
    not_asked = len(result.not_asked)
    gold = [gold_by_text[t] for t in asked]
    preds = [merged.get(text_id(t), frozenset()) for t in asked]
    if not asked:
        raise UserError("the cost ceiling stopped the audit before any text was answered "
                        f"(the first request could cost up to "
                        f"${run['budget']['next_request_worst_case_usd']}); raise --max-dollars")
    reference = reference_scores(gold, LABELS, resamples=bootstrap, seed=params.base.seed)
    metrics = {"metrics": scored(gold, preds, reference, bootstrap, params.base.seed),
               "reference": reference}
    requested = max(1, run["requested"])
    return {
        "teacher": {"provider": teacher.provider, "model": teacher.model,
                    "samples": k, "majority": teacher.majority, "thinking": teacher.thinking,
                    "effort": teacher.effort, "prompt": params.assessments.prompt,
                    "few_shot": params.assessments.few_shot, "prompt_sha256": sha},
        "data": data.report(),
        "texts": {"in_file": len(data.texts), "audited": len(texts), "scored": len(asked),
                  "not_asked": len(texts) - len(asked),
                  "without_valid_reply": sum(text_id(t) not in merged for t in asked)},
        **metrics,
        "consensus": consensus,
        "cost": {"usd": run["cost_usd"], "this_run_usd": run["this_run"]["cost_usd"],
                 "usd_per_text": round(run["cost_usd"] / len(asked), 6),
                 "tokens": run["tokens"],
                 "requests_per_second": result.timings["requests_per_second"],
                 "wall_s": result.timings["wall_s"]},
        "replies": {"requested": run["requested"], "resumed": run["resumed"],
                    "repaired_share": round(run["repaired"] / requested, 4),
                    "quarantined_share": round(run["quarantined"] / requested, 4),
                    "valid_first_try_fraction": run["valid_first_try_fraction"]},
        "budget": run.get("budget"),
        "stopped": (f"cost ceiling ${max_usd}: {not_asked} requests not sent"
                    if not_asked else None),
    }
