"""cbt-datagen cost: the teacher run priced at today's prices (the `teacher_cost` stage).

  cbt-datagen cost --params params.yaml --datagen metrics/datagen.json \\
      --out metrics/teacher_cost.json

The teacher stages meter tokens (metrics/datagen.json: each stage's input, output, cache-read
and cache-write tokens, and its largest prompt) and price them at the prices of the day they
ran. This command prices the same tokens at the prices in force now: `teacher.prices` over the
model table (cbt_datagen/models.yaml). So editing a price reruns this stage alone, never the
teacher. Long-prompt rates apply per request: when a stage's largest prompt is over a price's
long-prompt threshold, the figure (at the base rates) is a lower bound, marked `exact: false`
(the per-request split is not kept).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from cbt_schema import logs, paths


def main(argv: list[str], given: argparse.Namespace | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cbt-datagen cost", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", default=paths.PARAMS)
    parser.add_argument("--datagen", default=paths.DATAGEN_METRICS,
                        help="the teacher stages' metrics (tokens per stage)")
    parser.add_argument("--out", default=paths.TEACHER_COST)
    logs.add_verbosity(parser)
    args = parser.parse_args(argv, given)
    logs.configure(args)

    from cbt_datagen.money import reprice
    from cbt_schema import UserError
    from cbt_schema.jsonl import write_json
    from cbt_schema.params import load_params

    params = load_params(args.params)
    try:
        metrics = json.loads(Path(args.datagen).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"{args.datagen}: cannot read the teacher's metrics ({exc})") from None
    report = reprice(metrics, params.teacher.prices)
    write_json(args.out, report)
    print(f"teacher cost at today's prices: ${report['total_usd']:.4f}"
          + ("" if report["exact"] else " (a lower bound: some prompts pay long-prompt rates)")
          + f"; wrote {args.out}")
    return 0
