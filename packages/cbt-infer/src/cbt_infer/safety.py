"""Crisis screen: input that signals a risk of suicide or self-harm gets crisis resources,
never an automated analysis. It runs before any model is loaded or any token generated.

Conservative on purpose: a false alarm costs a person a few lines of resources; a miss could
cost much more. So negations ("I would never kill myself") and third persons ("my friend wants
to die") still trigger. Only a short list of well-known figurative phrases is masked first
("dying of embarrassment", "this traffic is killing me", "dead tired", "the death of me",
"I'd kill for a coffee", "to die for"); whatever remains is screened, so "I want to die, not of
embarrassment" still triggers. "Die of shame" is deliberately *not* masked (shame is tied to
suicidal thinking). Keywords miss phrasings nobody wrote a pattern for, so a learned probe on
the base model's hidden states (crisis_probe.py, trained by the crisis_probe stage) adds its
alarms when it is available; the CLI uses it by default. Neither is a clinical risk assessment.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cbt_infer.crisis_patterns import IDIOMS, PATTERNS
from cbt_schema.errors import UserError

if TYPE_CHECKING:
    from cbt_infer.crisis_probe import CrisisProbe

NOTICE = ("Note: this is an automated self-help reflection, not a substitute for a therapist "
          "or other professional care.")

_IDIOM_RE = re.compile("|".join(IDIOMS))
_SIGNALS = {name: re.compile(pattern) for name, pattern in PATTERNS.items()}


def normalise(text: str) -> str:
    """Lower-case, straight apostrophes, collapsed whitespace."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    return re.sub(r"\s+", " ", text).strip()


@dataclass(frozen=True)
class Screen:
    """The screen's verdict: `crisis` and which signals fired (for logs and tests)."""

    crisis: bool
    signals: tuple[str, ...] = ()


def screen(text: str, probe: CrisisProbe | None = None) -> Screen:
    """Screen one input for suicide or self-harm risk (see the module docstring).

    Keywords first; when they find nothing and a learned probe is given (crisis_probe.py), the
    probe's verdict is added: it can only raise an alarm, never clear one."""
    cleaned = _IDIOM_RE.sub(" ", normalise(text))
    hits = tuple(name for name, regex in _SIGNALS.items() if regex.search(cleaned))
    if not hits and probe is not None:
        flagged, p = probe.flags(text)
        if flagged:
            hits = (f"learned screen (p={p:.2f})",)
    return Screen(bool(hits), hits)


class Resource(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1)
    contact: str = Field(min_length=1)


class CrisisResources(BaseModel):
    """The crisis response: a supportive message, resources, a closing line (configurable)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    message: str = Field(min_length=1)
    resources: list[Resource] = Field(min_length=1)
    closing: str = ""

    @classmethod
    def default(cls) -> CrisisResources:
        raw = resources.files("cbt_infer").joinpath("data/crisis_resources.json").read_text()
        return cls.model_validate_json(raw)

    @classmethod
    def load(cls, path: str | Path | None) -> CrisisResources:
        """Read a JSON file shaped like data/crisis_resources.json; None gives the default."""
        if path is None:
            return cls.default()
        path = Path(path)
        if not path.is_file():
            raise UserError(f"{path}: crisis resources file not found")
        try:
            return cls.model_validate(json.loads(path.read_text(encoding="utf-8")))
        except json.JSONDecodeError as exc:
            raise UserError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
        except ValidationError as exc:
            err = exc.errors()[0]
            key = ".".join(str(p) for p in err["loc"]) or "(top level)"
            raise UserError(f"{path}: {key}: {err['msg']} (expected keys: message, "
                            "resources [{name, contact}], closing)") from None

    def render(self) -> str:
        lines = [self.message, ""]
        lines += [f"- {r.name}: {r.contact}" for r in self.resources]
        if self.closing:
            lines += ["", self.closing]
        return "\n".join(lines)
