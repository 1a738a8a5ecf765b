"""cbt-datagen events: seeds -> first-person triggering events (cbt_schema.Event).

  cbt-datagen events --params params.yaml --seeds data/seeds.jsonl \\
      --out data/generated/events.jsonl --metrics metrics/datagen_events.json
"""

from __future__ import annotations

import argparse

from cbt_datagen.commands._options import add_common
from cbt_schema import logs, paths


def main(argv: list[str], given: argparse.Namespace | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cbt-datagen events", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default=paths.SEEDS, help="seeds JSONL (cbt-seeds)")
    add_common(parser, "events")
    logs.add_verbosity(parser)
    args = parser.parse_args(argv, given)
    logs.configure(args)

    from cbt_datagen.sources import open_source
    from cbt_datagen.tasks import events
    from cbt_schema.params import load_params

    return open_source(load_params(args.params)).write(events, args, args.seeds)
