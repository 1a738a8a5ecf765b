"""The pipeline's stages as DVC resolves them, for the tests and benchmarks.

The scripts own the reader (scripts/dvc_stages.py: plan.py, preflight.py and check_repro.py
run without the test tooling); this module loads it from this checkout, as the module
`dvc_stages`, the name the scripts import it by: a script loaded with repo.load_script after
this module (check_repro) finds it.
"""

from __future__ import annotations

from cbt_testing.repo import load_script

_stages = load_script("dvc_stages")
StageInfo = _stages.StageInfo
downstream = _stages.downstream
load_stages = _stages.load_stages
reads_param = _stages.reads_param

__all__ = ["StageInfo", "downstream", "load_stages", "reads_param"]
