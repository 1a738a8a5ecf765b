"""cbt-datagen: teacher data generation (dataset assembly is cbt-dataset's).

  cbt-datagen events      --params params.yaml ...   # seeds -> first-person triggering events
  cbt-datagen assessments --params params.yaml ...   # events -> worksheet assessments
  cbt-datagen cost        --params params.yaml ...   # the teacher run at today's prices
  cbt-datagen columns PATH                           # a file to import: columns, a mapping
  cbt-datagen fetch-release --revision REV           # the paper's released data, pinned

With teacher.provider: file, `events` and `assessments` import an existing dataset instead.
Every command takes -v/--verbose and -q/--quiet, before or after its name.

Each subcommand lives in its own module under cbt_datagen.commands and is imported only when
it runs, so `--help` is instant.
"""

from __future__ import annotations

import argparse
import importlib

from cbt_schema import logs
from cbt_schema.errors import run_cli

# subcommand -> (module under cbt_datagen.commands, one-line help)
COMMANDS = {
    "events": ("events", "write first-person triggering events from seeds"),
    "assessments": ("assessments", "assess events with the ten-distortion worksheet"),
    "cost": ("cost", "price the teacher's metered tokens at today's prices"),
    "columns": ("columns", "show a file's columns and suggest teacher.file.columns"),
    "fetch-release": ("fetch_release", "download the paper's released data at a revision"),
}


def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="cbt-datagen", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (_, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    logs.add_verbosity(parser)
    args, rest = parser.parse_known_args(argv)
    module = importlib.import_module(f"cbt_datagen.commands.{COMMANDS[args.command][0]}")
    # the command parses the rest, starting from -v/-q given before its name
    given = argparse.Namespace(**{k: v for k, v in vars(args).items() if k != "command"})
    return int(module.main(rest, given) or 0)


def main() -> None:
    raise SystemExit(run_cli("cbt-datagen", _main))
