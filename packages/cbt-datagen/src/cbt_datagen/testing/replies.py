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


def estimate_tokens(text: str) -> int:
    """About four characters per token: the estimate the servers report as usage."""
    return max(1, math.ceil(len(text) / 4))


def _pick(options: Sequence[str], text: str, salt: str) -> str:
    return options[int(_unit(text, salt) * len(options))]


_PLACES = ("at the bus stop", "in the staff kitchen", "at my sister's flat", "in the car park",
           "during the team call", "at the pharmacy counter", "on the phone with the bank")
_THOUGHTS = ("I always mess things up", "everyone must think I'm useless",
             "I should have known better", "this is going to ruin everything")


def default_reply(tool_name: str, user_text: str) -> dict[str, Any]:
    """A valid reply for the schema, derived from the user message (so reruns match)."""
    tag = hashlib.sha256(user_text.encode()).hexdigest()[:8]
    if tool_name == "EventDraft":
        return {"situation": f"Something small went wrong {_pick(_PLACES, user_text, 'p')} "
                             f"today (case {tag}), and it stayed with me all afternoon.",
                "reaction": f"I feel awful about it, and I keep thinking "
                            f"{_pick(_THOUGHTS, user_text, 't')}."}
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
