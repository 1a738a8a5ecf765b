"""cbt-datagen assessments: events -> ten-distortion worksheet assessments (AssessmentRecord).

  cbt-datagen assessments --params params.yaml --events data/generated/events.jsonl \\
      --out data/generated/assessments.jsonl --metrics metrics/datagen.json \\
      --earlier-metrics metrics/datagen_events.json

metrics/datagen.json gets this stage's metrics, the events stage's (from --earlier-metrics) and
their total. With teacher.samples k > 1 each event is asked k times (each sample its own
request id); the labels are merged by majority (teacher.majority), the sample closest to them is
written, and agreement (Fleiss' kappa) goes into the metrics' `consensus` section.
"""

from __future__ import annotations

import argparse

from cbt_datagen.commands._teacher import Stage, add_common, run


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="cbt-datagen assessments", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", default="data/generated/events.jsonl",
                        help="events JSONL (cbt-datagen events)")
    parser.add_argument("--earlier-metrics", help="the events stage's metrics file, to include "
                        "with a total in this stage's metrics")
    add_common(parser, "assessments")
    args = parser.parse_args(argv)

    from pathlib import Path

    from cbt_datagen.prompts import examples_path, load_examples
    from cbt_datagen.quality import assessment_quality
    from cbt_schema import Assessment, AssessmentRecord, Event, UserError
    from cbt_schema.jsonl import read_jsonl
    from cbt_schema.params import load_params

    params = load_params(args.params)
    if params.teacher.provider == "file":
        from cbt_datagen.importing.stages import import_assessments

        return import_assessments(args, params)
    events = read_jsonl(args.events, Event)
    if not events:
        raise UserError(f"{args.events}: no events in the file")
    section = params.assessments
    shown = load_examples(examples_path(Path(section.prompt)), section.few_shot)
    example_texts = [t for ex in shown for f in ex.assessment.findings
                     for t in (f.thought, f.challenge)]

    from cbt_datagen.consensus import choose_targets, sample_item_id, split_item_id
    from cbt_datagen.specs import assessment_builder

    k = params.teacher.samples
    sample_of: dict[str, int] = {}  # record id -> its sample number
    build = assessment_builder(lambda sample, record: sample_of.__setitem__(record.id, sample))

    def finish(records: list[AssessmentRecord]) -> tuple[list[AssessmentRecord], dict]:
        return choose_targets([(sample_of[r.id], r) for r in records], k,
                              params.teacher.majority)

    from cbt_datagen.prompts import schema_for

    # an event written as balanced may get no findings: its schema says so explicitly (the
    # same schema to a hosted teacher; the local teacher needs the explicit minItems 0)
    open_schema = schema_for(Assessment)
    open_schema["properties"]["findings"]["minItems"] = 0
    balanced = {e.id for e in events if e.balanced}

    stage = Stage(name="assessments", reply_model=Assessment, prompt_path=section.prompt,
                  few_shot=section.few_shot, max_tokens=section.max_tokens, build=build,
                  quality=lambda recs, schema: assessment_quality(recs, example_texts, schema),
                  schema_of=lambda item_id: (open_schema if split_item_id(item_id)[0] in balanced
                                             else None),
                  finish=finish if k > 1 else None, samples=k)
    return run(args, params, stage, lambda prompt: [(sample_item_id(e.id, j), prompt.user(e))
                                                    for e in events for j in range(1, k + 1)])
