"""cbt-datagen dataset: join, dedup, split, chat examples and the diversity report.

  cbt-datagen dataset --params params.yaml --seeds data/seeds.jsonl \\
      --events data/generated/events.jsonl --assessments data/generated/assessments.jsonl \\
      --out data/splits --metrics metrics/data.json --plots plots/data

Writes OUT/train.jsonl and OUT/test.jsonl (chat examples that datasets.load_dataset("json")
reads), OUT/report.json (every excluded record and duplicate, with the id kept in its place),
OUT/lengths.csv (per example), the metrics JSON, plot tables under PLOTS and PLOTS/summary.png.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cbt-datagen dataset", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--params", default="params.yaml", help="params file")
    p.add_argument("--seeds", default="data/seeds.jsonl")
    p.add_argument("--events", default="data/generated/events.jsonl")
    p.add_argument("--assessments", default="data/generated/assessments.jsonl")
    p.add_argument("--out", default="data/splits", help="folder for train/test JSONL + report")
    p.add_argument("--metrics", default="metrics/data.json")
    p.add_argument("--plots", default="plots/data", help="folder for plot tables and the PNG")
    p.add_argument("--tokenizer", help="override dataset.tokenizer ('' skips token counts)")
    p.add_argument("--figure", action=argparse.BooleanOptionalAction, default=True,
                   help="render PLOTS/summary.png (default: yes)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bars on stderr (default: when it is a terminal)")
    return p


def _log(msg: str) -> None:
    print(f"cbt-datagen dataset: {msg}", file=sys.stderr)


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)

    from cbt_datagen.dataset.chat import load_system_prompt, to_chat
    from cbt_datagen.dataset.dedup import find_duplicates
    from cbt_datagen.dataset.join import join, read_records
    from cbt_datagen.dataset.report import build_report, write_csv
    from cbt_datagen.dataset.split import resolve_test_count, stratified_group_split
    from cbt_datagen.dataset.tokens import count_tokens
    from cbt_schema import AssessmentRecord, Event, Seed, UserError
    from cbt_schema.jsonl import write_json, write_jsonl
    from cbt_schema.params import load_params

    params = load_params(args.params)
    cfg = params.dataset
    system = load_system_prompt(cfg.system_prompt)
    tokenizer = cfg.tokenizer if args.tokenizer is None else args.tokenizer

    # imported events carry their own seeds, so the seeds file may be empty
    joined = join(read_records(args.seeds, Seed, allow_empty=True),
                  read_records(args.events, Event),
                  read_records(args.assessments, AssessmentRecord),
                  seeds_path=args.seeds, events_path=args.events,
                  assessments_path=args.assessments,
                  max_excluded_fraction=cfg.max_excluded_fraction,
                  require_read=cfg.target == "rendered")
    if joined.excluded:
        reasons = ", ".join(f"{k}: {v}" for k, v in joined.excluded_by_reason.items())
        _log(f"excluded {len(joined.excluded)} records ({reasons}); listed in "
             f"{Path(args.out) / 'report.json'}")
    samples = joined.samples
    dedup = find_duplicates([s.event.text for s in samples],
                            threshold=cfg.near_duplicate_threshold,
                            shingle_size=cfg.shingle_size, num_perm=cfg.num_perm,
                            progress=args.progress)
    kept, groups, dropped = dedup.resolve(cfg.near_duplicates)
    test_n = resolve_test_count(cfg.test_size, len(kept), source=args.params,
                                records_from=args.events)
    unread = [i for i in kept if not samples[i].read]  # verbatim imports: train only
    split = stratified_group_split(groups, [s.stratum for s in samples],
                                   [s.id for s in samples], test_n, params.base.seed,
                                   train_only=unread)
    if unread:
        _log(f"{len(unread)} imported assessments the parser could not read train with their "
             f"own text and stay out of the test split (they carry no labels to score)")
    if not split.test and len(unread) == len(kept):
        raise UserError(f"{args.assessments}: the parser read none of the imported assessments, "
                        "so no test example could be scored; see metrics/datagen.json "
                        "(assessments.parse.problems)")
    if not split.test or not split.train:
        raise UserError(f"{args.params}: dataset.test_size: near-duplicate clusters of "
                        f"{args.events} are too large to split {len(kept)} records into "
                        f"{test_n} test records")

    verbatim = cfg.target == "verbatim"
    examples = {i: to_chat(samples[i], system, verbatim) for i in kept}
    tokens = count_tokens([examples[i] for i in kept], tokenizer, source=args.params)
    token_of = dict(zip(kept, tokens.counts, strict=True)) if tokens.counts else None
    max_length = params.train.max_length
    report = build_report(samples, split.train, split.test,
                          [token_of.get(i, 0) for i in range(len(samples))] if token_of
                          else None, max_length, verbatim)

    side = {i: "train" for i in split.train} | {i: "test" for i in split.test}
    across = sum(1 for a, b, _ in dedup.pairs if a in side and b in side and side[a] != side[b])
    over = sorted(samples[i].id for i in kept if token_of and token_of[i] > max_length)
    clusters = [c for c in dedup.clusters if len(c) > 1]
    metrics = {
        "records": {**joined.counts, "excluded_by_reason": joined.excluded_by_reason},
        "duplicates": {
            "mode": cfg.near_duplicates, "exact": len(dedup.exact),
            "near_pairs": len(dedup.pairs), "near_clusters": len(clusters),
            "near_records": sum(len(c) - 1 for c in clusters), "lsh_candidates":
            dedup.candidates, "lsh_bands": dedup.bands, "lsh_rows": dedup.rows,
            "lsh_miss_probability_at_threshold": round(
                dedup.miss_probability(cfg.near_duplicate_threshold), 4),
            "dropped": len(dropped), "kept": len(kept)},
        "target": cfg.target,
        "split": {"train": len(split.train), "test": len(split.test), "test_target": test_n,
                  "train_only_unlabelled": len(unread),
                  "test_fraction": round(len(split.test) / len(kept), 4),
                  "emotions": len({samples[i].emotion for i in kept}),
                  "emotions_in_test": len({samples[i].emotion for i in split.test}),
                  "near_duplicate_pairs_across": across},
        "tokens": {"counted": tokens.counts is not None, "note": tokens.note,
                   "max_length": max_length},
        "diversity": report.metrics,
    }
    if tokens.counts:
        counts = tokens.counts
        metrics["tokens"] |= {"min": min(counts), "median": statistics.median(counts),
                              "max": max(counts), "over_max_length": len(over)}
    out = Path(args.out)
    write_jsonl(out / "train.jsonl", (examples[i] for i in split.train))
    write_jsonl(out / "test.jsonl", (examples[i] for i in split.test))
    write_csv(out / "lengths.csv", report.lengths)
    write_json(out / "report.json", {
        "excluded": [e.as_dict() for e in joined.excluded],
        "dropped": {samples[d.index].id: {"kept": samples[d.kept].id, "kind": d.kind,
                                          "similarity": d.similarity} for d in dropped},
        "near_duplicate_clusters": [[samples[i].id for i in c] for c in clusters],
        "over_max_length": over, "tokens": tokens.note,
    })
    write_json(args.metrics, metrics)
    plots = Path(args.plots)
    for name, rows in report.tables.items():
        write_csv(plots / f"{name}.csv", rows)
    if args.figure:
        from cbt_datagen.dataset.figure import render_figure

        render_figure(report, plots / "summary.png",
                      f"cbt dataset: {len(kept)} records ({len(split.train)} train / "
                      f"{len(split.test)} test), {len(dedup.exact)} exact and "
                      f"{metrics['duplicates']['near_records']} near duplicates, "
                      f"{len(joined.excluded)} excluded\n"
                      + (f"tokens per example: min {metrics['tokens']['min']}, median "
                         f"{metrics['tokens']['median']}, max {metrics['tokens']['max']}; "
                         f"{len(over)} over train.max_length {max_length}" if tokens.counts
                         else f"token counts {tokens.note}"))
    if not tokens.counts:
        _log(f"token counts {tokens.note}")
    elif over:
        _log(f"{len(over)} examples are longer than train.max_length ({max_length} tokens); "
             f"listed in {out / 'report.json'}")
    print(f"wrote {len(split.train)} train and {len(split.test)} test examples to {out} "
          f"({len(dedup.exact)} exact and {metrics['duplicates']['near_records']} near "
          f"duplicates, {len(joined.excluded)} excluded); metrics in {args.metrics}")
    return 0
