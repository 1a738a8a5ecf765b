"""cbt-eval: score distortion detection for the student and a baseline.

  cbt-eval evaluate --params params.yaml --test data/splits/test.jsonl \\
      --base models/base --adapter models/adapter \\
      --metrics metrics/eval.json --report reports/eval.md --plots plots/eval
  cbt-eval external --file labelled.csv --text-col text --labels-col label \\
      --mapping mapping.yaml --base models/base --adapter models/adapter
  cbt-eval teacher --file labelled.csv --text-col text --labels-col label \
      --mapping mapping.yaml --provider anthropic --model claude-haiku-5-5 --max-dollars 2 \
      --out reports/teachers/haiku.json
  cbt-eval teachers-report reports/teachers/*.json --out reports/teachers.md
  cbt-eval mapping-template > mapping.yaml
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cbt_schema import logs, paths
from cbt_schema.errors import UserError, run_cli


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cbt-eval", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    ev = sub.add_parser("evaluate", help="student vs baseline on the test split")
    ev.add_argument("--test", type=Path, default=paths.TEST_SPLIT)
    ev.add_argument("--metrics", type=Path, default=paths.EVAL_METRICS)
    ev.add_argument("--report", type=Path, default=paths.EVAL_REPORT)
    ev.add_argument("--plots", type=Path, default=paths.EVAL_PLOTS)
    ext = sub.add_parser("external", help="score a labelled CSV/JSONL of real texts")
    _labelled_options(ext)
    ext.add_argument("--out", type=Path, default=paths.EXTERNAL_REPORT)
    ext.add_argument("--baseline", action="store_true", help="also score the untuned base")
    for p in (ev, ext):
        p.add_argument("--params", default=paths.PARAMS)
        p.add_argument("--base", type=Path, default=paths.BASE_MODEL)
        p.add_argument("--adapter", type=Path, default=paths.ADAPTER)
        p.add_argument("--gguf", type=Path, help="student as a GGUF file (llama backend)")
        p.add_argument("--limit", type=int, help="only the first K examples")
    template = sub.add_parser("mapping-template", help="print the label mapping template")
    from cbt_eval.teacher_cli import add_parsers

    logs.add_verbosity(parser, ev, ext, template, *add_parsers(sub, _labelled_options))
    return parser


def _labelled_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--file", type=Path, required=True)
    p.add_argument("--text-col", required=True)
    p.add_argument("--labels-col", action="append", required=True,
                   help="label column; repeat for several (e.g. dominant and secondary)")
    p.add_argument("--mapping", type=Path, help="label mapping YAML (see mapping-template)")
    p.add_argument("--sep", default=";", help="separator inside a multi-label cell")


def _main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    logs.configure(args)
    if args.command == "mapping-template":
        sys.stdout.write((Path(__file__).parent / "mapping_template.yaml").read_text())
        return 0
    if args.command in ("teacher", "teachers-report"):
        from cbt_eval.teacher_cli import run_command

        return run_command(args)
    from cbt_schema.params import load_params

    params = load_params(args.params)
    settings = params.evaluate
    if args.limit is not None:
        if args.limit < 1:
            raise UserError(f"--limit: must be at least 1 (got {args.limit})")
        settings = settings.model_copy(update={"limit": args.limit})
    if settings.backend == "llama" and args.gguf is None:
        raise UserError(f"{args.params}: evaluate.backend: 'llama' needs --gguf FILE "
                        "(the exported student, e.g. models/gguf/student-f16.gguf)")
    for path in (args.base, args.adapter):
        if args.gguf is None and not path.exists():
            raise UserError(f"{path}: not found (run `dvc repro train` first)")
    if args.command == "evaluate":
        from cbt_eval.evaluate import caveat_for, run_evaluation, write_outputs

        results, worked, pairs = run_evaluation(args.test, args.base, args.adapter, settings,
                                                params.base.seed, gguf=args.gguf)
        write_outputs(results, worked, pairs, args.metrics, args.report, args.plots,
                      caveat_for(params))
        print(json.dumps({k: {"macro_f1": results[k]["macro_f1"],
                              "margin_over_best_guesser": results[k]["margin"]["macro_f1"]}
                          for k in ("student", "baseline")}))
        print(f"wrote {args.metrics}, {args.report} and {args.plots}/")
        return 0
    from cbt_eval.external import LabelMapping, load_labelled
    from cbt_eval.external_run import run_external

    data = load_labelled(args.file, args.text_col, args.labels_col,
                         LabelMapping.load(args.mapping), args.sep)
    report = run_external(data, args.base, args.adapter, settings, params.base.seed,
                          baseline=args.baseline, gguf=args.gguf)
    from cbt_schema.jsonl import write_json

    write_json(args.out, report)
    def f(value: float | None) -> str:
        return "not measurable" if value is None else f"{value:.3f}"

    for name in ("student", "baseline"):
        if name in report:
            s, m = report[name], report[name]["margin"]
            print(f"{name}: mean kappa {f(s['mean_kappa'])}, macro F1 {f(s['macro_f1'])} "
                  f"({m['macro_f1']:+.3f} over the best guesser, {m['over']}: {m['verdict']}); "
                  f"micro F1 {f(s['micro_f1'])}, weighted F1 {f(s['weighted_f1'])}, binary F1 "
                  f"{f(s['binary_f1'])}")
    print(f"wrote {args.out}")
    return 0


def main() -> None:
    raise SystemExit(run_cli("cbt-eval", _main))
