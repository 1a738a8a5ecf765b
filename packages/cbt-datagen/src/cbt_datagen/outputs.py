"""What the events and assessments stages share in what they write, whichever the source:
the metrics file that adds up the whole teacher run, and the exit status when too many replies
(or imported rows) were quarantined."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cbt_schema import UserError

SUMMED = ("requested", "succeeded", "repaired", "quarantined", "cost_usd")


class TooManyQuarantined(UserError):
    """The run finished and wrote its files, but more replies than allowed were quarantined."""

    exit_code = 1


def with_earlier_stages(report: dict[str, Any], earlier: str | None) -> dict[str, Any]:
    """The stage's metrics, preceded by an earlier stage's (its metrics file) and a total.

    So metrics/datagen.json holds the whole teacher run: events, assessments and their sum.
    """
    if not earlier:
        return report
    path = Path(earlier)
    try:
        sections = {**json.loads(path.read_text(encoding="utf-8")), **report}
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: cannot read the earlier stage's metrics ({exc})") from None
    total: dict[str, Any] = {"requested": 0, "succeeded": 0, "repaired": 0, "quarantined": 0,
                             "cost_usd": 0.0, "tokens": {}}
    for section in sections.values():
        for key in SUMMED:
            total[key] += section.get(key, 0)
        for key, value in section.get("tokens", {}).items():
            total["tokens"][key] = total["tokens"].get(key, 0) + value
    total["cost_usd"] = round(total["cost_usd"], 6)
    return {**sections, "total": total}
