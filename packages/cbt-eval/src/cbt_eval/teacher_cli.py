"""The `teacher` and `teachers-report` subcommands of cbt-eval (see cbt_eval.teacher_audit)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cbt_schema import UserError, paths

PROVIDERS = ("local", "anthropic", "anthropic-batch", "openai-compatible")


def add_parsers(sub: Any, labelled_options: Callable[[argparse.ArgumentParser], None]
                ) -> tuple[argparse.ArgumentParser, ...]:
    """Add the two subcommands to `sub`; return their parsers."""
    t = sub.add_parser("teacher", help="score a teacher provider on a labelled file, with "
                       "cost, before paying for a full run")
    labelled_options(t)
    t.add_argument("--params", default=paths.PARAMS,
                   help="the teacher, the assessment prompt and the seed come from here")
    t.add_argument("--provider", choices=PROVIDERS, help="override teacher.provider")
    t.add_argument("--model", help="override teacher.model")
    t.add_argument("--base-url", help="override teacher.base_url")
    t.add_argument("--samples", type=int, help="override teacher.samples (k per text)")
    t.add_argument("--majority", type=float, help="override teacher.majority")
    t.add_argument("--limit", type=int, help="only the first K texts")
    t.add_argument("--max-dollars", type=float,
                   help="stop before this run could pay more than this (resumed replies are "
                   "free); what was paid for is kept and scored")
    t.add_argument("--label", help="the row's name in the side-by-side report")
    t.add_argument("--work-dir", type=Path, default=paths.DATAGEN_WORK,
                   help="resume log of paid replies")
    t.add_argument("--out", type=Path, help="report JSON (default: "
                   "reports/teachers/<provider>-<model>[-k<k>].json)")
    t.add_argument("--no-progress", action="store_true")
    r = sub.add_parser("teachers-report", help="side by side: audits -> markdown + DVC plot")
    r.add_argument("audits", nargs="+", type=Path, help="report JSONs of cbt-eval teacher")
    r.add_argument("--out", type=Path, default=paths.TEACHERS_REPORT)
    r.add_argument("--plot", type=Path, default=paths.TEACHERS_PLOT)
    return t, r


def run_command(args: argparse.Namespace) -> int:
    if args.command == "teachers-report":
        from cbt_eval.teachers_report import write_report

        write_report(args.audits, args.out, args.plot)
        print(f"wrote {args.out} and {args.plot}")
        return 0
    return _teacher(args)


def _teacher_params(args: argparse.Namespace) -> Any:
    from pydantic import ValidationError

    from cbt_schema.params import PipelineParams, format_validation_error, load_params

    params = load_params(args.params)
    overrides = {key: value for key, value in (
        ("provider", args.provider), ("model", args.model), ("base_url", args.base_url),
        ("samples", args.samples), ("majority", args.majority)) if value is not None}
    try:
        params = PipelineParams.model_validate(
            {**params.model_dump(), "teacher": {**params.teacher.model_dump(), **overrides}})
    except ValidationError as exc:
        raise UserError(format_validation_error(f"{args.params} (with the command's "
                                                "overrides)", exc)) from None
    from cbt_datagen.sources import imports

    if imports(params.teacher):
        raise UserError(f"{args.params}: teacher.provider: {params.teacher.provider!r} imports "
                        f"answers, there is no teacher to audit; pass --provider "
                        f"({', '.join(PROVIDERS)})")
    return params


def _teacher(args: argparse.Namespace) -> int:
    from cbt_eval.external import LabelMapping, load_labelled
    from cbt_eval.teacher_audit import audit
    from cbt_schema.jsonl import write_json

    if args.limit is not None and args.limit < 1:
        raise UserError(f"--limit: must be at least 1 (got {args.limit})")
    if args.max_dollars is not None and args.max_dollars <= 0:
        raise UserError(f"--max-dollars: must be more than 0 (got {args.max_dollars})")
    params = _teacher_params(args)
    data = load_labelled(args.file, args.text_col, args.labels_col,
                         LabelMapping.load(args.mapping), args.sep)
    report = audit(data, params, work_dir=args.work_dir, max_usd=args.max_dollars,
                   limit=args.limit, progress=not args.no_progress,
                   bootstrap=params.evaluate.bootstrap, source=args.params)
    report["data"]["file"] = str(args.file)
    t = params.teacher
    report["label"] = args.label or f"{t.provider}:{t.model}" + (
        f" k={t.samples}" if t.samples > 1 else "")
    out = args.out or Path(paths.TEACHER_AUDITS) / (
        f"{t.provider}-{t.model}".replace("/", "_") + (f"-k{t.samples}" if t.samples > 1
                                                      else "") + ".json")
    write_json(out, report)
    print(summary(report))
    print(f"wrote {out}")
    return 0


def summary(report: dict[str, Any]) -> str:
    m, cost, rep = report["metrics"], report["cost"], report["replies"]

    def f(key: str) -> str:
        value, ci = m[key], m["ci"].get(key)
        if value is None:
            return "not measurable"
        return f"{value:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")

    lines = [f"{report['label']} on {report['texts']['scored']} texts: micro F1 "
             f"{f('micro_f1')}, macro F1 {f('macro_f1')}, weighted F1 {f('weighted_f1')}, "
             f"binary F1 {f('binary_f1')}, mean kappa {m['mean_kappa']:.3f}",
             f"cost ${cost['usd']:.4f} (${cost['usd_per_text']:.5f} a text, this run "
             f"${cost['this_run_usd']:.4f}), {cost['requests_per_second']} requests/s, "
             f"repaired {rep['repaired_share']:.1%}, quarantined {rep['quarantined_share']:.1%}"]
    if report.get("consensus"):
        c = report["consensus"]
        kappa = c["fleiss_kappa"]
        lines.append(f"self-consistency k={c['samples']}: Fleiss kappa "
                     f"{'not measurable' if kappa is None else f'{kappa:.3f}'} over "
                     f"{c['events_with_all_samples']} texts with every sample valid")
    if report.get("stopped"):
        lines.append(f"stopped early: {report['stopped']}; {report['texts']['not_asked']} "
                     "texts not asked (not scored)")
    return "\n".join(lines)
