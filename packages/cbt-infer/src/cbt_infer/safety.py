"""Crisis screen: input that signals a risk of suicide or self-harm gets crisis resources
before, or instead of, an automated analysis. It runs before any token is generated.

Three tiers, one policy for every entry point (`CrisisScreen`; the CLI, the Python API and the
benchmarks all use it; evaluation turns it off explicitly):

- *likely*: a keyword signal of intent, plan, means or act, or a probe score at or above the
  high threshold. The person gets the resources only.
- *possible*: a probe score between the two thresholds, or only a passive signal (being a
  burden, thoughts of death, no future: crisis_patterns.POSSIBLE_SIGNALS). The resources come
  first, clearly, then the analysis.
- *none*: the analysis.

Keywords are conservative on purpose: negations ("I would never kill myself") and third
persons ("my friend wants to die") still trigger. Only a short list of well-known figurative
phrases is masked first ("dying of embarrassment", "this traffic is killing me"); whatever
remains is screened. Keywords miss phrasings nobody wrote a pattern for, so a learned probe on
a pinned local model's hidden states (crisis_probe.py, trained by the crisis_probe stage)
reads meaning; its two thresholds come from cross-validation on safety/train, never from the
held-out sets. Neither is a clinical risk assessment.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from cbt_infer.crisis_patterns import IDIOMS, PATTERNS, POSSIBLE_SIGNALS
from cbt_infer.crisis_resources import CrisisResources, Resource
from cbt_schema.errors import UserError

if TYPE_CHECKING:
    from cbt_infer.crisis_probe import CrisisProbe

__all__ = ["NOTICE", "CrisisResources", "CrisisScreen", "Resource", "Screen", "screen"]

NOTICE = ("Note: this is an automated self-help reflection, not a substitute for a therapist "
          "or other professional care.")
POSSIBLE_LINE = ("If any of that applies to you, please reach out to one of the lines above or "
                 "to someone you trust. Here is the reflection you asked for:")
PROBE_ENV = "CBT_CRISIS_PROBE"
DEFAULT_PROBE = Path("models/crisis_probe.json")

Tier = Literal["likely", "possible", "none"]
_IDIOM_RE = re.compile("|".join(IDIOMS))
_SIGNALS = {name: re.compile(pattern) for name, pattern in PATTERNS.items()}


def normalise(text: str) -> str:
    """Lower-case, straight apostrophes, collapsed whitespace."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    return re.sub(r"\s+", " ", text).strip()


def keyword_signals(text: str) -> tuple[str, ...]:
    """The names of the keyword patterns that match, after figurative phrases are masked."""
    cleaned = _IDIOM_RE.sub(" ", normalise(text))
    return tuple(name for name, regex in _SIGNALS.items() if regex.search(cleaned))


def tier_for(signals: tuple[str, ...], probability: float | None,
             thresholds: tuple[float, float] | None) -> Tier:
    """The tier from keyword signals and, when a probe scored the text, its probability and
    (possible, likely) thresholds. The probe can raise a tier, never lower one."""
    if any(s not in POSSIBLE_SIGNALS for s in signals):
        return "likely"
    if probability is not None and thresholds is not None:
        if probability >= thresholds[1]:
            return "likely"
        if probability >= thresholds[0]:
            return "possible"
    return "possible" if signals else "none"


@dataclass(frozen=True)
class Screen:
    """The verdict: the tier, which signals fired, and the probe's score when it ran."""

    tier: Tier
    signals: tuple[str, ...] = ()
    probability: float | None = None

    @property
    def crisis(self) -> bool:
        """Resources only, no analysis (the likely tier)."""
        return self.tier == "likely"

    @property
    def shows_resources(self) -> bool:
        return self.tier != "none"


def screen(text: str, probe: CrisisProbe | None = None) -> Screen:
    """Screen one input: keywords, then (when given and the keywords leave it open) the
    learned probe. Without a probe only keywords decide (see CrisisScreen for the policy)."""
    signals = keyword_signals(text)
    if probe is None or tier_for(signals, None, None) == "likely":
        return Screen(tier_for(signals, None, None), signals)
    p = probe.score([text])[0]
    tier = tier_for(signals, p, probe.thresholds)
    if tier_for((), p, probe.thresholds) != "none":
        signals += (f"learned screen (p={p:.2f})",)
    return Screen(tier, signals, p)


class CrisisScreen:
    """The screen every entry point uses: keywords, then the learned probe.

    `CrisisScreen.load()` finds the probe at $CBT_CRISIS_PROBE or models/crisis_probe.json;
    a missing or corrupt file is an error naming it and how to rebuild it, never a silent
    fall-back. `CrisisScreen.load(False)` is keywords only, said in `.active`."""

    def __init__(self, probe: CrisisProbe | None, active: str) -> None:
        self.probe = probe
        self.active = active

    @classmethod
    def load(cls, probe: CrisisProbe | str | Path | bool | None = True,
             base: str | Path | None = None) -> CrisisScreen:
        """probe: True (default location), a probe file, a loaded CrisisProbe, or
        False/None for keywords only (an explicit choice)."""
        from cbt_infer.crisis_probe import CrisisProbe

        if probe is False or probe is None:
            return cls(None, "keywords only (the learned probe was turned off)")
        if isinstance(probe, CrisisProbe):
            return cls(probe, f"keywords, then the learned probe ({probe.path})")
        path = Path(os.environ.get(PROBE_ENV) or DEFAULT_PROBE) if probe is True else Path(probe)
        if not path.is_file():
            raise UserError(
                f"{path}: crisis probe file not found. Build it with `dvc repro crisis_probe` "
                f"(or fetch it: `dvc pull {path}`), point ${PROBE_ENV} at it, or turn the "
                "learned screen off explicitly (--no-crisis-probe; crisis_probe=False)")
        return cls(CrisisProbe.load(path, base), f"keywords, then the learned probe ({path})")

    def build(self) -> None:
        """Load the probe's encoder now rather than on the first text."""
        if self.probe is not None:
            self.probe.build()

    def __call__(self, text: str) -> Screen:
        if not isinstance(text, str) or not text.strip():
            raise UserError("the situation is empty: describe what happened and how you feel")
        return screen(text, self.probe)
