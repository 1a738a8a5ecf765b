"""What the Claude API (version 2026-10-21) refuses, as the loopback stand-in enforces it.

Kept apart from the project's model table on purpose: the stand-in must refuse what the real
service refuses even when the table is wrong. Each rule names the page it comes from; all were
checked on CHECKED (stored copies of the pages; where the exact error text is not published,
the message below is ours and says so).

    problem = first_problem(body, today)   # -> (status, error type, message) or None
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from cbt_testing.teacher_servers.contract import request_errors

CHECKED = "2026-11-30"
API_VERSION = "2026-10-21"
MIGRATION = "https://platform.claude.com/docs/en/api/migration-2026-10-21"
DEPRECATIONS = "https://platform.claude.com/docs/en/about-claude/model-deprecations"
THINKING = "https://platform.claude.com/docs/en/build-with-claude/thinking"
STRUCTURED = "https://platform.claude.com/docs/en/build-with-claude/structured-outputs"
HAIKU_55 = ("https://platform.claude.com/docs/en/build-with-claude/prompt-engineering/"
            "prompting-claude-haiku-5-5")

# Removed in 2026-10-21, refused with 400 even at their default values (MIGRATION). The
# message text is pydantic's, as reported against the real API.
REMOVED_FIELDS = ("temperature", "top_p", "top_k")


@dataclass(frozen=True)
class ServedModel:
    """A model the stand-in serves: what it does about thinking, caching and tokens."""

    thinking_default: str          # "none" or "adaptive" when a request omits `thinking`
    can_disable_thinking: bool     # `thinking: {type: disabled}` accepted
    manual_thinking: bool          # `thinking: {type: enabled, budget_tokens}` accepted
    min_cache_tokens: int          # shorter cached prefixes are billed as plain input
    chars_per_token: float         # for the usage the stand-in reports
    max_output: int = 128_000


SERVED = {
    # HAIKU_55: adaptive thinking on by default; disabled only at effort low/medium/high;
    # manual extended thinking is a breaking change (refused); 128K output; tokenizer ~30%
    # more tokens than Haiku 4.5. Cache minimum 512 (from third-party tables: the model's page
    # gives none).
    "claude-haiku-5-5": ServedModel("adaptive", True, False, 512, 2.7),
    # Sonnet 5.5's what's-new page: thinking cannot be disabled; forced tool use is refused.
    "claude-sonnet-5-5": ServedModel("adaptive", False, False, 512, 2.7),
    # Haiku 4.5 (legacy, still served): no thinking unless asked; cache minimum 4096.
    "claude-haiku-4-5": ServedModel("none", True, True, 4096, 3.5, 64_000),
    "claude-haiku-4-5-20251001": ServedModel("none", True, True, 4096, 3.5, 64_000),
}

# DEPRECATIONS: requests to a model past its retirement date fail (404 not_found_error,
# "model: <id>", the shape of the errors page).
RETIRED = {"claude-3-opus-20240229": date(2026, 1, 5), "claude-3-5-haiku-20241022":
           date(2026, 2, 19), "claude-3-haiku-20240307": date(2026, 4, 20),
           "claude-sonnet-4-5": date(2026, 11, 30), "claude-sonnet-4-5-20250929":
           date(2026, 11, 30)}

Problem = tuple[int, str, str]  # HTTP status, error type, message


def _thinking(body: dict[str, Any], model: ServedModel) -> str:
    return (body.get("thinking") or {}).get("type") or model.thinking_default


def _model_problem(body: dict[str, Any], today: date) -> Problem | None:
    model = body.get("model")
    if (model in RETIRED and RETIRED[model] <= today) or model not in SERVED:
        return 404, "not_found_error", f"model: {model}"
    return None


def _thinking_problem(body: dict[str, Any], model_id: str) -> Problem | None:
    model = SERVED[model_id]
    thinking = _thinking(body, model)
    effort = (body.get("output_config") or {}).get("effort")
    if thinking == "disabled" and not model.can_disable_thinking:
        # message ours: the page says only that thinking cannot be turned off
        return 400, "invalid_request_error", f"thinking.type: 'disabled' is not supported " \
                                             f"for {model_id}"
    if thinking == "disabled" and effort in ("xhigh", "max"):
        return 400, "invalid_request_error", (f"thinking.type: 'disabled' is not supported at "
                                              f"effort '{effort}'")  # HAIKU_55; text ours
    if thinking == "enabled" and not model.manual_thinking:
        return 400, "invalid_request_error", (f"thinking.type: 'enabled' is not supported for "
                                              f"{model_id}; use 'adaptive'")
    forced = (body.get("tool_choice") or {}).get("type") in ("any", "tool")
    if forced and thinking != "disabled":
        # THINKING: forced tool_choice is incompatible with thinking (text ours)
        return 400, "invalid_request_error", ("tool_choice: forcing tool use is not supported "
                                              "while thinking is on; use tool_choice auto or "
                                              "none, or disable thinking")
    if body.get("max_tokens", 0) > model.max_output:
        return 400, "invalid_request_error", (f"max_tokens: {body['max_tokens']} > "
                                              f"{model.max_output}, the maximum for {model_id}")
    return None


_UNSUPPORTED_KEYWORDS = ("minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum",
                         "exclusiveMaximum", "multipleOf", "maxItems", "pattern")


def schema_problem(schema: Any, path: str = "output_config.format.schema") -> str | None:
    """STRUCTURED: objects need additionalProperties false; no length or numeric bounds;
    minItems only 0 or 1 (the SDK's transform_schema moves these into descriptions)."""
    if isinstance(schema, list):
        return next((p for i, s in enumerate(schema) if (p := schema_problem(s, f"{path}.{i}"))),
                    None)
    if not isinstance(schema, dict):
        return None
    for key in _UNSUPPORTED_KEYWORDS:
        if key in schema:
            return f"{path}: '{key}' is not supported in structured outputs"
    if schema.get("minItems", 0) > 1:
        return f"{path}: minItems values other than 0 or 1 are not supported"
    if schema.get("type") == "object" and schema.get("additionalProperties") is not False:
        return f"{path}: objects must set 'additionalProperties' to false"
    for key, sub in schema.items():
        if key in ("properties", "$defs"):
            for name, child in sub.items():
                if problem := schema_problem(child, f"{path}.{key}.{name}"):
                    return problem
        elif key in ("items", "anyOf", "allOf") and (problem := schema_problem(sub,
                                                                              f"{path}.{key}")):
            return problem
    return None


def first_problem(body: Any, today: date | None = None) -> Problem | None:
    """The error the real API answers to this Messages body (or a batch request's params)."""
    today = today or date.today()
    if not isinstance(body, dict):
        return 400, "invalid_request_error", "body: Input should be a valid dictionary"
    for key in REMOVED_FIELDS:
        if key in body:
            return 400, "invalid_request_error", f"{key}: Extra inputs are not permitted"
    errors = request_errors(body)
    if errors:
        return 400, "invalid_request_error", errors[0]
    problem = _model_problem(body, today) or _thinking_problem(body, body["model"])
    if problem:
        return problem
    choice = body.get("tool_choice") or {}
    if choice.get("type") == "tool" and not any(
            t.get("name") == choice.get("name") for t in body.get("tools", [])):
        return 400, "invalid_request_error", f"tool_choice.name: no tool named {choice['name']!r}"
    fmt = (body.get("output_config") or {}).get("format")
    if fmt and (problem_text := schema_problem(fmt.get("schema"))):
        return 400, "invalid_request_error", problem_text
    return None


def thinking_on(body: dict[str, Any]) -> bool:
    """Whether the model thinks for this (valid) request."""
    return _thinking(body, SERVED[body["model"]]) not in ("none", "disabled")
