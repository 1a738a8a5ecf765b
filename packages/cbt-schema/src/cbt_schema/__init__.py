"""cbt-schema: the records, params and assessment text format shared by every cbt package."""

from cbt_schema.distortions import DISTORTIONS, Distortion, DistortionInfo, distortion_from_name
from cbt_schema.errors import UserError, run_cli
from cbt_schema.records import (
    UNKNOWN,
    Assessment,
    AssessmentRecord,
    ChatExample,
    ChatMessage,
    Consensus,
    Event,
    EventDraft,
    Finding,
    ImportProvenance,
    Provenance,
    QuarantinedReply,
    Seed,
    Usage,
)
from cbt_schema.render import ParseResult, parse_assessment, render_assessment

__all__ = [
    "DISTORTIONS", "UNKNOWN", "Assessment", "AssessmentRecord", "ChatExample", "ChatMessage",
    "Consensus", "Distortion", "DistortionInfo", "Event", "EventDraft", "Finding",
    "ImportProvenance", "ParseResult", "Provenance",
    "QuarantinedReply", "Seed", "Usage", "UserError", "distortion_from_name", "parse_assessment",
    "render_assessment", "run_cli",
]
