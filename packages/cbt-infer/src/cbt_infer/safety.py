"""Crisis screen: input that signals a risk of suicide or self-harm gets crisis resources
before, or instead of, an automated analysis. It runs before any token is generated.

Three tiers, one policy for every entry point (`CrisisScreen`; the CLI, the Python API and the
benchmarks all use it; evaluation turns it off explicitly):

- *likely*: a keyword signal of intent, plan, means or act, or a probe score at or above the
  high threshold. The person gets the resources only.
- *possible*: a probe score between the two thresholds, or only passive, warning-sign or
  distanced signals (being a burden, thoughts of death, no future, settling affairs:
  crisis_patterns.POSSIBLE_SIGNALS; a hit about someone else, a topic, the past or an everyday
  injury: see below). The resources come first, clearly, then the analysis.
- *none*: the analysis.

Keywords are conservative on purpose: negations ("I would never kill myself") still trigger,
and only a short list of well-known figurative phrases is masked first ("dying of
embarrassment", "this traffic is killing me"). A keyword hit that is not about the writer now
is *distanced* and leaves the likely tier (grief, worry for someone else and kitchen talk
deserve the analysis): about
someone else ("my sister is in hospital after an overdose"), a topic ("an essay on suicide"),
the past ("the anniversary of my dad's suicide"), or an everyday injury or medicine ("I cut
myself chopping onions", "the pharmacist said not to mix sleeping pills and alcohol"); the
rule is crisis_context.match_context. A distanced signal's name carries a suffix from
crisis_context.SUFFIXES ("overdose (someone else)"), and `tier_for` treats such names as
possible-only, as it does POSSIBLE_SIGNALS; when the probe scores the text, a distanced hit
shows the resources first only where the probe is close (at or above its possible threshold),
else the analysis alone. A signal is distanced only when every one of its
matches is, and never when the text states a plan or copying of the writer's own
(crisis_patterns.PLAN, crisis_context.COPYING): "I want to kill myself", "I'm going to take
all my pills" and "I've been cutting myself again" stay likely. Warning signs of preparation
(settling debts so no one has to deal with them, giving things away, farewell messages) are
possible signals; with a stated plan or time the screen adds "warning sign with a plan", a
likely signal.

Keywords miss phrasings nobody wrote a pattern for, so a learned probe on a pinned local
model's hidden states, computed by llama.cpp (crisis_probe.py, trained by the crisis_probe
stage) reads meaning; its
two thresholds come from cross-validation on safety/train, never from the held-out sets.
Neither is a clinical risk assessment.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from cbt_infer.crisis_context import COPYING, SUFFIXES, match_context
from cbt_infer.crisis_patterns import (
    IDIOMS,
    PATTERNS,
    PLAN,
    PLAN_SIGNAL,
    POSSIBLE_SIGNALS,
    SETTLE,
    WARNING_SIGNS,
    WHEN,
)
from cbt_infer.crisis_resources import CrisisResources, Resource
from cbt_schema import paths
from cbt_schema.errors import UserError

if TYPE_CHECKING:
    from cbt_infer.crisis_probe import CrisisProbe

__all__ = ["NOTICE", "CrisisResources", "CrisisScreen", "Resource", "Screen", "screen"]

NOTICE = ("Note: this is an automated self-help reflection, not a substitute for a therapist "
          "or other professional care.")
POSSIBLE_LINE = ("If any of that applies to you, please reach out to one of the lines above or "
                 "to someone you trust. Here is the reflection you asked for:")
PROBE_ENV = "CBT_CRISIS_PROBE"
DEFAULT_PROBE = Path(paths.CRISIS_PROBE)

Tier = Literal["likely", "possible", "none"]
_IDIOM_RE = re.compile("|".join(IDIOMS))
_SIGNALS = {name: re.compile(pattern) for name, pattern in PATTERNS.items()}
_PLAN = re.compile(PLAN)
_WHEN = re.compile(WHEN)
_SETTLE = re.compile(SETTLE)


def normalise(text: str) -> str:
    """Lower-case, straight apostrophes, collapsed whitespace."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    return re.sub(r"\s+", " ", text).strip()


def _signal(text: str, name: str, regex: re.Pattern[str], own_plan: bool) -> str | None:
    """The signal's name when it matches, with a context suffix when every match is
    distanced (and the text names no plan of the writer's own); None when it does not match."""
    contexts = [match_context(text, name, m) for m in regex.finditer(text)]
    if not contexts:
        return None
    if own_plan or name in POSSIBLE_SIGNALS or None in contexts:
        return name
    return name + SUFFIXES[contexts[0]]


def keyword_signals(text: str) -> tuple[str, ...]:
    """The names of the keyword patterns that match, after figurative phrases are masked.
    Distanced signals carry a suffix (crisis_context.SUFFIXES) and are possible-only; a warning
    sign with a stated plan or time adds the likely signal PLAN_SIGNAL."""
    cleaned = _IDIOM_RE.sub(" ", normalise(text))
    plan = bool(_PLAN.search(cleaned))
    own_plan = plan or bool(COPYING.search(cleaned))
    found = [s for name, regex in _SIGNALS.items()
             if (s := _signal(cleaned, name, regex, own_plan)) is not None]
    warning = any(s in WARNING_SIGNS for s in found)
    if (plan and (warning or _SETTLE.search(cleaned))) or (warning and _WHEN.search(cleaned)):
        found.append(PLAN_SIGNAL)
    return tuple(found)


def distanced(signal: str) -> bool:
    """A keyword hit about someone else, a topic, the past or an everyday injury."""
    return signal.endswith(tuple(SUFFIXES.values()))


def possible_only(signal: str) -> bool:
    """A passive signal, a warning sign or a distanced signal: alone, the possible tier."""
    return signal in POSSIBLE_SIGNALS or distanced(signal)


def tier_for(signals: tuple[str, ...], probability: float | None,
             thresholds: tuple[float, float] | None) -> Tier:
    """The tier from keyword signals and, when a probe scored the text, its probability and
    (possible, likely) thresholds. The probe can raise a tier, never lower one, with one
    exception it weighs in on: a text whose only signals are distanced (someone else's
    crisis, grief, a kitchen cut) gets the resources first only where the probe is close
    (at or above its possible threshold); without a probe, it always does."""
    if not all(possible_only(s) for s in signals):
        return "likely"
    if probability is not None and thresholds is not None:
        if probability >= thresholds[1]:
            return "likely"
        if probability >= thresholds[0]:
            return "possible"
        return "possible" if any(not distanced(s) for s in signals) else "none"
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
    def load(cls, probe: CrisisProbe | str | Path | bool | None = True) -> CrisisScreen:
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
        return cls(CrisisProbe.load(path), f"keywords, then the learned probe ({path})")

    def build(self) -> None:
        """Load the probe's encoder now rather than on the first text."""
        if self.probe is not None:
            self.probe.build()

    def __call__(self, text: str) -> Screen:
        if not isinstance(text, str) or not text.strip():
            raise UserError("the situation is empty: describe what happened and how you feel")
        return screen(text, self.probe)
