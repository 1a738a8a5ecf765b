"""Which student answers: the exported GGUF on llama.cpp when there is one (no torch), else
the base model and adapter on transformers, from the pipeline's paths (cbt_schema.paths)."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from cbt_schema import paths
from cbt_schema.errors import UserError

DEFAULT_GGUFS = (f"{paths.GGUF}/cbt-student-q4_k_m.gguf", f"{paths.GGUF}/cbt-student-f16.gguf")
DEFAULT_BASE = paths.BASE_MODEL
DEFAULT_ADAPTER = paths.ADAPTER
BACKENDS = ("auto", "llama", "transformers")
TRANSFORMERS_HINT = ("pip install 'cbt-infer[transformers]' (torch, transformers, peft)")


@dataclass(frozen=True)
class Choice:
    backend: str  # "llama" or "transformers"
    gguf: str | None = None
    base: str | None = None
    adapter: str | None = None


def has_module(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def default_gguf() -> str | None:
    return next((g for g in DEFAULT_GGUFS if Path(g).is_file()), None)


def choose(backend: str = "auto", *, base: str | Path | None = None,
           adapter: str | Path | None = None, gguf: str | Path | None = None) -> Choice:
    """The model to load. `auto` takes the exported GGUF when neither a base nor an adapter is
    named and llama.cpp is installed; a default path that does not exist is an error naming
    the stage that makes it (never a download)."""
    if backend not in BACKENDS:
        raise UserError(f"backend: {backend!r} is not one of {', '.join(BACKENDS)}")
    if gguf is not None and backend == "transformers":
        raise UserError("a GGUF file answers on llama.cpp: drop --backend transformers, or "
                        "name a model folder (--base, --adapter) instead of --gguf")
    if gguf is not None or backend == "llama":
        if base is not None or adapter is not None:
            raise UserError("a GGUF student takes its adapter as a LoRA GGUF (lora_gguf= / "
                            "--lora-gguf), not a base folder or a peft adapter")
        found = str(gguf) if gguf is not None else default_gguf()
        if found is None:
            raise UserError(f"no GGUF student at {DEFAULT_GGUFS[0]}: run `dvc repro export` "
                            "(or fetch it: `dvc pull models/gguf`), or pass --gguf FILE")
        return Choice("llama", gguf=found)
    if backend == "auto" and base is None and adapter is None:
        found = default_gguf()
        if found is not None and has_module("llama_cpp"):
            return Choice("llama", gguf=found)
    return _transformers_choice(base, adapter)


def _transformers_choice(base: str | Path | None, adapter: str | Path | None) -> Choice:
    if not (has_module("torch") and has_module("transformers")):
        gguf = default_gguf()
        hint = (f"or answer from the GGUF ({gguf}) with pip install 'cbt-infer[llama]'"
                if gguf else "or export a GGUF (`dvc repro export`) for the torch-free path")
        raise UserError(f"the transformers backend is not installed: {TRANSFORMERS_HINT}, "
                        f"{hint}")
    if adapter is None and base is None and Path(DEFAULT_ADAPTER).is_dir():
        adapter = DEFAULT_ADAPTER
    if base is None and (adapter is None or Path(DEFAULT_BASE).is_dir()):
        if not Path(DEFAULT_BASE).is_dir():
            raise UserError(f"no student model: {DEFAULT_BASE} does not exist; run `dvc repro "
                            "base_model` (and `dvc repro export` for the GGUF), or fetch them "
                            "with `dvc pull`")
        base = DEFAULT_BASE
    return Choice("transformers", base=str(base) if base is not None else None,
                  adapter=str(adapter) if adapter is not None else None)
