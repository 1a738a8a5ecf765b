"""Records that flow through the pipeline: seeds, events, assessments, chat examples."""

from __future__ import annotations

import hashlib
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from cbt_schema.distortions import Distortion

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
UNKNOWN = "unknown"  # a seed field an imported row does not give


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Seed(Record):
    """A demographic 4-tuple paired with one negative emotion. An imported row's seed holds
    what its columns give; a text field it lacks is UNKNOWN and an age it lacks is None."""

    id: str
    sex: Text
    age: int | None = Field(ge=18, le=120)
    occupation: Text
    relationship_status: Text
    emotion: Text

    @staticmethod
    def make_id(sex: str, age: int | None, occupation: str, relationship_status: str,
                emotion: str) -> str:
        key = "\x1f".join((sex, str(age), occupation, relationship_status, emotion))
        return "seed-" + hashlib.sha256(key.encode()).hexdigest()[:12]


class Usage(Record):
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    thinking_tokens: int = 0  # part of output_tokens (billed as output), for reporting


class Provenance(Record):
    """Where a generated record came from, so any record can be traced and costed."""

    request_id: str
    provider: str
    model: str
    prompt_id: str
    prompt_sha256: str
    attempts: int = 1
    usage: Usage = Usage()
    cost_usd: float = 0.0


class ImportProvenance(Record):
    """Where an imported record came from: the file, its checksum, the row and the mapping."""

    source: str
    sha256: str
    row: int = Field(ge=1)  # 1-based data row (a CSV's header is not counted)
    columns: dict[str, str | list[str]]  # this project's field -> the file's column(s)


class EventDraft(Record):
    """What the teacher returns for a seed (bounded, so small models cannot loop forever)."""

    situation: Annotated[str, StringConstraints(strip_whitespace=True, min_length=20,
                                                max_length=600)]
    reaction: Annotated[str, StringConstraints(strip_whitespace=True, min_length=20,
                                               max_length=600)]


class Event(Record):
    """A first-person triggering event: what happened, then the feelings and thoughts."""

    id: str
    seed_id: str
    situation: Text
    reaction: Annotated[str, StringConstraints(strip_whitespace=True)] = ""
    balanced: bool = False  # written on purpose without distorted thinking
    provenance: Provenance | ImportProvenance | None = None
    seed: Seed | None = None  # an imported event's own seed (data/seeds.jsonl holds the rest)

    @property
    def text(self) -> str:
        return f"{self.situation} {self.reaction}" if self.reaction else self.situation


class Finding(Record):
    """One distortion found in the person's thinking, with the thought and a challenge."""

    distortion: Distortion
    thought: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                              max_length=300)]
    challenge: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                max_length=500)]


class Assessment(Record):
    """The worksheet answer: a validating opening, the findings, an encouraging close."""

    validation: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                 max_length=800)]
    findings: list[Finding] = Field(default_factory=list, max_length=10)
    closing: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                              max_length=600)]

    @property
    def distortions(self) -> set[Distortion]:
        return {f.distortion for f in self.findings}


class Consensus(Record):
    """How a self-consistent assessment was chosen (teacher.samples > 1): the samples that
    validated, the merged labels and their votes, and which sample is the training target."""

    asked: int = Field(ge=2)
    valid: int = Field(ge=1)
    votes: dict[Distortion, int]
    merged: list[Distortion]
    chosen: int = Field(ge=1)  # the sample number (1-based) whose text is the target


class AssessmentRecord(Record):
    """An assessment of one event, as the teacher produced it or as it was imported.

    An imported one keeps its own text in `verbatim`; `assessment` is what the parser read
    of it, or None where it read nothing (its distortions are then unknown).
    """

    id: str
    event_id: str
    assessment: Assessment | None
    verbatim: str | None = None
    provenance: Provenance | ImportProvenance | None = None
    consensus: Consensus | None = None

    @model_validator(mode="after")
    def _has_text(self) -> AssessmentRecord:
        if self.assessment is None and not self.verbatim:
            raise ValueError("an assessment record needs a parsed assessment or its verbatim text")
        return self


class QuarantinedReply(Record):
    """A teacher reply that never validated, kept with its raw text and the errors."""

    request_id: str
    item_id: str
    stage: str
    raw: str
    errors: list[str]
    attempts: int


class ChatMessage(Record):
    role: Literal["system", "user", "assistant"]
    content: str


class ChatExample(Record):
    """One training example for the student, readable by datasets.load_dataset('json')."""

    id: str
    messages: list[ChatMessage]
    emotion: str | None = None
    distortions: list[Distortion] = Field(default_factory=list)
    labelled: bool = True  # False: an imported assessment the parser could not read
