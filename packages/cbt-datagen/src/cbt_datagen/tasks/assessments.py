"""The assessments task: an event -> a ten-distortion worksheet assessment (AssessmentRecord).

The teacher is asked with `assessments.prompt` (prompts/assessment.j2: the worksheet from
cbt_schema and the first `few_shot` worked examples) and the event as the user message; it
replies with an Assessment. An event written as balanced may get no findings: its reply schema
says so explicitly (minItems 0). The quality check counts loops, findings copied from the
worksheet or the examples, and findings per assessment.

With teacher.samples k > 1 each event is asked k times, each sample its own item id (sample 1
keeps the event id, so k = 1 asks exactly what it always asked). The consensus keeps one
record per event: the labels are merged by majority (teacher.majority), the sample closest to
them is written with its Consensus, and agreement (Fleiss' kappa) goes into the metrics.

    events = read_inputs(args.events)
    task, items = make(params, events)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from cbt_datagen.consensus import closest, consensus_report, merge_labels
from cbt_datagen.prompts import Prompt, examples_path, load_examples, load_prompt, schema_for
from cbt_datagen.quality import loops, norm, share
from cbt_datagen.tasks.base import BuildRecord, Task
from cbt_schema import DISTORTIONS, Assessment, AssessmentRecord, Event, Provenance, UserError
from cbt_schema.params import PipelineParams

NAME = "assessments"
SAMPLE_MARK = "~s"  # item id of sample j > 1: "<event id>~s<j>"; sample 1 keeps the event id


def read_inputs(path: str) -> list[Event]:
    """The events file (cbt-datagen events); an empty one is a UserError."""
    from cbt_schema.jsonl import read_jsonl

    events = read_jsonl(path, Event)
    if not events:
        raise UserError(f"{path}: no events in the file")
    return events


def sample_item_id(event_id: str, sample: int) -> str:
    """Sample 1 is the event id itself, so k = 1 asks exactly what it always asked."""
    return event_id if sample == 1 else f"{event_id}{SAMPLE_MARK}{sample}"


def split_item_id(item_id: str) -> tuple[str, int]:
    """(event id, sample number) of an item id made by sample_item_id."""
    head, mark, tail = item_id.rpartition(SAMPLE_MARK)
    return (head, int(tail)) if mark and tail.isdigit() else (item_id, 1)


def open_schema() -> dict[str, Any]:
    """The reply schema that allows no findings (the same to a hosted teacher; the local
    teacher needs the explicit minItems 0)."""
    schema = schema_for(Assessment)
    schema["properties"]["findings"]["minItems"] = 0
    return schema


def builder(on_build: Callable[[int, AssessmentRecord], None] | None = None,
            prefix: str = "assessment") -> BuildRecord:
    """(key, item id, assessment, provenance) -> AssessmentRecord of the item's event;
    `on_build(sample number, record)` sees each (teacher.samples)."""

    def build(key: str, item_id: str, assessment: Assessment,
              prov: Provenance) -> AssessmentRecord:
        event_id, sample = split_item_id(item_id)
        record = AssessmentRecord(id=f"{prefix}-{key[:16]}", event_id=event_id,
                                  assessment=assessment, provenance=prov)
        if on_build is not None:
            on_build(sample, record)
        return record

    return build


def quality(records: Sequence[AssessmentRecord], example_texts: Iterable[str] = (),
            schema: dict[str, Any] | None = None) -> dict[str, float]:
    """Loop rate, the share of findings whose thought or challenge is copied verbatim from a
    few-shot example or from the worksheet, findings per assessment and the share with none."""
    copied_texts = {norm(t) for t in example_texts}
    copied_texts |= {norm(info.challenge) for info in DISTORTIONS.values()}
    findings = [f for r in records for f in r.assessment.findings]
    flags = [loops(" ".join([r.assessment.validation,
                             *(f.challenge for f in r.assessment.findings),
                             r.assessment.closing]),
                   r.assessment.model_dump(mode="json"), schema) for r in records]
    return {"loop_rate": share(r or c for r, c in flags),
            "copied_finding_rate": share(norm(f.thought) in copied_texts
                                         or norm(f.challenge) in copied_texts
                                         for f in findings),
            "findings_per_assessment": round(len(findings) / len(records), 3) if records
            else 0.0,
            "no_findings_rate": share(not r.assessment.findings for r in records)}


def labels_of(record: AssessmentRecord) -> frozenset[str]:
    assert record.assessment is not None  # a teacher's record is always parsed
    return frozenset(d.value for d in record.assessment.distortions)


def choose_targets(samples: Sequence[tuple[int, AssessmentRecord]], k: int, majority: float
                   ) -> tuple[list[AssessmentRecord], dict[str, object]]:
    """One record per event from its valid (sample number, record) pairs: the one closest to
    the merged labels, carrying its Consensus; and the agreement report."""
    from cbt_schema import Consensus, Distortion

    by_event: dict[str, list[tuple[int, AssessmentRecord]]] = {}
    for number, record in sorted(samples, key=lambda pair: pair[0]):
        by_event.setdefault(record.event_id, []).append((number, record))
    order = {r.event_id: i for i, (_, r) in enumerate(samples)}  # first appearance
    chosen_records, groups, chosen, merged_sets = [], [], [], []
    for event_id in sorted(by_event, key=order.__getitem__):
        numbered = by_event[event_id]
        labels = [labels_of(r) for _, r in numbered]
        merged = merge_labels(labels, majority)
        pick = closest(labels, merged)
        votes = {d: sum(d.value in s for s in labels) for d in Distortion}
        number, record = numbered[pick]
        consensus = Consensus(asked=k, valid=len(numbered),
                              votes={d: n for d, n in votes.items() if n},
                              merged=[d for d in Distortion if d.value in merged], chosen=number)
        chosen_records.append(record.model_copy(update={"consensus": consensus}))
        groups.append(labels)
        chosen.append(pick)
        merged_sets.append(merged)
    report = consensus_report(groups, chosen, merged_sets, [d.value for d in Distortion], k,
                              majority)
    return chosen_records, report


def task(prompt: Prompt, max_tokens: int, name: str = NAME, build: BuildRecord | None = None,
         **options: Any) -> Task:
    """The assessments task with this prompt (`name`: another stage asking the same, the
    teacher audit); options: Task's other fields."""
    return Task(name=name, reply_model=Assessment, prompt=prompt, max_tokens=max_tokens,
                build=build or builder(), **options)


def make(params: PipelineParams, events: Sequence[Event]
         ) -> tuple[Task, list[tuple[str, str]]]:
    """The stage's task and its requests: k = teacher.samples per event, in event order."""
    section, k = params.assessments, params.teacher.samples
    shown = load_examples(examples_path(Path(section.prompt)), section.few_shot)
    example_texts = [t for ex in shown for f in ex.assessment.findings
                     for t in (f.thought, f.challenge)]
    sample_of: dict[str, int] = {}  # record id -> its sample number

    def finish(records: list[AssessmentRecord]) -> tuple[list[AssessmentRecord], dict]:
        return choose_targets([(sample_of[r.id], r) for r in records], k,
                              params.teacher.majority)

    balanced, schema = {e.id for e in events if e.balanced}, open_schema()
    prompt = load_prompt(section.prompt, section.few_shot)
    built = task(prompt, section.max_tokens,
                 build=builder(lambda sample, record: sample_of.__setitem__(record.id, sample)),
                 schema_of=lambda item_id: schema if split_item_id(item_id)[0] in balanced
                 else None,
                 quality=lambda records, bound: quality(records, example_texts, bound),
                 finish=finish if k > 1 else None, samples=k)
    return built, [(sample_item_id(e.id, j), prompt.user(e)) for e in events
                   for j in range(1, k + 1)]
