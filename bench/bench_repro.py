"""Full `dvc repro` from scratch, stage by stage: wall time and peak memory, plus whether each
stage reproduced the committed dvc.lock (scripts/check_repro.py does the work).

  uv run python bench/bench_repro.py                 # every stage in the committed dvc.lock
  uv run python bench/bench_repro.py --stages seeds  # some stages (and what they need)

Runs in a fresh clone of the committed HEAD; peak memory is the largest process of the stage
(its command). Writes bench/results/repro.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from cbt_testing import dvc_stages  # noqa: F401  (loads scripts/dvc_stages.py for check_repro)
from cbt_testing.bench import write_results
from cbt_testing.repo import load_script

check_repro = load_script("check_repro")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stages", nargs="+")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "repro.json"
        code = check_repro.main([*(["--stages", *args.stages] if args.stages else []),
                                 "--json", str(out)])
        summary = json.loads(out.read_text())
    stages = {name: {k: row[k] for k in ("wall_s", "peak_rss_mb", "verdict") if k in row}
              for name, row in summary["stages"].items()}
    total = round(sum(row["wall_s"] for row in stages.values()), 1)
    write_results("repro", {
        "what": "dvc repro --single-item --force --no-run-cache per stage, fresh clone of HEAD",
        "stages": stages, "total_s": total, "target_total_s": 900,
        "peak_rss_mb": max((row["peak_rss_mb"] for row in stages.values()), default=0),
        "reproduced_committed_lock": summary["ok"]})
    sys.exit(code)


if __name__ == "__main__":
    main()
