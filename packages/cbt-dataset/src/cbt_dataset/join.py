"""Read seeds, events and assessments and join them by id; report every record left out."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from cbt_schema import AssessmentRecord, Event, Finding, Seed, UserError
from cbt_schema.jsonl import iter_jsonl

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Sample:
    """One joined record: the seed, the event written from it and the event's assessment."""

    seed: Seed
    event: Event
    record: AssessmentRecord

    @property
    def id(self) -> str:
        return self.event.id

    @property
    def emotion(self) -> str:
        return self.seed.emotion

    @property
    def labelled(self) -> bool:
        """Whether its distortions are known (an imported text the parser read, or any
        generated assessment)."""
        return self.record.assessment is not None

    @property
    def findings(self) -> list[Finding]:
        return self.record.assessment.findings if self.record.assessment else []

    @property
    def stratum(self) -> str:
        """What the split stratifies on: the emotion, or "(no distortion)" for an assessment
        with no findings, so the test split holds negatives whenever the data has them."""
        return self.seed.emotion if self.findings else "(no distortion)"


@dataclass(frozen=True, slots=True)
class Exclusion:
    """A record left out of the dataset, with the file it came from and why."""

    id: str
    file: str
    reason: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"id": self.id, "file": self.file, "reason": self.reason, "detail": self.detail}


@dataclass
class JoinResult:
    samples: list[Sample]
    excluded: list[Exclusion] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def excluded_by_reason(self) -> dict[str, int]:
        return dict(sorted(Counter(e.reason for e in self.excluded).items()))


def read_records(path: str | Path, model: type[M], allow_empty: bool = False) -> list[M]:
    """All records of a JSONL file; an empty file (unless allowed) or a repeated id is a
    UserError."""
    records = list(iter_jsonl(path, model))
    if not records and not allow_empty:
        raise UserError(f"{path}: no records (the file is empty)")
    seen: set[str] = set()
    for number, record in enumerate(records, 1):
        rid = record.id  # type: ignore[attr-defined]
        if rid in seen:
            raise UserError(f"{path}: record {number}: id {rid!r} appears more than once")
        seen.add(rid)
    return records


def join(seeds: list[Seed], events: list[Event], records: list[AssessmentRecord], *,
         seeds_path: str, events_path: str, assessments_path: str,
         max_excluded_fraction: float = 1.0, require_labelled: bool = False) -> JoinResult:
    """Join in event order. Events without a seed or an assessment, assessments of unknown
    events and second assessments of one event are excluded and listed; so, with
    `require_labelled`, is an imported assessment the parser could not read. Nothing is dropped
    silently. No joined record at all, or too many events left out, is a UserError.

    An imported event carries its own seed; a generated one names a seed in `seeds`."""
    seed_by_id = {s.id: s for s in seeds}
    event_ids = {e.id for e in events}
    excluded: list[Exclusion] = []
    by_event: dict[str, AssessmentRecord] = {}
    for rec in records:
        if rec.event_id not in event_ids:
            excluded.append(Exclusion(rec.id, assessments_path, "assessment_without_event",
                                      f"event_id {rec.event_id!r} is not in {events_path}"))
        elif rec.event_id in by_event:
            excluded.append(Exclusion(rec.id, assessments_path, "extra_assessment",
                                      f"event {rec.event_id!r} is already assessed by "
                                      f"{by_event[rec.event_id].id!r}"))
        else:
            by_event[rec.event_id] = rec

    samples: list[Sample] = []
    used_seeds: set[str] = set()
    events_out = 0
    for event in events:
        seed = event.seed or seed_by_id.get(event.seed_id)
        rec = by_event.get(event.id)
        if seed is None:
            events_out += 1
            excluded.append(Exclusion(event.id, events_path, "event_without_seed",
                                      f"seed_id {event.seed_id!r} is not in {seeds_path}"))
        elif rec is None:
            events_out += 1
            excluded.append(Exclusion(event.id, events_path, "event_without_assessment",
                                      f"no assessment in {assessments_path}"))
        else:
            sample = Sample(seed, event, rec)
            if require_labelled and not sample.labelled:
                events_out += 1
                excluded.append(Exclusion(rec.id, assessments_path, "assessment_unread",
                                          "the parser could not read this imported assessment; "
                                          "dataset.target: verbatim trains on its own text"))
                continue
            used_seeds.add(seed.id)
            samples.append(sample)

    counts = {"seeds": len(seeds), "events": len(events), "assessments": len(records),
              "joined": len(samples), "excluded": len(excluded),
              "imported_events": sum(e.seed is not None for e in events),
              "seeds_without_event": len(seed_by_id.keys() - {e.seed_id for e in events
                                                              if e.seed is None})}
    result = JoinResult(samples, excluded, counts)
    if not samples:
        reasons = ", ".join(f"{k}: {v}" for k, v in result.excluded_by_reason.items())
        raise UserError(f"{events_path}: no event joins both a seed in {seeds_path} and an "
                        f"assessment in {assessments_path} ({reasons})")
    if events_out / len(events) > max_excluded_fraction:
        first = excluded[-events_out]
        raise UserError(f"{events_path}: {events_out} of {len(events)} events lack a seed or an "
                        f"assessment, more than dataset.max_excluded_fraction "
                        f"({max_excluded_fraction}); first: {first.id}: {first.detail}")
    return result
