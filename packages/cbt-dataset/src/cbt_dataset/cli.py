"""cbt-dataset: join, dedup, split, chat examples and the diversity report.

  cbt-dataset --params params.yaml --seeds data/seeds.jsonl \\
      --events data/generated/events.jsonl --assessments data/generated/assessments.jsonl \\
      --out data/splits --metrics metrics/data.json --plots plots/data

Writes OUT/train.jsonl and OUT/test.jsonl (chat examples that datasets.load_dataset("json")
reads), OUT/report.json (every excluded record and duplicate, with the id kept in its place),
OUT/lengths.csv (per example), the metrics JSON, plot tables under PLOTS and PLOTS/summary.png
(with the `figure` extra: matplotlib).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from cbt_schema import logs, paths
from cbt_schema.errors import run_cli


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cbt-dataset", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--params", default=paths.PARAMS, help="params file")
    p.add_argument("--seeds", default=paths.SEEDS)
    p.add_argument("--events", default=paths.EVENTS)
    p.add_argument("--assessments", default=paths.ASSESSMENTS)
    p.add_argument("--out", default=paths.SPLITS, help="folder for train/test JSONL + report")
    p.add_argument("--metrics", default=paths.DATA_METRICS)
    p.add_argument("--plots", default=paths.DATA_PLOTS, help="folder for plot tables and the PNG")
    p.add_argument("--tokenizer", help="override dataset.tokenizer ('' skips token counts)")
    p.add_argument("--figure", action=argparse.BooleanOptionalAction, default=True,
                   help="render PLOTS/summary.png (default: yes; needs matplotlib)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bars on stderr (default: when it is a terminal)")
    logs.add_verbosity(p)
    return p


def _main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logs.configure(args)
    from cbt_dataset.build import Paths, build_dataset
    from cbt_schema.params import load_params

    files = Paths(seeds=Path(args.seeds), events=Path(args.events),
                  assessments=Path(args.assessments), out=Path(args.out),
                  metrics=Path(args.metrics), plots=Path(args.plots))
    build_dataset(load_params(args.params), files, tokenizer=args.tokenizer,
                  figure=args.figure, progress=args.progress, source=args.params)
    return 0


def main() -> None:
    raise SystemExit(run_cli("cbt-dataset", _main))
