"""cbt-datagen assessments: events -> ten-distortion worksheet assessments (AssessmentRecord).

  cbt-datagen assessments --params params.yaml --events data/generated/events.jsonl \\
      --out data/generated/assessments.jsonl --metrics metrics/datagen.json \\
      --earlier-metrics metrics/datagen_events.json

metrics/datagen.json gets this stage's metrics, the events stage's (from --earlier-metrics) and
their total. With teacher.samples k > 1 each event is asked k times (each sample its own
request id); the labels are merged by majority (teacher.majority), the sample closest to them is
written, and agreement (Fleiss' kappa) goes into the metrics' `consensus` section.
"""

from __future__ import annotations

import argparse

from cbt_datagen.commands._options import add_common
from cbt_schema import logs, paths


def main(argv: list[str], given: argparse.Namespace | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cbt-datagen assessments", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", default=paths.EVENTS,
                        help="events JSONL (cbt-datagen events)")
    parser.add_argument("--earlier-metrics", help="the events stage's metrics file, to include "
                        "with a total in this stage's metrics")
    add_common(parser, "assessments")
    logs.add_verbosity(parser)
    args = parser.parse_args(argv, given)
    logs.configure(args)

    from cbt_datagen.sources import open_source
    from cbt_datagen.tasks import assessments
    from cbt_schema.params import load_params

    return open_source(load_params(args.params)).write(assessments, args, args.events)
