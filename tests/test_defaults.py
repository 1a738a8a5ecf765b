"""Defaults in one place: the params models' defaults are the local profile (conf/profile/
local.yaml), so code that builds params without a file gets exactly what `dvc repro` runs."""

from __future__ import annotations

import runpy
from pathlib import Path

import yaml

from cbt_schema.params import PipelineParams

ROOT = Path(__file__).resolve().parents[1]


def _without_nones(value: object) -> object:
    if isinstance(value, dict):
        return {k: _without_nones(v) for k, v in value.items() if v is not None}
    return value


def test_model_defaults_equal_the_local_profile(tmp_path: Path) -> None:
    compose = runpy.run_path(str(ROOT / "scripts/compose_params.py"))["compose"]
    compose(tmp_path / "params.yaml", ["profile=local"])
    profile = yaml.safe_load((tmp_path / "params.yaml").read_text())
    defaults = PipelineParams().model_dump(mode="json")
    # a key the profile leaves null may be absent from the other side, nothing else
    assert _without_nones(defaults) == _without_nones(profile)


def test_train_stage_lists_every_train_key_but_the_repro_tolerance() -> None:
    """dvc.yaml lists the train keys one by one (so editing train.loss_tolerance, read only by
    scripts/check_repro.py, reruns nothing); a key added to TrainParams must be listed too."""
    from cbt_schema.params import TrainParams

    stage = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]["train"]
    listed = {p.removeprefix("train.") for p in stage["params"] if p.startswith("train.")}
    assert listed | {"loss_tolerance"} == set(TrainParams.model_fields)
    assert "loss_tolerance" not in listed and "train" not in stage["params"]


def test_teacher_stages_list_every_teacher_key_but_prices() -> None:
    """A price edit reruns only teacher_cost; every other teacher key reruns the teacher."""
    from cbt_schema.params import TeacherParams

    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    fields = set(TeacherParams.model_fields)

    def listed(stage: str) -> set[str]:
        return {p.removeprefix("teacher.") for p in stages[stage]["params"]
                if isinstance(p, str) and p.startswith("teacher.")}

    assert listed("assessments") == fields - {"prices"}
    assert listed("events") == fields - {"prices", "samples", "majority"}
    assert stages["teacher_cost"]["params"] == ["teacher.prices"]


def test_the_built_in_prompt_is_the_one_the_pipeline_trains_with() -> None:
    """A model that carries no task falls back to the built-in prompt: the same text as the
    dataset stage's prompts/system.txt, so such a fallback still asks the way it trained."""
    from cbt_schema.student import DEFAULT_SYSTEM_PROMPT

    trained = (ROOT / "prompts" / "system.txt").read_text(encoding="utf-8").strip()
    assert trained == DEFAULT_SYSTEM_PROMPT


def test_the_crisis_probe_uses_the_features_cross_validation_chose() -> None:
    """The encoder's depth, pooling and L2 in the code are the ones the committed
    bench/results/crisis_features.json chose on safety/train."""
    import json

    from cbt_infer import crisis_probe

    chosen = json.loads((ROOT / "bench/results/crisis_features.json").read_text())["chosen"]
    assert (chosen["depth"], chosen["pooling"], chosen["l2"]) == (
        crisis_probe.ENCODER_LAYERS, "+".join(crisis_probe.POOLING), crisis_probe.L2)
