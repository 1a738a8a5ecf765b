"""What the `events` and `assessments` subcommands share: options, checks, the run, the files."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cbt_schema import UserError
from cbt_schema.params import PipelineParams, TeacherParams

WORK_DIR = ".cache/datagen"


class TooManyQuarantined(UserError):
    """The run finished and wrote its files, but more replies than allowed were quarantined."""

    exit_code = 1


def add_common(parser: argparse.ArgumentParser, stage: str) -> None:
    parser.add_argument("--params", default="params.yaml", help="params file")
    parser.add_argument("--out", default=f"data/generated/{stage}.jsonl")
    parser.add_argument("--quarantine", default=f"data/generated/{stage}.quarantine.jsonl",
                        help="replies that never validated, with their raw text")
    parser.add_argument("--metrics", default=f"metrics/datagen_{stage}.json"
                        if stage == "events" else "metrics/datagen.json")
    parser.add_argument("--work-dir", default=WORK_DIR,
                        help="resume log of paid replies (kept outside DVC outputs)")
    parser.add_argument("-n", "--limit", type=int, help="only the first N inputs")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


RUN_FACTS = ("resumed", "this_run")


def with_earlier_stages(report: dict[str, Any], earlier: str | None) -> dict[str, Any]:
    """The stage's metrics, preceded by an earlier stage's (its metrics file) and a total.

    So metrics/datagen.json holds the whole teacher run: events, assessments and their sum.
    """
    if not earlier:
        return report
    import json

    path = Path(earlier)
    try:
        sections = {**json.loads(path.read_text(encoding="utf-8")), **report}
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: cannot read the earlier stage's metrics ({exc})") from None
    total: dict[str, Any] = {"requested": 0, "succeeded": 0, "repaired": 0, "quarantined": 0,
                             "cost_usd": 0.0, "tokens": {}}
    for section in sections.values():
        for key in ("requested", "succeeded", "repaired", "quarantined", "cost_usd"):
            total[key] += section.get(key, 0)
        for key, value in section.get("tokens", {}).items():
            total["tokens"][key] = total["tokens"].get(key, 0) + value
    total["cost_usd"] = round(total["cost_usd"], 6)
    return {**sections, "total": total}


def cap_schema(teacher: TeacherParams, stage: Stage) -> dict[str, Any]:
    """The schema the teacher's replies were bounded by: the local teacher's tightened copy
    (its strings end at these maxLengths), else the record's own."""
    from cbt_datagen.prompts import schema_for

    schema = schema_for(stage.reply_model)
    if teacher.provider == "local":
        from cbt_datagen.providers.local import fit_schema

        return fit_schema(schema, stage.max_tokens)
    return schema


@dataclass
class Stage:
    name: str
    reply_model: type
    prompt_path: str
    few_shot: int
    max_tokens: int
    build: Callable[..., Any]
    quality: Callable[[list[Any], dict[str, Any]], dict[str, float]]  # (records, cap schema)
    schema_of: Callable[[str], dict[str, Any] | None] | None = None  # item id -> schema
    # records -> (the records to write, a metrics section): teacher.samples' consensus
    finish: Callable[[list[Any]], tuple[list[Any], dict[str, Any]]] | None = None
    samples: int = 1  # requests per input (--limit counts inputs)


def run(args: argparse.Namespace, params: PipelineParams, stage: Stage,
        items: Sequence[tuple[str, str]] | Callable[[Any], Sequence[tuple[str, str]]]) -> int:
    """Model and price check, prompt, provider (key check), generate, write outputs, metrics
    and the run's timings (timings/<stage>.json)."""
    from cbt_datagen.engine import StageSpec, run_stage
    from cbt_datagen.model_table import check_model, price_for
    from cbt_datagen.prompts import load_prompt
    from cbt_datagen.providers.factory import make_provider
    from cbt_datagen.specs import key_params
    from cbt_schema.jsonl import write_json, write_jsonl
    from cbt_schema.timings import write_timings

    teacher: TeacherParams = params.teacher
    check_model(teacher, source=args.params)
    price = price_for(teacher.model, teacher.prices, source=args.params)
    prompt = load_prompt(stage.prompt_path, stage.few_shot)
    work = list(items(prompt) if callable(items) else items)
    if args.limit is not None:
        work = work[: max(0, args.limit) * stage.samples]
    spec = StageSpec(stage=stage.name, reply_model=stage.reply_model, prompt=prompt,
                     max_tokens=stage.max_tokens, build=stage.build,
                     key_params=key_params(params, stage.max_tokens),
                     schema_of=stage.schema_of)
    work_dir = Path(args.work_dir)
    provider = make_provider(teacher, seed=params.base.seed, state_dir=work_dir)
    result = run_stage(provider, spec, work, work_path=work_dir / f"{stage.name}.jsonl",
                       max_attempts=teacher.max_attempts, price=price,
                       batch=teacher.provider == "anthropic-batch",
                       progress=not args.no_progress)
    records, finished = (stage.finish(result.records) if stage.finish
                         else (result.records, None))
    write_jsonl(args.out, records)
    write_jsonl(args.quarantine, result.quarantined)
    # what this run did (replies resumed from the log, replies paid now) depends on the log's
    # history, not on the records: a timing, so a fresh clone writes the same metrics
    made = {k: v for k, v in result.metrics.items() if k not in RUN_FACTS}
    metrics = {**made, "quality": stage.quality(result.records, cap_schema(teacher, stage))}
    if finished is not None:
        metrics["consensus"] = finished
    write_json(args.metrics, with_earlier_stages({stage.name: metrics},
                                                 getattr(args, "earlier_metrics", None)))
    write_timings(stage.name, {**result.timings,
                               **{k: result.metrics[k] for k in RUN_FACTS}})
    m = result.metrics
    merged = f" (merged into {len(records)})" if finished is not None else ""
    print(f"{stage.name}: {m['succeeded']}{merged} written to {args.out} ({m['resumed']} resumed, "
          f"{m['repaired']} repaired), {m['quarantined']} quarantined to {args.quarantine}, "
          f"${m['cost_usd']:.4f}")
    if result.quarantined_fraction > teacher.max_quarantined_fraction:
        raise TooManyQuarantined(
            f"{m['quarantined']} of {m['requested']} {stage.name} quarantined "
            f"({result.quarantined_fraction:.0%} > teacher.max_quarantined_fraction "
            f"{teacher.max_quarantined_fraction:.0%}); see {args.quarantine}")
    return 0
