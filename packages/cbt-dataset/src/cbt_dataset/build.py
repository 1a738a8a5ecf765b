"""build_dataset(): seeds, events and assessments -> the split chat examples, the report and
the metrics, in order: join, duplicates, split, chat examples, token counts, report, files."""

from __future__ import annotations

import logging
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cbt_schema import UserError
from cbt_schema.params import PipelineParams

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Paths:
    seeds: Path
    events: Path
    assessments: Path
    out: Path           # train.jsonl, test.jsonl, report.json, lengths.csv
    metrics: Path
    plots: Path         # the plot tables and summary.png


def _join(params: PipelineParams, paths: Paths) -> Any:
    from cbt_dataset.join import join, read_records
    from cbt_schema import AssessmentRecord, Event, Seed

    cfg = params.dataset
    # imported events carry their own seeds, so the seeds file may be empty
    joined = join(read_records(paths.seeds, Seed, allow_empty=True),
                  read_records(paths.events, Event),
                  read_records(paths.assessments, AssessmentRecord),
                  seeds_path=str(paths.seeds), events_path=str(paths.events),
                  assessments_path=str(paths.assessments),
                  max_excluded_fraction=cfg.max_excluded_fraction,
                  require_labelled=cfg.target == "rendered")
    if joined.excluded:
        reasons = ", ".join(f"{k}: {v}" for k, v in joined.excluded_by_reason.items())
        log.warning("cbt-dataset: excluded %s records (%s); listed in %s",
                    len(joined.excluded), reasons, paths.out / "report.json")
    return joined


def _split(params: PipelineParams, paths: Paths, samples: list, groups: list,
           kept: list[int], source: str) -> tuple[Any, int, list[int]]:
    from cbt_dataset.split import resolve_test_count, stratified_group_split

    test_n = resolve_test_count(params.dataset.test_size, len(kept), source=source,
                                records_from=paths.events)
    unlabelled = [i for i in kept if not samples[i].labelled]  # verbatim imports: train only
    split = stratified_group_split(groups, [s.stratum for s in samples],
                                   [s.id for s in samples], test_n, params.base.seed,
                                   train_only=unlabelled)
    if unlabelled:
        log.info("cbt-dataset: %s imported assessments the parser could not read train with "
                 "their own text and stay out of the test split (they carry no labels to score)",
                 len(unlabelled))
    if not split.test and len(unlabelled) == len(kept):
        raise UserError(f"{paths.assessments}: the parser read none of the imported "
                        "assessments, so no test example could be scored; see "
                        "metrics/datagen.json (assessments.parse.problems)")
    if not split.test or not split.train:
        raise UserError(f"{source}: dataset.test_size: near-duplicate clusters of "
                        f"{paths.events} are too large to split {len(kept)} records into "
                        f"{test_n} test records")
    return split, test_n, unlabelled


def _metrics(params: PipelineParams, joined: Any, dedup: Any, kept: list[int], dropped: list,
             split: Any, test_n: int, unlabelled: list[int], tokens: Any, report: Any,
             over: list[str]) -> dict[str, Any]:
    cfg, samples = params.dataset, joined.samples
    side = {i: "train" for i in split.train} | {i: "test" for i in split.test}
    across = sum(1 for a, b, _ in dedup.pairs if a in side and b in side and side[a] != side[b])
    clusters = [c for c in dedup.clusters if len(c) > 1]
    metrics: dict[str, Any] = {
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
                  "train_only_unlabelled": len(unlabelled),
                  "test_fraction": round(len(split.test) / len(kept), 4),
                  "emotions": len({samples[i].emotion for i in kept}),
                  "emotions_in_test": len({samples[i].emotion for i in split.test}),
                  "near_duplicate_pairs_across": across},
        "tokens": {"counted": tokens.counts is not None, "note": tokens.note,
                   "max_length": params.train.max_length},
        "diversity": report.metrics,
    }
    if tokens.counts:
        counts = tokens.counts
        metrics["tokens"] |= {"min": min(counts), "median": statistics.median(counts),
                              "max": max(counts), "over_max_length": len(over)}
    return metrics


def _caption(metrics: dict[str, Any], n_excluded: int, over: list[str], max_length: int,
             note: str) -> str:
    d, s, t = metrics["duplicates"], metrics["split"], metrics["tokens"]
    return (f"cbt dataset: {d['kept']} records ({s['train']} train / {s['test']} test), "
            f"{d['exact']} exact and {d['near_records']} near duplicates, {n_excluded} "
            "excluded\n" + (f"tokens per example: min {t['min']}, median {t['median']}, max "
                            f"{t['max']}; {len(over)} over train.max_length {max_length}"
                            if t["counted"] else f"token counts {note}"))


def build_dataset(params: PipelineParams, paths: Paths, *, tokenizer: str | None = None,
                  figure: bool = True, progress: bool | None = None,
                  source: str = "params.yaml") -> dict[str, Any]:
    """Build the splits and write every file under `paths`; returns the metrics.
    `tokenizer` overrides dataset.tokenizer ('' skips token counts)."""
    from cbt_dataset.chat import load_system_prompt, to_chat
    from cbt_dataset.dedup import find_duplicates
    from cbt_dataset.report import build_report
    from cbt_dataset.tokens import count_tokens

    cfg = params.dataset
    if figure:
        _need_matplotlib(paths.plots / "summary.png")  # before any work
    joined = _join(params, paths)
    samples = joined.samples
    dedup = find_duplicates([s.event.text for s in samples],
                            threshold=cfg.near_duplicate_threshold,
                            shingle_size=cfg.shingle_size, num_perm=cfg.num_perm,
                            progress=progress)
    kept, groups, dropped = dedup.resolve(cfg.near_duplicates)
    split, test_n, unlabelled = _split(params, paths, samples, groups, kept, source)
    system = load_system_prompt(cfg.system_prompt)
    examples = {i: to_chat(samples[i], system, cfg.target == "verbatim") for i in kept}
    tokens = count_tokens([examples[i] for i in kept],
                          cfg.tokenizer if tokenizer is None else tokenizer, source=source)
    token_of = dict(zip(kept, tokens.counts, strict=True)) if tokens.counts else None
    max_length = params.train.max_length
    report = build_report(samples, split.train, split.test,
                          [token_of.get(i, 0) for i in range(len(samples))] if token_of
                          else None, max_length, cfg.target == "verbatim")
    over = sorted(samples[i].id for i in kept if token_of and token_of[i] > max_length)
    metrics = _metrics(params, joined, dedup, kept, dropped, split, test_n, unlabelled, tokens,
                       report, over)
    _write(paths, samples, examples, split, dedup, dropped, joined, report, tokens, over,
           metrics)
    if figure:
        _figure(report, paths.plots / "summary.png",
                _caption(metrics, len(joined.excluded), over, max_length, tokens.note))
    if not tokens.counts:
        log.info("cbt-dataset: token counts %s", tokens.note)
    elif over:
        log.warning("cbt-dataset: %s examples are longer than train.max_length (%s tokens); "
                    "listed in %s", len(over), max_length, paths.out / "report.json")
    print(f"wrote {len(split.train)} train and {len(split.test)} test examples to {paths.out} "
          f"({len(dedup.exact)} exact and {metrics['duplicates']['near_records']} near "
          f"duplicates, {len(joined.excluded)} excluded); metrics in {paths.metrics}")
    return metrics


def _write(paths: Paths, samples: list, examples: dict, split: Any, dedup: Any, dropped: list,
           joined: Any, report: Any, tokens: Any, over: list[str],
           metrics: dict[str, Any]) -> None:
    from cbt_dataset.report import write_csv
    from cbt_schema.jsonl import write_json, write_jsonl

    write_jsonl(paths.out / "train.jsonl", (examples[i] for i in split.train))
    write_jsonl(paths.out / "test.jsonl", (examples[i] for i in split.test))
    write_csv(paths.out / "lengths.csv", report.lengths)
    write_json(paths.out / "report.json", {
        "excluded": [e.as_dict() for e in joined.excluded],
        "dropped": {samples[d.index].id: {"kept": samples[d.kept].id, "kind": d.kind,
                                          "similarity": d.similarity} for d in dropped},
        "near_duplicate_clusters": [[samples[i].id for i in c] for c in dedup.clusters
                                    if len(c) > 1],
        "over_max_length": over, "tokens": tokens.note,
    })
    write_json(paths.metrics, metrics)
    for name, rows in report.tables.items():
        write_csv(paths.plots / f"{name}.csv", rows)


def _need_matplotlib(path: Path) -> None:
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None:
        raise UserError(f"{path}: the figure needs matplotlib (pip install "
                        "'cbt-dataset[figure]'), or pass --no-figure")


def _figure(report: Any, path: Path, caption: str) -> None:
    from cbt_dataset.figure import render_figure

    render_figure(report, path, caption)
