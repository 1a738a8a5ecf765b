"""cbt-datagen assessments: events -> ten-distortion worksheet assessments (AssessmentRecord).

  cbt-datagen assessments --params params.yaml --events data/generated/events.jsonl \\
      --out data/generated/assessments.jsonl --metrics metrics/datagen.json \\
      --earlier-metrics metrics/datagen_events.json

metrics/datagen.json gets this stage's metrics, the events stage's (from --earlier-metrics) and
their total.
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
    from cbt_schema import Assessment, AssessmentRecord, Event, Provenance, UserError
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

    def build(key: str, event_id: str, assessment: Assessment,
              prov: Provenance) -> AssessmentRecord:
        return AssessmentRecord(id=f"assessment-{key[:16]}", event_id=event_id,
                                assessment=assessment, provenance=prov)

    from cbt_datagen.prompts import schema_for

    # an event written as balanced may get no findings: its schema says so explicitly (the
    # same schema to a hosted teacher; the local teacher needs the explicit minItems 0)
    open_schema = schema_for(Assessment)
    open_schema["properties"]["findings"]["minItems"] = 0
    balanced = {e.id for e in events if e.balanced}

    stage = Stage(name="assessments", reply_model=Assessment, prompt_path=section.prompt,
                  few_shot=section.few_shot, max_tokens=section.max_tokens, build=build,
                  quality=lambda recs, schema: assessment_quality(recs, example_texts, schema),
                  schema_of=lambda event_id: open_schema if event_id in balanced else None)
    return run(args, params, stage, lambda prompt: [(e.id, prompt.user(e)) for e in events])
