"""cbt-datagen events: seeds -> first-person triggering events (cbt_schema.Event).

  cbt-datagen events --params params.yaml --seeds data/seeds.jsonl \\
      --out data/generated/events.jsonl --metrics metrics/datagen_events.json
"""

from __future__ import annotations

import argparse

from cbt_datagen.commands._teacher import Stage, add_common, run


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="cbt-datagen events", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="data/seeds.jsonl", help="seeds JSONL (cbt-seeds)")
    add_common(parser, "events")
    args = parser.parse_args(argv)

    from cbt_datagen.quality import event_quality
    from cbt_datagen.specs import event_builder
    from cbt_schema import EventDraft, Seed, UserError
    from cbt_schema.jsonl import read_jsonl
    from cbt_schema.params import load_params

    params = load_params(args.params)
    if params.teacher.provider == "file":
        from cbt_datagen.importing.stages import import_events

        return import_events(args, params)
    seeds = read_jsonl(args.seeds, Seed)
    if not seeds:
        raise UserError(f"{args.seeds}: no seeds in the file")

    balanced = {s.id for s in seeds if is_balanced(s.id, params.events.balanced_fraction)}

    stage = Stage(name="events", reply_model=EventDraft, prompt_path=params.events.prompt,
                  few_shot=params.events.few_shot, max_tokens=params.events.max_tokens,
                  build=event_builder(balanced), quality=event_quality)
    return run(args, params, stage,
               lambda prompt: [(s.id, prompt.user(s, s.id in balanced)) for s in seeds])


def is_balanced(seed_id: str, fraction: float) -> bool:
    """Whether this seed is asked for a balanced account: a stable `fraction` of seed ids."""
    import hashlib

    unit = int(hashlib.sha256(f"balanced:{seed_id}".encode()).hexdigest()[:12], 16) / 16**12
    return unit < fraction
