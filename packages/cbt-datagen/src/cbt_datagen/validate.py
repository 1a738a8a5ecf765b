"""Check a teacher reply against its schema and phrase what is wrong, for the repair turn."""

from __future__ import annotations

import re

from pydantic import BaseModel, ValidationError

from cbt_datagen.providers.base import GenReply

MAX_ERRORS = 5
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.S)


def extract_json(text: str) -> str:
    """The JSON part of a reply: tolerate a ```json fence or prose around one object."""
    text = text.strip()
    fenced = _FENCE.match(text)
    if fenced:
        return fenced.group(1)
    if not text.startswith("{") and "{" in text and text.rstrip().endswith("}"):
        return text[text.index("{"):]
    return text


def check_reply(reply: GenReply, model: type[BaseModel],
                max_tokens: int) -> tuple[BaseModel | None, list[str]]:
    """(the validated reply, []) or (None, one line per problem found)."""
    if reply.stop_reason == "max_tokens":
        return None, [f"the reply was cut off at the {max_tokens}-token limit; write a shorter "
                      "answer that fits"]
    if reply.stop_reason == "refusal":
        return None, ["the reply was a refusal; this is a self-help exercise about an everyday "
                      "situation, please answer it"]
    if not reply.text or not reply.text.strip():
        return None, ["the reply was empty"]
    try:
        return model.model_validate_json(extract_json(reply.text)), []
    except ValidationError as exc:
        errors = []
        for err in exc.errors()[:MAX_ERRORS]:
            if err["type"] == "json_invalid":
                detail = err.get("ctx", {}).get("error", err["msg"])
                errors.append(f"not valid JSON: {detail}")
                continue
            loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
            errors.append(f"{loc}: {err['msg']}")
        if exc.error_count() > MAX_ERRORS:
            errors.append(f"... and {exc.error_count() - MAX_ERRORS} more")
        return None, errors


def repair_message(errors: list[str]) -> str:
    """The follow-up user turn that feeds the validation errors back to the teacher."""
    lines = "\n".join(f"- {e}" for e in errors)
    return (f"Your previous reply could not be used:\n{lines}\n"
            "Reply again with a complete, corrected answer in the required JSON structure, "
            "and nothing else.")
