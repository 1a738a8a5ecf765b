"""The ten thought distortions of the CBT worksheet, with the project's own wording."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Distortion(StrEnum):
    """One of the ten worksheet distortions. The value is a stable machine label."""

    ALL_OR_NOTHING = "all_or_nothing"
    OVERGENERALIZATION = "overgeneralization"
    MENTAL_FILTER = "mental_filter"
    DISCOUNTING_THE_POSITIVE = "discounting_the_positive"
    JUMPING_TO_CONCLUSIONS = "jumping_to_conclusions"
    MAGNIFICATION = "magnification"
    EMOTIONAL_REASONING = "emotional_reasoning"
    SHOULD_STATEMENTS = "should_statements"
    LABELING = "labeling"
    PERSONALIZATION = "personalization"

    @property
    def info(self) -> DistortionInfo:
        return DISTORTIONS[self]

    @property
    def title(self) -> str:
        return DISTORTIONS[self].title


@dataclass(frozen=True)
class DistortionInfo:
    title: str
    description: str
    challenge: str
    aliases: tuple[str, ...] = ()


DISTORTIONS: dict[Distortion, DistortionInfo] = {
    Distortion.ALL_OR_NOTHING: DistortionInfo(
        title="All-or-nothing thinking",
        description=(
            "Sorting outcomes into two boxes, total success or total failure, so that anything "
            "short of perfect counts as failing."
        ),
        challenge=(
            "Place the outcome on a 0-100 scale instead of pass/fail, and name what went partly "
            "right."
        ),
        aliases=("black-and-white thinking", "black and white thinking", "polarized thinking",
                 "all or nothing thinking", "dichotomous thinking"),
    ),
    Distortion.OVERGENERALIZATION: DistortionInfo(
        title="Overgeneralization",
        description=(
            "Treating one setback as proof of an endless pattern, often with words like "
            "'always', 'never' or 'everyone'."
        ),
        challenge=(
            "Look for times the pattern did not hold, and swap 'always' or 'never' for what "
            "actually happened this time."
        ),
        aliases=("over-generalization", "overgeneralisation", "generalization"),
    ),
    Distortion.MENTAL_FILTER: DistortionInfo(
        title="Mental filter",
        description=(
            "Fixing on one negative detail until it colours the whole situation, while the "
            "rest goes unseen."
        ),
        challenge=(
            "Step back to the whole picture: list what else happened, including what went well "
            "or stayed neutral."
        ),
        aliases=("filtering", "negative filter", "selective abstraction"),
    ),
    Distortion.DISCOUNTING_THE_POSITIVE: DistortionInfo(
        title="Discounting the positive",
        description=(
            "Explaining away good experiences or praise as luck, politeness or something that "
            "'doesn't count'."
        ),
        challenge=(
            "Take the positive at face value for a moment and ask what you would say if a "
            "friend had earned it."
        ),
        aliases=("disqualifying the positive", "discounting positives", "minimizing the positive"),
    ),
    Distortion.JUMPING_TO_CONCLUSIONS: DistortionInfo(
        title="Jumping to conclusions",
        description=(
            "Reaching a negative conclusion without the facts to back it: guessing what others "
            "think (mind reading) or predicting a bad outcome (fortune telling)."
        ),
        challenge=(
            "Weigh the evidence for and against the conclusion, and list at least two other "
            "explanations."
        ),
        aliases=("mind reading", "fortune telling", "mind-reading", "fortune-telling",
                 "arbitrary inference"),
    ),
    Distortion.MAGNIFICATION: DistortionInfo(
        title="Magnification or minimization",
        description=(
            "Blowing up the size of a problem or a mistake (catastrophizing), or shrinking your "
            "strengths and what you handled well."
        ),
        challenge=(
            "Ask how much this will matter in a month or a year, and what the most likely "
            "outcome is rather than the worst."
        ),
        aliases=("magnification", "minimization", "catastrophizing", "catastrophising",
                 "magnification (catastrophizing)", "magnification (catastrophizing) or "
                 "minimization", "magnification/minimization", "catastrophic thinking",
                 "magnification and minimization"),
    ),
    Distortion.EMOTIONAL_REASONING: DistortionInfo(
        title="Emotional reasoning",
        description=(
            "Taking a feeling as evidence: 'I feel useless, so I must be useless'."
        ),
        challenge=(
            "Separate the feeling from the facts: the feeling is real, and it is not proof. "
            "What would an observer see?"
        ),
        aliases=("feeling as fact", "emotional-reasoning"),
    ),
    Distortion.SHOULD_STATEMENTS: DistortionInfo(
        title="Should statements",
        description=(
            "Holding yourself or others to rigid rules of 'should', 'must' and 'ought', which "
            "turn into guilt or resentment when they are broken."
        ),
        challenge=(
            "Rephrase the rule as a preference ('I'd like to...') and ask whether it is "
            "realistic for anyone."
        ),
        aliases=("shoulds", "should statement", "musts", "should-statements"),
    ),
    Distortion.LABELING: DistortionInfo(
        title="Labeling",
        description=(
            "Summing up a whole person, yourself or someone else, with one harsh label after a "
            "single event."
        ),
        challenge=(
            "Describe the specific behaviour instead of the person, and recall qualities the "
            "label leaves out."
        ),
        aliases=("labelling", "mislabeling", "global labeling", "name calling"),
    ),
    Distortion.PERSONALIZATION: DistortionInfo(
        title="Personalization and blame",
        description=(
            "Taking all the responsibility for something shaped by many factors, or putting all "
            "of it on someone else."
        ),
        challenge=(
            "Map every factor that contributed, give each a fair share, and focus on what is "
            "yours to act on."
        ),
        aliases=("personalization", "personalisation", "blame", "blaming",
                 "personalization and blame", "personalization/blame", "self-blame",
                 "other-blame"),
    ),
}


def _norm(name: str) -> str:
    return " ".join(name.lower().replace("_", " ").replace("-", " ").split())


_LOOKUP: dict[str, Distortion] = {}
for _d, _info in DISTORTIONS.items():
    for _name in (_d.value, _info.title, *_info.aliases):
        _LOOKUP[_norm(_name)] = _d


def distortion_from_name(name: str) -> Distortion | None:
    """Map a name as a model or a dataset writes it to a Distortion, or None if unknown.

    Tolerates case, hyphens, underscores, markdown emphasis, a trailing colon and a
    parenthesised aside ("Magnification (catastrophizing)").
    """
    cleaned = _norm(name.strip().strip("*_`:").strip())
    if cleaned in _LOOKUP:
        return _LOOKUP[cleaned]
    base = cleaned.split("(")[0].strip()
    if base in _LOOKUP:
        return _LOOKUP[base]
    for part in (p.strip() for p in base.replace(" or ", "/").replace(" and ", "/").split("/")):
        if part in _LOOKUP:
            return _LOOKUP[part]
    return None
