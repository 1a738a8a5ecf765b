"""cbt-train: prepare the base model, fine-tune a LoRA adapter, merge it.

  cbt-train base-model --params params.yaml --out models/base
  cbt-train base-model --params params.yaml --section local_model --out models/local
  cbt-train train --params params.yaml --train data/splits/train.jsonl \\
      --test data/splits/test.jsonl --out models/adapter --metrics metrics/train.json
  cbt-train merge --adapter models/adapter --out models/merged
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from cbt_schema import logs, paths
from cbt_schema.errors import run_cli


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cbt-train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    base = sub.add_parser("base-model", help="build models/base from params' base_model")
    base.add_argument("--params", default=paths.PARAMS)
    base.add_argument("--section", default="base_model", choices=["base_model", "local_model"],
                      help="which params section describes the model")
    base.add_argument("--out", default=paths.BASE_MODEL)

    train = sub.add_parser("train", help="fine-tune a LoRA adapter on the train split")
    train.add_argument("--params", default=paths.PARAMS)
    train.add_argument("--train", default=paths.TRAIN_SPLIT)
    train.add_argument("--test", default=paths.TEST_SPLIT)
    train.add_argument("--out", default=paths.ADAPTER)
    train.add_argument("--metrics", default=paths.TRAIN_METRICS)
    train.add_argument("--live", default=paths.TRAIN_LIVE, help="dvclive folder (loss plots)")
    train.add_argument("--checkpoints", default=paths.TRAIN_CHECKPOINTS,
                       help="checkpoint folder; a rerun resumes from the last one")
    train.add_argument("--no-resume", action="store_true", help="ignore existing checkpoints")
    train.add_argument("--max-steps", type=int, help="override train.max_steps")
    train.add_argument("--allow-world-size-change", action="store_true",
                       help="resume checkpoints written by another number of processes")

    merge = sub.add_parser("merge", help="merge an adapter into its base model")
    merge.add_argument("--adapter", default=paths.ADAPTER)
    merge.add_argument("--base", help="base model (default: the one the adapter names)")
    merge.add_argument("--out", default=paths.MERGED)
    logs.add_verbosity(parser, base, train, merge)
    return parser


def _main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    logs.configure(args)
    from cbt_schema.params import load_params

    if args.command == "base-model":
        from cbt_train.base_model import prepare_base_model

        section = getattr(load_params(args.params), args.section)
        out = prepare_base_model(section, Path(args.out))
        print(f"wrote {out}" if section.source != "hub" else
              f"{args.section}.source is hub: wrote the config and tokenizer of {section.name} "
              f"to {out}; its weights load by id at train time")
        return 0
    if args.command == "train":
        from cbt_train.distributed import is_main
        from cbt_train.train import TrainPaths, run_training

        params = load_params(args.params)
        section = params.train
        if args.max_steps is not None:
            section = section.model_copy(update={"max_steps": args.max_steps})
        files = TrainPaths(train=Path(args.train), test=Path(args.test), out=Path(args.out),
                           metrics=Path(args.metrics), live=Path(args.live),
                           checkpoints=Path(args.checkpoints))
        resume, allow = not args.no_resume, args.allow_world_size_change
        if section.distributed != "none" and "LOCAL_RANK" not in os.environ:
            from cbt_train.distributed import relaunch
            from cbt_train.train import prepare_launch

            prepare_launch(section, params.base.seed, files, resume, allow)
            return relaunch(section, argv) or 0
        metrics = run_training(section, params.base.seed, files, resume=resume,
                               allow_world_change=allow)
        if is_main():
            print(json.dumps(metrics))
        return 0
    from cbt_train.merge import merge_adapter

    out = merge_adapter(Path(args.adapter), Path(args.out), base=args.base)
    print(f"wrote {out}")
    return 0


def main() -> None:
    raise SystemExit(run_cli("cbt-train", _main))


if __name__ == "__main__":  # the launched processes run `python -m cbt_train.cli train ...`
    main()
