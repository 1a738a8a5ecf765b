"""cbt-infer: private CBT distortion assessments from the fine-tuned student.

The crisis screen (`cbt_infer.safety`, keywords; `cbt_infer.crisis_probe`, its learned stage)
runs before any generation. Names are imported lazily so
`cbt-infer --help` starts fast; torch, transformers and llama_cpp load only with a model.
"""

from __future__ import annotations

from importlib import import_module

_EXPORTS = {
    "Assessor": "cbt_infer.assessor", "Stream": "cbt_infer.assessor",
    "CrisisPolicy": "cbt_infer.assessor",
    "Settings": "cbt_infer.backend_hf", "AssessResult": "cbt_infer.result",
    "Generation": "cbt_infer.result", "NOTICE": "cbt_infer.safety",
    "CrisisResources": "cbt_infer.safety", "Screen": "cbt_infer.safety",
    "screen": "cbt_infer.safety", "CrisisScreen": "cbt_infer.safety",
    "CrisisProbe": "cbt_infer.crisis_probe",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'cbt_infer' has no attribute {name!r}")
