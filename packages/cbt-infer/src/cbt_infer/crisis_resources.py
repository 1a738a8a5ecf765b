"""What a person at risk is shown: a supportive message, crisis lines, a closing line.

The default lists the international directory plus the US 988 line and Samaritans. With a
country (`--country` / `CBT_COUNTRY` / `country=`), the lines come from data/crisis_lines.json,
where each country names the page its numbers were checked against and the date. A country
with no entry falls back to the default and says so in the text shown.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cbt_schema.errors import UserError

COUNTRY_ENV = "CBT_COUNTRY"
ALIASES = {"UK": "GB", "ENGLAND": "GB", "SCOTLAND": "GB", "WALES": "GB", "USA": "US"}


class Resource(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1)
    contact: str = Field(min_length=1)


class CrisisResources(BaseModel):
    """The crisis response (configurable with a JSON file shaped like
    data/crisis_resources.json). `note` says why the list is not the one asked for."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    message: str = Field(min_length=1)
    resources: list[Resource] = Field(min_length=1)
    closing: str = ""
    note: str = ""

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

    @classmethod
    def for_country(cls, country: str | None) -> CrisisResources:
        """The lines of `country` (ISO code such as IE, or its name; None reads $CBT_COUNTRY),
        after the emergency number, with the international directory last."""
        country = (country if country is not None else os.environ.get(COUNTRY_ENV, "")).strip()
        default = cls.default()
        if not country:
            return default
        lines = country_lines()
        code = resolve_country(country, lines)
        if code is None:
            known = ", ".join(sorted(lines))
            return default.model_copy(update={"note": (
                f"No crisis lines are listed here for {country!r} (listed: {known}); these are "
                "international ones.")})
        entry = lines[code]
        anywhere = [r for r in default.resources if r.name == "Any country"]
        found = [Resource(name="In immediate danger", contact=f"call {entry['emergency']} or go "
                          "to the nearest emergency department"),
                 *(Resource.model_validate(r) for r in entry["resources"]), *anywhere]
        return default.model_copy(update={"resources": found})

    def render(self) -> str:
        lines = [self.message, ""]
        lines += [f"- {r.name}: {r.contact}" for r in self.resources]
        if self.note:
            lines += ["", f"({self.note})"]
        if self.closing:
            lines += ["", self.closing]
        return "\n".join(lines)


def country_lines() -> dict[str, dict]:
    """data/crisis_lines.json's countries: code -> {name, emergency, resources, source,
    checked}."""
    raw = resources.files("cbt_infer").joinpath("data/crisis_lines.json").read_text()
    return json.loads(raw)["countries"]


def resolve_country(country: str, lines: dict[str, dict]) -> str | None:
    key = country.strip().upper()
    key = ALIASES.get(key, key)
    if key in lines:
        return key
    return next((code for code, e in lines.items() if e["name"].upper() == key), None)
