"""cbt-datagen cost: the teacher run priced at today's prices (the `teacher_cost` stage).

  cbt-datagen cost --params params.yaml --datagen metrics/datagen.json \\
      --out metrics/teacher_cost.json

The teacher stages meter tokens (metrics/datagen.json: each stage's input, output, cache-read
and cache-write tokens, and its largest prompt) and price them at the prices of the day they
ran. This command prices the same tokens at the prices in force now: `teacher.prices` over the
model table (cbt_datagen/models.yaml). So editing a price reruns this stage alone, never the
teacher. Long-prompt rates apply per request: when a stage's largest prompt is over a price's
long-prompt threshold, the figure (at the base rates) is a lower bound, marked `exact: false`
(the per-request split is not kept).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

STAGES = ("events", "assessments")


def price_stage(section: dict[str, Any], prices: dict[str, Any]) -> dict[str, Any]:
    """One stage's tokens priced now: dollars, the model, whether the figure is exact."""
    from cbt_datagen.costs import cost_usd, price_for
    from cbt_schema import Usage

    tokens = section.get("tokens") or {}
    model = section.get("model") or ""
    usage = Usage(input_tokens=tokens.get("input", 0), output_tokens=tokens.get("output", 0),
                  cache_read_input_tokens=tokens.get("cache_read", 0),
                  cache_creation_input_tokens=tokens.get("cache_write", 0))
    if not any(usage.model_dump().values()):
        return {"model": model, "cost_usd": 0.0, "exact": True, "tokens": tokens}
    price = price_for(model, prices)
    largest = section.get("largest_prompt_tokens")
    threshold = price.long_prompt.threshold_tokens if price.long_prompt else None
    exact = threshold is None or (largest is not None and largest <= threshold)
    # the totals are priced at the base rates (cost_usd would judge the summed prompt long)
    base = price.model_copy(update={"long_prompt": None})
    dollars = cost_usd(usage, base, batch=section.get("provider") == "anthropic-batch")
    return {"model": model, "cost_usd": round(dollars, 6), "exact": exact,
            "cost_usd_when_run": section.get("cost_usd"), "tokens": tokens,
            "price_per_million": price.model_dump(exclude_none=True)}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="cbt-datagen cost", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--datagen", default="metrics/datagen.json",
                        help="the teacher stages' metrics (tokens per stage)")
    parser.add_argument("--out", default="metrics/teacher_cost.json")
    args = parser.parse_args(argv)

    from cbt_schema import UserError
    from cbt_schema.jsonl import write_json
    from cbt_schema.params import load_params

    params = load_params(args.params)
    try:
        metrics = json.loads(Path(args.datagen).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"{args.datagen}: cannot read the teacher's metrics ({exc})") from None
    stages = {name: price_stage(metrics[name], params.teacher.prices)
              for name in STAGES if isinstance(metrics.get(name), dict)}
    report = {"stages": stages,
              "total_usd": round(sum(s["cost_usd"] for s in stages.values()), 6),
              "exact": all(s["exact"] for s in stages.values())}
    write_json(args.out, report)
    print(f"teacher cost at today's prices: ${report['total_usd']:.4f}"
          + ("" if report["exact"] else " (a lower bound: some prompts pay long-prompt rates)")
          + f"; wrote {args.out}")
    return 0
