"""cbt-schema: the records, params and assessment text format shared by every cbt package.

Names are imported lazily (as in cbt_infer), so a command that needs only a small module of
this package (cbt_schema.paths, cbt_schema.logs, cbt_schema.errors) does not load pydantic:
`cbt-infer --help` stays fast.
"""

from __future__ import annotations

from importlib import import_module

_EXPORTS = {
    "DISTORTIONS": "cbt_schema.distortions", "Distortion": "cbt_schema.distortions",
    "DistortionInfo": "cbt_schema.distortions", "distortion_from_name": "cbt_schema.distortions",
    "UserError": "cbt_schema.errors", "run_cli": "cbt_schema.errors",
    "UNKNOWN": "cbt_schema.records", "Assessment": "cbt_schema.records",
    "AssessmentRecord": "cbt_schema.records", "ChatExample": "cbt_schema.records",
    "ChatMessage": "cbt_schema.records", "Consensus": "cbt_schema.records",
    "Event": "cbt_schema.records", "EventDraft": "cbt_schema.records",
    "Finding": "cbt_schema.records", "ImportProvenance": "cbt_schema.records",
    "Provenance": "cbt_schema.records", "QuarantinedReply": "cbt_schema.records",
    "Seed": "cbt_schema.records", "Usage": "cbt_schema.records",
    "ParseResult": "cbt_schema.render", "parse_assessment": "cbt_schema.render",
    "render_assessment": "cbt_schema.render",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'cbt_schema' has no attribute {name!r}")
