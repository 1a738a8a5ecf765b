"""The import source (cbt_datagen.sources): the events and assessments stages read an existing
dataset (teacher.file) instead of asking a model. Each accepted row becomes an event (with its
own seed) and an assessment that keeps its text verbatim, with the parser's reading of it where
it has one."""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from cbt_datagen.importing.rows import ImportScan, Rejection, Row, open_import, scan
from cbt_datagen.outputs import TooManyQuarantined, with_earlier_stages
from cbt_schema import (
    UNKNOWN,
    AssessmentRecord,
    Event,
    ImportProvenance,
    QuarantinedReply,
    Seed,
    UserError,
    paths,
)
from cbt_schema.params import PipelineParams

T = TypeVar("T")
TRACKED = Path(paths.IMPORTS)  # a dependency of the events and assessments stages

log = logging.getLogger(__name__)


def _progress(items: Iterable[T], show: bool, what: str) -> Iterator[T]:
    if not show:
        return iter(items)
    from tqdm import tqdm

    return iter(tqdm(items, desc=what, unit=" rows", file=sys.stderr, mininterval=0.5))


def seed_of(fields: dict[str, str]) -> Seed:
    """The row's own seed: what its columns give, UNKNOWN (or no age) for the rest."""
    text = {k: fields.get(k) or UNKNOWN for k in ("sex", "occupation", "relationship_status",
                                                  "emotion")}
    age = int(fields["age"]) if fields.get("age") else None
    return Seed(id=Seed.make_id(text["sex"], age, text["occupation"],
                                text["relationship_status"], text["emotion"]), age=age, **text)


def provenance(imp: ImportScan, number: int) -> ImportProvenance:
    return ImportProvenance(source=imp.path.as_posix(), sha256=imp.sha256, row=number,
                            columns=imp.columns)


def report(imp: ImportScan, reasons: Counter) -> dict[str, Any]:
    return {"source": imp.path.as_posix(), "format": imp.format, "sha256": imp.sha256,
            "columns": imp.columns, "rows": imp.rows,
            "quarantined_by_reason": dict(sorted(reasons.items())),
            "duplicate_situations": len(imp.duplicates),
            "duplicate_rows": [{"row": r, "same_as_row": f} for r, f in imp.duplicates[:50]]}


def import_events(args: argparse.Namespace, params: PipelineParams) -> int:
    from cbt_schema.jsonl import write_json, write_jsonl

    spec = params.teacher.file
    assert spec is not None  # the params validator requires it for the import source
    imp = open_import(spec)
    if not imp.path.resolve().is_relative_to(TRACKED.resolve()):
        log.warning("cbt-datagen import: %s is outside %s/, so `dvc repro` will not notice "
                    "when it changes; put it (or a `dvc add`-ed copy) under %s/", imp.path,
                    TRACKED, TRACKED)
    quarantined: list[QuarantinedReply] = []
    reasons: Counter = Counter()
    written = 0

    def events() -> Iterator[Event]:  # streamed to the file: 100k rows need little memory
        nonlocal written
        for item in _progress(scan(imp, spec, args.limit), not args.no_progress, "import"):
            if isinstance(item, Rejection):
                reasons[item.reason] += 1
                quarantined.append(QuarantinedReply(
                    request_id=f"import:{imp.sha256[:12]}:{item.number}",
                    item_id=f"row {item.number}", stage="import", raw=item.raw,
                    errors=[f"row {item.number}: {item.detail}"], attempts=0))
                continue
            seed = seed_of(item.fields)
            written += 1
            yield Event(id=item.event_id, seed_id=seed.id, situation=item.fields["situation"],
                        reaction=item.fields.get("reaction", ""),
                        provenance=provenance(imp, item.number), seed=seed)

    write_jsonl(args.out, events())
    write_jsonl(args.quarantine, quarantined)
    section = {"requested": imp.rows, "succeeded": written, "resumed": 0, "repaired": 0,
               "quarantined": len(quarantined), "cost_usd": 0.0, "tokens": {},
               "import": report(imp, reasons)}
    write_json(args.metrics, {"events": section})
    print(f"import: {written} of {imp.rows} rows of {imp.path} written to {args.out}, "
          f"{len(quarantined)} quarantined to {args.quarantine}"
          + (f" ({', '.join(f'{k}: {v}' for k, v in sorted(reasons.items()))})"
             if reasons else ""))
    if imp.duplicates:
        shown = ", ".join(f"row {r} = row {f}" for r, f in imp.duplicates[:5])
        n = len(imp.duplicates)
        log.info("cbt-datagen import: %s row%s repeat%s an earlier row's situation (%s%s); "
                 "the dataset stage drops them", n, "s" if n > 1 else "", "" if n > 1 else "s",
                 shown, ", ..." if n > 5 else "")
    if not imp.rows:
        raise UserError(f"{imp.path}: no rows")
    fraction = len(quarantined) / imp.rows
    if fraction > params.teacher.max_quarantined_fraction:
        raise TooManyQuarantined(
            f"{len(quarantined)} of {imp.rows} rows of {imp.path} quarantined ({fraction:.0%} > "
            f"teacher.max_quarantined_fraction {params.teacher.max_quarantined_fraction:.0%}); "
            f"see {args.quarantine}")
    return 0


def _problem_kind(problem: str) -> str:
    """'line 7: unknown distortion 'Blaming'' -> 'unknown distortion' (for counting)."""
    problem = re.sub(r"^line \d+: ", "", problem)
    return re.sub(r"\s*['\"].*$", "", problem).split(":")[0].strip()


def import_assessments(args: argparse.Namespace, params: PipelineParams) -> int:
    from cbt_schema import parse_assessment
    from cbt_schema.jsonl import iter_jsonl, write_json, write_jsonl

    spec = params.teacher.file
    assert spec is not None
    by_row: dict[int, str] = {}  # row number -> event id
    sources: set[str] = set()
    for event in iter_jsonl(args.events, Event):
        if isinstance(event.provenance, ImportProvenance):
            by_row[event.provenance.row] = event.id
            sources.add(event.provenance.sha256)
    imp = open_import(spec)
    if sources != {imp.sha256}:
        raise UserError(f"{args.events}: its events were not imported from {imp.path} as it is "
                        f"now (sha256 {imp.sha256[:12]}); run the events stage again "
                        "(dvc repro events)")
    problems: Counter = Counter()
    counts = Counter()

    def records() -> Iterator[AssessmentRecord]:
        for item in _progress(scan(imp, spec), not args.no_progress, "parse"):
            if not isinstance(item, Row) or item.number not in by_row:
                continue
            text = item.fields["assessment"]
            parsed = parse_assessment(text)
            problems.update({_problem_kind(p) for p in parsed.problems})
            counts["written"] += 1
            counts["read"] += parsed.ok
            event_id = by_row[item.number]
            yield AssessmentRecord(
                id="assessment-" + event_id.removeprefix("event-"), event_id=event_id,
                assessment=parsed.assessment if parsed.ok else None, verbatim=text,
                provenance=provenance(imp, item.number))

    write_jsonl(args.out, records())
    write_jsonl(args.quarantine, [])
    read, written = counts["read"], counts["written"]
    section = {"requested": len(by_row), "succeeded": written, "resumed": 0,
               "repaired": 0, "quarantined": 0, "cost_usd": 0.0, "tokens": {},
               "parse": {"read": read, "unread": written - read,
                         "share_read": round(read / written, 4) if written else 0.0,
                         "problems": dict(problems.most_common(10))}}
    write_json(args.metrics, with_earlier_stages({"assessments": section},
                                                 getattr(args, "earlier_metrics", None)))
    print(f"import: {written} assessments written to {args.out}; the parser read "
          f"{read} of them ({section['parse']['share_read']:.0%}); the rest keep their text "
          "for dataset.target: verbatim and carry no distortion labels")
    return 0
