"""What one assessment returns: the parsed Assessment, or the raw text with the problems."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

from cbt_schema import Assessment, Finding
from cbt_schema.quotes import fidelity, quotes_found
from cbt_schema.student import StudentTask

FinishReason = Literal["stop", "length", "loop", "crisis"]


@dataclass
class Generation:
    """A backend's raw output for one prompt."""

    text: str
    tokens: int
    finish_reason: Literal["stop", "length", "loop"]
    prompt_tokens: int = 0
    seconds: float = 0.0
    first_token_s: float | None = None


@dataclass
class AssessResult:
    """The answer to one situation.

    `tier` is the crisis screen's verdict (cbt_infer.safety): `likely` results (`crisis`) carry
    the crisis message and no model output (so no `backend`); `possible` ones carry the resources in
    `crisis_resources`, shown before the analysis. Otherwise `raw` is the model's text exactly
    as generated; `assessment` is it read by the student task's parser (StudentTask.parse), or
    None when it could not be read (then `problems` says why and `raw` is still there: nothing
    is dropped). `findings` is every finding that parser read, also from an answer it could
    not read whole (one cut off before its closing): what evaluation scores; it is not part of
    `to_dict`, whose findings are the assessment's. An answer that repeated itself was stopped
    early (`finish_reason` "loop") and never counts as parsed.
    `quote_found` says, for each finding of `assessment`, whether its quoted thought is in the
    person's own words (cbt_schema.quotes); `quote_fidelity` is the share that is.
    `prompt_source` says where the system prompt came from: the model (its student_task.json
    or GGUF metadata), an explicit prompt (and whether it differs from the trained one), or the
    built-in one for a model that carries none.
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
    prompt_source: str = ""
    quote_found: list[bool] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def parsed(self) -> bool:
        """True when the answer was read into a complete Assessment with no problems."""
        return self.assessment is not None and not self.problems

    @property
    def quote_fidelity(self) -> float | None:
        """The share of findings whose quote is in the person's text; None without findings."""
        return fidelity(self.quote_found)

    @property
    def display(self) -> str:
        """The text to show a person: the answer (or crisis message), then the notice."""
        text = f"{self.message}\n\n{self.notice}" if self.notice else self.message
        return f"{self.crisis_resources}\n\n{text}" if self.crisis_resources else text

    def to_dict(self) -> dict:
        data = asdict(self)
        del data["findings"]
        data["assessment"] = (self.assessment.model_dump(mode="json")
                              if self.assessment else None)
        data["signals"] = list(self.signals)
        data["parsed"] = self.parsed
        data["quote_fidelity"] = self.quote_fidelity
        return data


def from_generation(situation: str, gen: Generation, notice: str, backend: str,
                    max_new_tokens: int) -> AssessResult:
    parsed = StudentTask.parse(gen.text)
    problems = list(parsed.problems)
    if gen.finish_reason == "length":
        problems.insert(0, f"the answer hit max_new_tokens ({max_new_tokens}) before the "
                           "end-of-turn token")
    elif gen.finish_reason == "loop":
        problems.insert(0, f"the answer repeated itself and was stopped after {gen.tokens} "
                           "tokens")
    findings = parsed.assessment.findings if parsed.assessment else []
    found = quotes_found((f.thought for f in findings), situation)
    return AssessResult(situation=situation, message=gen.text, notice=notice, raw=gen.text,
                        assessment=parsed.assessment, problems=problems, quote_found=found,
                        findings=parsed.findings,
                        finish_reason=gen.finish_reason, tokens=gen.tokens,
                        prompt_tokens=gen.prompt_tokens, seconds=gen.seconds,
                        first_token_s=gen.first_token_s, backend=backend)
