"""The teacher model table (models.yaml beside this file): lifecycle, prices, request behaviour.

    info = check_model(params.teacher)   # one line and no request for a retired/unknown model
    price = price_for("claude-haiku-5-5", params.teacher.prices)

The table is data, checked against Anthropic's pages on the date it names; `teacher.prices` in
params overrides or adds prices (a team's own vLLM model, a price change).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict

from cbt_schema import UserError
from cbt_schema.params import Price, TeacherParams

TABLE = Path(__file__).with_name("models.yaml")

log = logging.getLogger(__name__)


class ModelInfo(BaseModel):
    """One row of the model table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    provider: Literal["anthropic", "local", "openai-compatible"]
    status: Literal["active", "legacy", "deprecated", "retired"]
    released: date | None = None
    deprecated: date | None = None
    retires: date | None = None
    replacement: str | None = None
    prices: Price
    min_cache_tokens: int | None = None
    chars_per_token: float = 3.5
    thinking: Literal["none", "manual", "adaptive"] = "none"
    can_disable_thinking: bool = False
    note: str = ""

    def retired_on(self, today: date) -> date | None:
        """The retirement date if the model is retired by `today`, else None."""
        if self.status == "retired" or (self.retires and self.retires <= today):
            return self.retires or today
        return None


@lru_cache(maxsize=4)
def load_table(path: Path = TABLE) -> dict[str, ModelInfo]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))["models"]
    table: dict[str, ModelInfo] = {}
    for model_id, row in raw.items():
        base = raw[row["same_as"]] if "same_as" in row else row
        table[model_id] = ModelInfo(id=model_id, **base)
    return table


def table_checked() -> str:
    """The date the table was last checked against the providers' pages."""
    return str(yaml.safe_load(TABLE.read_text(encoding="utf-8"))["checked"])


def lookup(model: str) -> ModelInfo | None:
    return load_table().get(model)


def price_for(model: str, overrides: Mapping[str, Price] | None = None,
              source: str = "params.yaml") -> Price:
    """teacher.prices[model], else the table's price; unknown is one line naming the key."""
    if overrides and model in overrides:
        return overrides[model]
    info = lookup(model)
    if info is not None:
        return info.prices
    known = ", ".join(sorted({*load_table(), *(overrides or {})}))
    raise UserError(
        f"{source}: teacher.prices: no price for model {model!r} (it is not in the model table "
        f"{TABLE.name}; add teacher.prices.{model}: {{input: ..., output: ...}} in dollars per "
        f"million tokens; priced models: {known})")


def check_model(teacher: TeacherParams, today: date | None = None,
                source: str = "params.yaml") -> ModelInfo | None:
    """Stop before any request when teacher.model cannot be used; warn when it is deprecated.

    Returns the table row (None for a model the table does not know but teacher.prices
    prices, e.g. a team's own model behind an OpenAI-compatible server).
    """
    today = today or date.today()
    info = lookup(teacher.model)
    if info is None:
        if teacher.provider.startswith("anthropic") and teacher.model not in teacher.prices:
            active = ", ".join(m.id for m in load_table().values()
                               if m.provider == "anthropic" and m.retired_on(today) is None)
            raise UserError(f"{source}: teacher.model: {teacher.model!r} is not a Claude model "
                            f"this project knows (active: {active}); fix the id, or add its "
                            f"price under teacher.prices if it is newer than {TABLE.name}")
        price_for(teacher.model, teacher.prices, source)
        return None
    retired = info.retired_on(today)
    if retired is not None:
        instead = f"; use {info.replacement}" if info.replacement else ""
        raise UserError(f"{source}: teacher.model: {info.id} was retired on {retired} and "
                        f"requests to it fail{instead}")
    if info.status == "deprecated":
        log.warning("warning: teacher.model %s is deprecated and retires on %s%s", info.id,
                    info.retires, f"; move to {info.replacement}" if info.replacement else "")
    if (teacher.provider.startswith("anthropic") and teacher.thinking == "disabled"
            and info.thinking != "none" and not info.can_disable_thinking):
        raise UserError(f"{source}: teacher.thinking: {info.id} cannot turn thinking off (and "
                        "forced tool use needs it off); set teacher.thinking: adaptive")
    return info
