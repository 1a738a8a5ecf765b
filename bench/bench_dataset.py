"""Dataset assembly figures: `cbt-dataset` over 100,000 synthetic records.

  uv run python bench/bench_dataset.py [--n 100000] [--tokenizer models/base]

Synthesises seeds, events and assessments in a temp folder (never committed; 2% planted near
duplicates and 1% exact ones), then times the whole CLI run with near-duplicate detection on:
wall time and the child's peak RSS. Token counts are skipped unless --tokenizer is given.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from cbt_testing.bench import timed_subprocess, write_results

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--tokenizer", default=None)
    args = parser.parse_args()

    from cbt_schema.jsonl import write_jsonl
    from cbt_testing.synthetic import synthesize

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        start = time.perf_counter()
        data = synthesize(args.n, seed=1, near=args.n // 50, exact=args.n // 100)
        for name, records in (("seeds", data.seeds), ("events", data.events),
                              ("assessments", data.assessments)):
            write_jsonl(tmp_path / f"{name}.jsonl", records)
        synth_s = time.perf_counter() - start
        del data
        dataset = {"system_prompt": str(ROOT / "prompts/system.txt"), "test_size": 0.25,
                   "tokenizer": str(Path(args.tokenizer).resolve()) if args.tokenizer else None}
        (tmp_path / "params.yaml").write_text(json.dumps({"dataset": dataset}))
        cli = str(Path(sys.executable).parent / "cbt-dataset")
        load = os.getloadavg()[0]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        run = timed_subprocess([cli, "--params", "params.yaml",
                                "--seeds", "seeds.jsonl", "--events", "events.jsonl",
                                "--assessments", "assessments.jsonl", "--out", "splits",
                                "--metrics", "data.json", "--plots", "plots", "--no-progress"],
                               tmp_path)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        metrics = json.loads((tmp_path / "data.json").read_text())
        sizes = {p.name: p.stat().st_size for p in (tmp_path / "splits").iterdir()}

    dup = metrics["duplicates"]
    write_results("dataset", {
        "dataset_100k": {
            "records": args.n, **run, "cpu_s": round(cpu, 2), "target_s": 60.0,
            "target_peak_rss_mb": 2048, "load_average_before": round(load, 2),
            "note": "wall time depends on other load on the 2 cores; cpu_s does not",
            "synthesis_s_untimed": round(synth_s, 1),
            "exact_found": dup["exact"], "exact_planted": args.n // 100,
            "near_found": dup["near_records"], "near_planted": args.n // 50,
            "lsh_candidates": dup["lsh_candidates"],
            "train": metrics["split"]["train"], "test": metrics["split"]["test"],
            "tokens": metrics["tokens"]["note"], "output_bytes": sizes,
        },
    })


if __name__ == "__main__":
    main()
