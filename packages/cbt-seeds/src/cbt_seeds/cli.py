"""cbt-seeds: draw demographic and emotion seeds for the teacher.

  cbt-seeds --params params.yaml --out data/seeds.jsonl --stats metrics/seeds.json
"""

from __future__ import annotations

import argparse
import json

from cbt_schema import logs, paths
from cbt_schema.errors import run_cli


def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="cbt-seeds", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", default=paths.PARAMS, help="params file")
    parser.add_argument("--out", default=paths.SEEDS, help="seeds JSONL to write")
    parser.add_argument("--stats", help="also write the stats summary as JSON here")
    parser.add_argument("-n", type=int, help="override seeds.n")
    logs.add_verbosity(parser)
    args = parser.parse_args(argv)
    logs.configure(args)

    from cbt_schema.jsonl import write_json, write_jsonl
    from cbt_schema.params import load_params
    from cbt_seeds.sampling import sample_seeds, summarize

    params = load_params(args.params)
    section = params.seeds if args.n is None else params.seeds.model_copy(update={"n": args.n})
    seeds = sample_seeds(section, params.base.seed, source=args.params)
    write_jsonl(args.out, seeds)
    stats = summarize(seeds)
    if args.stats:
        write_json(args.stats, stats)
    print(f"wrote {len(seeds)} seeds to {args.out}")
    print(json.dumps(stats))
    return 0


def main() -> None:
    raise SystemExit(run_cli("cbt-seeds", _main))
