"""Import figures: `cbt-datagen events` and `assessments` with teacher.provider: file over
100,000 rows of (situation, assessment) pairs, as CSV, JSONL and Parquet.

  uv run python bench/bench_import.py [--n 100000] [--formats csv jsonl parquet]

The rows are synthetic (cbt_testing.import_files: multi-line situations, one
assessment in five free text the parser cannot read), written to a temp folder (untimed).
Each stage runs as its own process: its wall time and its own peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import yaml

from cbt_testing.bench import timed_subprocess, write_results

EXT = {"csv": "pairs.csv", "jsonl": "pairs.jsonl", "parquet": "pairs.parquet"}


def run_format(tmp: Path, rows: list[dict], fmt: str) -> dict:
    from cbt_testing.import_files import write_pairs

    source = write_pairs(tmp / fmt / EXT[fmt], rows, fmt)
    params = {"teacher": {"provider": "file", "file": {
        "path": str(source), "columns": {"situation": "situation", "assessment": "analysis",
                                         "id": "id", "emotion": "emotion", "age": "age"}}}}
    (tmp / fmt / "params.yaml").write_text(yaml.safe_dump(params))
    cli = str(Path(sys.executable).parent / "cbt-datagen")
    common = ["--params", "params.yaml", "--no-progress"]
    events = timed_subprocess([cli, "events", *common, "--seeds", "none.jsonl",
                               "--out", "events.jsonl", "--quarantine", "eq.jsonl",
                               "--metrics", "events.json"], tmp / fmt)
    assessments = timed_subprocess([cli, "assessments", *common, "--events", "events.jsonl",
                                    "--out", "assessments.jsonl", "--quarantine", "aq.jsonl",
                                    "--metrics", "datagen.json",
                                    "--earlier-metrics", "events.json"], tmp / fmt)
    parse = json.loads((tmp / fmt / "datagen.json").read_text())["assessments"]["parse"]
    n = len(rows)
    return {"file_mb": round(source.stat().st_size / 1e6, 1),
            "events": {**events, "rows_per_s": round(n / events["wall_s"])},
            "assessments": {**assessments, "rows_per_s": round(n / assessments["wall_s"])},
            "share_read": parse["share_read"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--formats", nargs="+", default=list(EXT), choices=list(EXT))
    args = parser.parse_args()

    from cbt_testing.import_files import pair_rows

    start = time.perf_counter()
    rows = pair_rows(args.n, seed=1)
    made_s = time.perf_counter() - start
    load = os.getloadavg()[0]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in args.formats:
            results[fmt] = run_format(Path(tmp), rows, fmt)
            print(f"{fmt}: {json.dumps(results[fmt])}", file=sys.stderr)
    write_results("import", {"import_100k": {
        "rows": args.n, "load_average_before": round(load, 2), "rows_made_s_untimed":
        round(made_s, 1), "note": "each stage is one process, measured alone; wall time depends "
        "on other load on the 2 cores", **results}})


if __name__ == "__main__":
    main()
