"""Compose params.yaml from conf/ (Hydra), the same way `dvc exp run -S profile=...` does.

  python scripts/compose_params.py                 # local profile -> params.yaml
  python scripts/compose_params.py profile=paper   # paper profile -> params.yaml
  python scripts/compose_params.py --out /tmp/p.yaml profile=paper seeds.n=50
"""

from __future__ import annotations

import argparse
from pathlib import Path

from cbt_schema import paths

ROOT = Path(__file__).resolve().parent.parent
HEADER = ("# Generated from conf/ by Hydra composition (scripts/compose_params.py or\n"
          "# `dvc exp run -S profile=...`). Edit conf/profile/*.yaml, not this file.\n")


def compose(out: Path, overrides: list[str], conf_dir: Path = ROOT / "conf") -> None:
    from dvc.utils.hydra import compose_and_dump

    compose_and_dump(out, str(conf_dir), None, "config", str(conf_dir), overrides)
    out.write_text(HEADER + out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / paths.PARAMS)
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. profile=paper")
    args = parser.parse_args()
    compose(args.out, args.overrides)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
