"""cbt-schema CLI: validate a params file, or print JSON schemas."""

from __future__ import annotations

import argparse
import json

from cbt_schema import logs, paths
from cbt_schema.errors import run_cli


def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="cbt-schema", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check-params", help="validate params.yaml and exit 0 or 2")
    check.add_argument("path", nargs="?", default=paths.PARAMS)
    show = sub.add_parser("json-schema", help="print the JSON schema of a record type")
    show.add_argument("name", choices=["event", "assessment", "params"])
    logs.add_verbosity(parser, check, show)
    args = parser.parse_args(argv)
    logs.configure(args)
    if args.command == "check-params":
        from cbt_schema.params import load_params

        params = load_params(args.path)
        print(f"{args.path}: ok (profile {params.profile})")
    else:
        from cbt_schema.params import PipelineParams
        from cbt_schema.records import Assessment, EventDraft

        model = {"event": EventDraft, "assessment": Assessment, "params": PipelineParams}
        print(json.dumps(model[args.name].model_json_schema(), indent=2))
    return 0


def main() -> None:
    raise SystemExit(run_cli("cbt-schema", _main))
