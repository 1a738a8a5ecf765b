"""What one assessment returns: the parsed Assessment, or the raw text with the problems."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

from cbt_schema import Assessment, parse_assessment

FinishReason = Literal["stop", "length", "crisis"]


@dataclass
class Generation:
    """A backend's raw output for one prompt."""

    text: str
    tokens: int
    finish_reason: Literal["stop", "length"]
    prompt_tokens: int = 0
    seconds: float = 0.0
    first_token_s: float | None = None


@dataclass
class AssessResult:
    """The answer to one situation.

    `tier` is the crisis screen's verdict (cbt_infer.safety): `likely` results (`crisis`) carry
    the crisis message and no model output (so no `backend`); `possible` ones carry the resources in
    `crisis_resources`, shown before the analysis. Otherwise `raw` is the model's text exactly
    as generated; `assessment` is it parsed by cbt-schema, or None when it could not be read
    (then `problems` says why and `raw` is still there: nothing is dropped).
    """

    situation: str
    message: str
    notice: str
    crisis: bool = False
    signals: tuple[str, ...] = ()
    raw: str = ""
    assessment: Assessment | None = None
    problems: list[str] = field(default_factory=list)
    finish_reason: FinishReason = "stop"
    tokens: int = 0
    prompt_tokens: int = 0
    seconds: float = 0.0
    first_token_s: float | None = None
    backend: str = ""
    tier: str = "none"
    crisis_resources: str = ""
    screen: str = ""

    @property
    def parsed(self) -> bool:
        """True when the answer was read into a complete Assessment with no problems."""
        return self.assessment is not None and not self.problems

    @property
    def display(self) -> str:
        """The text to show a person: the answer (or crisis message), then the notice."""
        text = f"{self.message}\n\n{self.notice}" if self.notice else self.message
        return f"{self.crisis_resources}\n\n{text}" if self.crisis_resources else text

    def to_dict(self) -> dict:
        data = asdict(self)
        data["assessment"] = (self.assessment.model_dump(mode="json")
                              if self.assessment else None)
        data["signals"] = list(self.signals)
        data["parsed"] = self.parsed
        return data


def from_generation(situation: str, gen: Generation, notice: str, backend: str,
                    max_new_tokens: int) -> AssessResult:
    parsed = parse_assessment(gen.text)
    problems = list(parsed.problems)
    if gen.finish_reason == "length":
        problems.insert(0, f"the answer hit max_new_tokens ({max_new_tokens}) before the "
                           "end-of-turn token")
    return AssessResult(situation=situation, message=gen.text, notice=notice, raw=gen.text,
                        assessment=parsed.assessment, problems=problems,
                        finish_reason=gen.finish_reason, tokens=gen.tokens,
                        prompt_tokens=gen.prompt_tokens, seconds=gen.seconds,
                        first_token_s=gen.first_token_s, backend=backend)
