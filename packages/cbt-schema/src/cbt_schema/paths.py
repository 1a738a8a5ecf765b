"""The pipeline's paths, named once: what each dvc.yaml stage reads and writes.

Relative to the repository root, where DVC runs every stage. The commands take their defaults
from here, so a command given no path options acts on the pipeline's own files:

    parser.add_argument("--out", default=paths.SEEDS)

STAGES says which stage reads and writes which of them; tests/test_paths.py checks dvc.yaml
against it (deps, outs, metrics, plots) and each stage's cmd against the commands' defaults.
Files a stage reads through params (prompts/*, dataset.tokenizer) are named in params.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass

PARAMS = "params.yaml"

# seeds
SEEDS = "data/seeds.jsonl"
SEEDS_STATS = "metrics/seeds.json"

# local_model (the pinned small model: local teacher, crisis encoder), base_model (the student's)
LOCAL_MODEL = "models/local"
BASE_MODEL = "models/base"

# crisis_probe
SAFETY = "safety"                                   # phrase files: train/, heldout_*
CRISIS_PROBE = "models/crisis_probe.json"
CRISIS_ENCODER = "models/crisis_encoder.gguf"       # written beside CRISIS_PROBE
CRISIS_METRICS = "metrics/crisis_screen.json"

# events, assessments, teacher_cost (cbt-datagen)
IMPORTS = "data/import"                             # read when teacher.provider is file
EVENTS = "data/generated/events.jsonl"
EVENTS_QUARANTINE = "data/generated/events.quarantine.jsonl"
EVENTS_METRICS = "metrics/datagen_events.json"
ASSESSMENTS = "data/generated/assessments.jsonl"
ASSESSMENTS_QUARANTINE = "data/generated/assessments.quarantine.jsonl"
DATAGEN_METRICS = "metrics/datagen.json"
TEACHER_COST = "metrics/teacher_cost.json"
DATAGEN_WORK = ".cache/datagen"                     # paid replies' resume log (not tracked)

# dataset
SPLITS = "data/splits"
TRAIN_SPLIT = f"{SPLITS}/train.jsonl"
TEST_SPLIT = f"{SPLITS}/test.jsonl"
SPLITS_REPORT = f"{SPLITS}/report.json"
SPLITS_LENGTHS = f"{SPLITS}/lengths.csv"
DATA_METRICS = "metrics/data.json"
DATA_PLOTS = "plots/data"

# train
ADAPTER = "models/adapter"
TRAIN_METRICS = "metrics/train.json"
TRAIN_LIVE = "dvclive/train"
TRAIN_PLOTS = f"{TRAIN_LIVE}/plots/metrics"         # the loss curves dvclive writes
TRAIN_CHECKPOINTS = ".cache/train-checkpoints"      # resume point (not tracked)

# export
GGUF = "models/gguf"

# evaluate
EVAL_METRICS = "metrics/eval.json"
EVAL_REPORT = "reports/eval.md"
EVAL_PLOTS = "plots/eval"

# outside the stages: cbt-eval teacher and teachers-report, cbt-eval external, cbt-train merge
TEACHER_AUDITS = "reports/teachers"
TEACHERS_REPORT = "reports/teachers.md"
TEACHERS_PLOT = "plots/teachers.json"               # in dvc.yaml's top-level plots
EXTERNAL_REPORT = "reports/external.json"
MERGED = "models/merged"


@dataclass(frozen=True)
class Stage:
    reads: tuple[str, ...] = ()     # dvc.yaml deps that are data (not code, not prompts)
    writes: tuple[str, ...] = ()    # outs, metrics and plots


STAGES: dict[str, Stage] = {
    "seeds": Stage(writes=(SEEDS, SEEDS_STATS)),
    "local_model": Stage(writes=(LOCAL_MODEL,)),
    "base_model": Stage(writes=(BASE_MODEL,)),
    "crisis_probe": Stage(reads=(SAFETY, LOCAL_MODEL),
                          writes=(CRISIS_PROBE, CRISIS_ENCODER, CRISIS_METRICS)),
    "events": Stage(reads=(SEEDS, IMPORTS, LOCAL_MODEL),
                    writes=(EVENTS, EVENTS_QUARANTINE, EVENTS_METRICS)),
    "assessments": Stage(reads=(EVENTS, EVENTS_METRICS, IMPORTS, LOCAL_MODEL),
                         writes=(ASSESSMENTS, ASSESSMENTS_QUARANTINE, DATAGEN_METRICS)),
    "teacher_cost": Stage(reads=(DATAGEN_METRICS,), writes=(TEACHER_COST,)),
    "dataset": Stage(reads=(SEEDS, EVENTS, ASSESSMENTS, BASE_MODEL),
                     writes=(TRAIN_SPLIT, TEST_SPLIT, SPLITS_REPORT, SPLITS_LENGTHS,
                             DATA_METRICS, DATA_PLOTS)),
    "train": Stage(reads=(TRAIN_SPLIT, TEST_SPLIT, BASE_MODEL),
                   writes=(ADAPTER, TRAIN_METRICS, TRAIN_PLOTS)),
    "export": Stage(reads=(BASE_MODEL, ADAPTER), writes=(GGUF,)),
    "evaluate": Stage(reads=(TEST_SPLIT, BASE_MODEL, ADAPTER),
                      writes=(EVAL_METRICS, EVAL_REPORT, EVAL_PLOTS)),
}
