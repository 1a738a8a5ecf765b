"""The options the `events` and `assessments` subcommands share."""

from __future__ import annotations

import argparse

from cbt_schema import paths

# stage -> its records, quarantine and metrics files (cbt_schema.paths)
FILES = {"events": (paths.EVENTS, paths.EVENTS_QUARANTINE, paths.EVENTS_METRICS),
         "assessments": (paths.ASSESSMENTS, paths.ASSESSMENTS_QUARANTINE,
                         paths.DATAGEN_METRICS)}


def add_common(parser: argparse.ArgumentParser, stage: str) -> None:
    out, quarantine, metrics = FILES[stage]
    parser.add_argument("--params", default=paths.PARAMS, help="params file")
    parser.add_argument("--out", default=out)
    parser.add_argument("--quarantine", default=quarantine,
                        help="replies that never validated, with their raw text")
    parser.add_argument("--metrics", default=metrics)
    parser.add_argument("--work-dir", default=paths.DATAGEN_WORK,
                        help="resume log of paid replies (kept outside DVC outputs)")
    parser.add_argument("-n", "--limit", type=int, help="only the first N inputs")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
