"""Server-sent events for POST /v1/assess with `"stream": true`, and the answer read as cards
while it is still being written.

The events, in order (each `data:` is one JSON object):

    screen   {"tier", "screen", "crisis_resources"}: first, before any generation; the possible
             tier's resources come here, ahead of the analysis
    token    {"text"}: the student's text as it is generated (none for the likely tier)
    partial  {"acknowledgement", "findings": [{"distortion", "title", "thought",
             "challenge"}], "closing"}: the answer so far, read by the student task's parser,
             sent whenever it changes
    result   the whole answer, exactly as `cbt-infer --json` prints it
    error    {"error"}: the generation could not finish; nothing follows
"""

from __future__ import annotations

import json
from typing import Any

from cbt_infer.result import AssessResult
from cbt_infer.safety import Screen
from cbt_schema.render import HEADING
from cbt_schema.student import StudentTask


def sse(event: str, data: Any) -> str:
    """One server-sent event; JSON keeps the data on one line."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def screen_event(verdict: Screen, screen: str, lead: str) -> dict[str, Any]:
    return {"tier": verdict.tier, "screen": screen,
            "crisis_resources": lead if verdict.tier == "possible" else ""}


def partial(text: str) -> dict[str, Any]:
    """The answer so far as cards: the acknowledgement (the text before the list), each
    finding the parser has read whole, and the closing once it has begun."""
    parsed = StudentTask.parse(text)
    if parsed.assessment is not None:
        acknowledgement = parsed.assessment.validation
        closing = parsed.assessment.closing
    else:
        acknowledgement = text.split(HEADING, 1)[0].strip()
        closing = ""
    return {"acknowledgement": acknowledgement, "closing": closing,
            "findings": [{"distortion": f.distortion.value, "title": f.distortion.title,
                          "thought": f.thought, "challenge": f.challenge}
                         for f in parsed.findings]}


class Cards:
    """Feeds the streamed display text and says what to send: the model's own text as
    `token` events (the possible tier's lead and the notice are not the model's, and arrive
    in `screen` and `result`), and `partial` whenever the cards change."""

    def __init__(self, lead: str, notice: str) -> None:
        self.skip = {f"{lead}\n\n", f"\n\n{notice}"}
        self.text = ""
        self.last: dict[str, Any] | None = None

    def feed(self, chunk: str) -> list[str]:
        if chunk in self.skip:
            return []
        self.text += chunk
        out = [sse("token", {"text": chunk})]
        now = partial(self.text)
        if now != self.last:
            self.last = now
            out.append(sse("partial", now))
        return out


def result_event(result: AssessResult) -> str:
    return sse("result", result.to_dict())
