"""Scripted teacher replies and injectable faults shared by the loopback test servers.

A fault plan is a callable (request_id, times_seen_before) -> Fault | None. HTTP faults
(429, 529, 500, slow) should only hit a request the first time it is seen, so the client's
retry of the same request succeeds; content faults hit a request id (one attempt) and the
engine's repair attempt, a new id, is judged on its own.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Any

from cbt_schema import DISTORTIONS, Distortion


class Fault(StrEnum):
    RATE_LIMIT = "429"
    OVERLOADED = "529"
    SERVER_ERROR = "500"
    SLOW = "slow"                   # reply later than the client's timeout
    TRUNCATED = "max_tokens"        # stop_reason max_tokens, partial tool input
    INVALID_JSON = "invalid_json"   # text that is not JSON
    SCHEMA = "schema"               # JSON that breaks the schema
    REFUSAL = "refusal"             # stop_reason refusal


HTTP_FAULTS = (Fault.RATE_LIMIT, Fault.OVERLOADED, Fault.SERVER_ERROR, Fault.SLOW)
CONTENT_FAULTS = (Fault.TRUNCATED, Fault.INVALID_JSON, Fault.SCHEMA, Fault.REFUSAL)
FaultPlan = Callable[[str, int], "Fault | None"]


def _unit(text: str, salt: str = "") -> float:
    return int(hashlib.sha256(f"{salt}:{text}".encode()).hexdigest()[:12], 16) / 16**12


def rate_faults(rate: float, kinds: Sequence[Fault] = tuple(Fault), salt: str = "") -> FaultPlan:
    """Deterministic: a `rate` share of request ids get a fault (first sight only), kinds
    spread evenly."""

    def plan(request_id: str, seen: int) -> Fault | None:
        if seen or _unit(request_id, salt) >= rate:
            return None
        return kinds[int(_unit(request_id, salt + "kind") * len(kinds))]

    return plan


def always(fault: Fault) -> FaultPlan:
    """Every request, every time: a teacher that keeps returning garbage."""
    return lambda request_id, seen: fault


def first_time(faults: dict[str, Fault]) -> FaultPlan:
    """Exactly these request ids, the first time each is seen."""
    return lambda request_id, seen: None if seen else faults.get(request_id)


def estimate_tokens(text: str, chars_per_token: float = 4.0) -> int:
    """The token count the servers report as usage: characters / chars_per_token."""
    return max(1, math.ceil(len(text) / chars_per_token))


def _pick(options: Sequence[str], text: str, salt: str) -> str:
    return options[int(_unit(text, salt) * len(options))]


# Slots of the stand-in's events: 14 x 12 x 14 x 12 x 10 x 12 combinations, so a full-size run
# (621 seeds) keeps every event through near-duplicate detection (Jaccard >= 0.8 of 3-word
# shingles), as a real teacher's varied replies would.
_PLACES = ("at the bus stop", "in the staff kitchen", "at my sister's flat", "in the car park",
           "during the team call", "at the pharmacy counter", "on the phone with the bank",
           "outside the school gates", "at the supermarket checkout", "in the waiting room",
           "at my parents' dinner table", "on the late train home", "in the gym changing room",
           "at the community hall")
_WHEN = ("On Monday morning", "Late on Friday", "Yesterday afternoon", "Just before lunch",
         "Last night", "Early this morning", "On Sunday evening", "Halfway through my shift",
         "Right after the meeting", "This weekend", "Two days ago", "At the end of the day")
_INCIDENTS = (
    "my manager pointed out a mistake in front of everyone",
    "a close friend cancelled our plans with a one-line message",
    "my partner sighed when I asked for help with the bills",
    "a colleague took credit for the report I had drafted",
    "I forgot to send the form that was due, and someone noticed",
    "my neighbour complained about the noise from our flat",
    "my brother made a joke about my job at a family meal",
    "the landlord wrote that the rent is going up again",
    "I spilled coffee over the papers I had prepared for a client",
    "nobody replied when I suggested an idea in the group chat",
    "my appointment was moved for the third time without warning",
    "a customer raised their voice at me over a small delay",
    "my daughter's teacher asked to talk about her homework",
    "my card was declined while a queue waited behind me")
_AFTER = ("Everyone went quiet for a moment.", "I stood there not knowing what to say.",
          "I went home and replayed it for hours.", "I pretended it did not bother me.",
          "I apologised more times than I needed to.", "I could feel my face getting hot.",
          "I left earlier than I had planned.", "Nobody mentioned it again, which felt worse.",
          "I sat in the car for a while before driving off.",
          "I checked my phone over and over afterwards.",
          "I kept going, but my hands were shaking.", "I answered far too sharply.")
_FEEL = ("I feel {e}, and it is hard to shake off.", "The {e} sits in my chest all evening.",
         "I am so {e} I can hardly concentrate.", "Mostly I feel {e}, and a bit stupid.",
         "I keep feeling {e} whenever I think of it.", "I notice how {e} I am, and it annoys me.",
         "It leaves me {e} and tired.", "There is a wave of {e} every time it comes back.",
         "I feel {e} and small.", "Underneath it all I feel {e}.")
_THOUGHTS = ("I always mess things up", "everyone must think I'm useless",
             "I should have known better", "this is going to ruin everything",
             "nothing I do is ever good enough", "they probably talk about me when I leave",
             "if I were a better person this would not happen", "I will never get this right",
             "it's all my fault, as usual", "one slip and they will see who I really am",
             "people like me don't get second chances", "I must never let that happen again")


def _profile(user_text: str) -> tuple[str, str]:
    """Occupation and emotion from the event prompt's user message, when they are there."""
    occupation, emotion = "at work", "upset"
    for line in user_text.splitlines():
        if line.startswith("Profile:"):
            parts = [p.strip() for p in line.removeprefix("Profile:").split(",")]
            if len(parts) >= 3:
                occupation = f"as a {parts[2].rstrip('.')}"
        elif line.startswith("Emotion:"):
            emotion = line.removeprefix("Emotion:").strip().rstrip(".").lower() or emotion
    return occupation, emotion


def event_reply(user_text: str) -> dict[str, Any]:
    occupation, emotion = _profile(user_text)
    incident = _pick(_INCIDENTS, user_text, "i")
    situation = (f"{_pick(_WHEN, user_text, 'w')}, {_pick(_PLACES, user_text, 'p')}, "
                 f"{incident}. I have been working {occupation} for a while now. "
                 f"{_pick(_AFTER, user_text, 'a')}")
    reaction = (f"{_pick(_FEEL, user_text, 'f').format(e=emotion)} I keep thinking "
                f"{_pick(_THOUGHTS, user_text, 't')}, and that "
                f"{_pick(_THOUGHTS, user_text, 't2')}.")
    return {"situation": situation, "reaction": reaction}


def default_reply(tool_name: str, user_text: str, draw: str = "") -> dict[str, Any]:
    """A valid reply for the schema, derived from the user message (so reruns match; the
    draw is ignored: every sample of one event agrees)."""
    if tool_name == "EventDraft":
        return event_reply(user_text)
    tag = hashlib.sha256(user_text.encode()).hexdigest()[:8]
    if tool_name == "Assessment":
        labels = list(Distortion)
        first = labels[int(_unit(user_text, "d1") * len(labels))]
        second = labels[(labels.index(first) + 1 + int(_unit(user_text, "d2") * 8)) % 10]
        return {"validation": f"That sounds hard, and your feelings make sense (case {tag}).",
                "findings": [{"distortion": d.value, "thought": _pick(_THOUGHTS, user_text, d),
                              "challenge": DISTORTIONS[d].challenge} for d in (first, second)],
                "closing": "One small step at a time is enough."}
    return {"answer": tag}


def bad_reply(tool_name: str) -> dict[str, Any]:
    """A reply that parses as JSON but breaks the schema."""
    if tool_name == "Assessment":
        return {"validation": "ok", "findings": [{"distortion": "sadness", "thought": "x",
                                                  "challenge": "y"}], "closing": ""}
    return {"situation": "too short", "mood": "sad"}


def truncated_text(tool_name: str, user_text: str) -> str:
    full = json.dumps(default_reply(tool_name, user_text))
    return full[: len(full) // 2]


def assessment_naming(labels: Sequence[str], user_text: str) -> dict[str, Any]:
    """A valid Assessment reply whose findings name exactly `labels` (distortion values)."""
    findings = [{"distortion": d.value, "thought": _pick(_THOUGHTS, user_text, d),
                 "challenge": DISTORTIONS[d].challenge} for d in Distortion if d.value in labels]
    return {"validation": "That sounds hard, and your feelings make sense.",
            "findings": findings, "closing": "One small step at a time is enough."}


class LabelOracle:
    """A teacher stand-in that names chosen labels for chosen texts, for audits whose metrics
    are known by hand. `answers` maps a text (found inside the user message) to the labels the
    teacher names for it; with `flip` > 0, each of the ten labels is flipped with that chance
    in each draw (request), deterministically, so k samples disagree as a sampled model's do.
    A text it does not know starts from default_reply's labels (then flipped the same way)."""

    def __init__(self, answers: dict[str, Sequence[str]], flip: float = 0.0) -> None:
        self.answers = {text: frozenset(labels) for text, labels in answers.items()}
        self.flip = flip

    def __call__(self, tool_name: str, user_text: str, draw: str = "") -> dict[str, Any]:
        if tool_name != "Assessment":
            return default_reply(tool_name, user_text)
        known = next((lab for text, lab in self.answers.items() if text in user_text), None)
        if known is None:
            known = frozenset(f["distortion"] for f in
                              default_reply(tool_name, user_text)["findings"])
        labels = {d.value for d in Distortion
                  if (d.value in known) != (_unit(f"{draw}:{user_text}", d.value) < self.flip)}
        return assessment_naming(sorted(labels), user_text)
