"""The readable text the student writes, and a tolerant parser back to an Assessment."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pydantic import ValidationError

from cbt_schema.distortions import Distortion, distortion_from_name
from cbt_schema.records import Assessment, Finding

HEADING = "Possible thought distortions:"
NO_FINDINGS = "None stand out in what you described."

_HEADING_RE = re.compile(r"\b(cognitive|thought|thinking)\s+(distortions?|errors|traps)\b", re.I)
_BULLET_RE = re.compile(r"^\s*(?:[-*•+]|\d+[.)])\s+(.*)$")
_CHALLENGE_RE = re.compile(r"^[*_\s]*challenge[*_\s]*:[*_\s]*(.*)$", re.I)
_INLINE_CHALLENGE_RE = re.compile(r"\s*[*_]*\bchallenge[*_]*\s*:[*_]*\s*", re.I)
_QUOTES = "\"'“”‘’"
_WORD_RE = re.compile(r"[^\W\d_]{2,}")


def render_assessment(assessment: Assessment) -> str:
    """Render an Assessment as the text the student is trained to write."""
    lines = [assessment.validation, "", HEADING, ""]
    if not assessment.findings:
        lines.append(f"- {NO_FINDINGS}")
    for finding in assessment.findings:
        lines.append(f'- {finding.distortion.title}: "{finding.thought}"')
        lines.append(f"  Challenge: {finding.challenge}")
    lines += ["", assessment.closing]
    return "\n".join(lines)


@dataclass
class ParseResult:
    """What could be read from a model's answer, and what could not."""

    assessment: Assessment | None
    findings: list[Finding] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.assessment is not None and not self.problems

    @property
    def distortions(self) -> set[Distortion]:
        return {f.distortion for f in self.findings}


@dataclass
class _Item:
    lineno: int
    name: str
    thought: str
    challenge: list[str] = field(default_factory=list)
    in_challenge: bool = False


def _is_heading(line: str) -> bool:
    """A short line naming the distortion list: ends with ':' or is a markdown heading."""
    text = line.strip().strip("*_").strip()
    if not _HEADING_RE.search(text) or _BULLET_RE.match(line):
        return False
    return text.endswith(":") or line.lstrip().startswith("#") or len(text) <= 40


def _is_sentence(text: str) -> bool:
    """Real words: one of two letters or more, and letters at least a third of the characters
    that are not spaces (so '{', '---' or '1.' left at the end of an answer is no closing)."""
    chars = [c for c in text if not c.isspace()]
    letters = sum(c.isalpha() for c in chars)
    return bool(_WORD_RE.search(text)) and 3 * letters >= len(chars)


def _unquote(text: str) -> str:
    text = text.strip().strip("*_").strip()
    if len(text) >= 2 and text[0] in _QUOTES and text[-1] in _QUOTES:
        text = text[1:-1]
    return text.strip()


def _split_item(body: str) -> tuple[str, str, str | None]:
    """'**Name:** "thought" Challenge: text' -> (name, thought, inline challenge or None)."""
    body = body.strip()
    inline = None
    parts = _INLINE_CHALLENGE_RE.split(body, maxsplit=1)
    if len(parts) == 2 and parts[0].strip():
        body, inline = parts[0].strip(), parts[1].strip()
    stripped = body.replace("**", "")
    name, sep, thought = stripped.partition(":")
    if not sep:
        dash = re.split(r"\s+[-–—]\s+", stripped, maxsplit=1)
        name, thought = (dash[0], dash[1]) if len(dash) == 2 else (stripped, "")
    return name.strip(" *_"), _unquote(thought), inline


def parse_assessment(text: str) -> ParseResult:
    """Parse an answer written in (roughly) the render_assessment format.

    Tolerates case, bullet styles (-, *, •, 1.), bold names, curly quotes, challenges on the
    same line or the next, and distortion aliases. Everything it cannot read is reported in
    `problems`, and so is a closing with no real words (junk such as "{"); it never raises on
    model output.
    """
    lines = text.replace("\r\n", "\n").split("\n")
    head = next((i for i, line in enumerate(lines) if _is_heading(line)), None)
    problems: list[str] = []
    if head is None:
        return ParseResult(None, [], ["no list of thought distortions found"])
    validation = "\n".join(lines[:head]).strip()
    items: list[_Item] = []
    closing_lines: list[str] = []
    saw_none = False
    for offset, raw in enumerate(lines[head + 1:], start=head + 2):
        line = raw.strip()
        if closing_lines:
            closing_lines.append(raw)
            continue
        if not line:
            continue
        bullet = _BULLET_RE.match(raw)
        challenge = _CHALLENGE_RE.match(bullet.group(1) if bullet else line)
        if challenge and items:
            items[-1].challenge.append(challenge.group(1))
            items[-1].in_challenge = True
        elif bullet:
            body = bullet.group(1)
            if NO_FINDINGS.lower().rstrip(".") in body.lower() or body.lower().startswith("none"):
                saw_none = True
                continue
            name, thought, inline = _split_item(body)
            item = _Item(offset, name, thought)
            if inline:
                item.challenge.append(inline)
                item.in_challenge = True
            items.append(item)
        elif items and raw[:1].isspace():
            target = items[-1].challenge if items[-1].in_challenge else None
            if target is not None:
                target.append(line)
            else:
                items[-1].thought = (items[-1].thought + " " + _unquote(line)).strip()
        else:
            closing_lines.append(raw)
    closing = "\n".join(closing_lines).strip()

    findings: list[Finding] = []
    for item in items:
        distortion = distortion_from_name(item.name)
        if distortion is None:
            problems.append(f"line {item.lineno}: unknown distortion {item.name!r}")
            continue
        challenge = " ".join(c for c in item.challenge if c).strip()
        if not item.thought:
            problems.append(f"line {item.lineno}: {distortion.title} has no quoted thought")
            continue
        if not challenge:
            problems.append(f"line {item.lineno}: {distortion.title} has no challenge")
            continue
        try:
            findings.append(Finding(distortion=distortion, thought=item.thought,
                                    challenge=_unquote(challenge)))
        except ValidationError as exc:
            problems.append(f"line {item.lineno}: {exc.errors()[0]['msg']}")
    if not items and not saw_none:
        problems.append("the distortion list is empty")
    if not validation:
        problems.append("missing the validating opening")
    if not closing:
        problems.append("missing the closing paragraph")
    elif not _is_sentence(closing):
        problems.append(f"the closing is not a sentence: {closing[:40]!r}")
    assessment = None
    if validation and closing:
        try:
            assessment = Assessment(validation=validation, findings=findings[:10],
                                    closing=closing)
        except ValidationError as exc:
            problems.append(f"assessment: {exc.errors()[0]['msg']}")
    return ParseResult(assessment, findings, problems)
