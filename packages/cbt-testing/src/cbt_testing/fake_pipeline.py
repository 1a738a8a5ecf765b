"""Stand-in commands for heavy stages, so the DVC wiring can be tested in seconds.

`fake_heavy_stages(repo)` rewrites the `cmd` of every dvc.yaml stage except the cheap real ones
(seeds) to `python .fake/fake_stage.py <stage>`. The stand-in writes each of the stage's outputs
as a digest of its stage name, the bytes of its deps and the values of its params, so an output
changes exactly when a real stage's inputs change and downstream stages see a real change. The
deps, params, outs and metrics of every stage stay as committed: what is tested is the wiring in
dvc.yaml (which edit reruns which stage), not the stages' own work.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

from cbt_testing.dvc_stages import StageInfo, downstream, load_stages, reads_param

__all__ = ["StageInfo", "downstream", "fake_heavy_stages", "load_stages", "ran", "reads_param"]
CHEAP_REAL_STAGES = ("seeds",)
RUNNING = re.compile(r"Running stage '([^']+)'")

FAKE_STAGE = r'''
"""Write a stage's outputs as a digest of its inputs (see cbt_testing.fake_pipeline)."""
import hashlib, json, sys
from pathlib import Path

import yaml

spec = json.loads(Path(".fake/spec.json").read_text())[sys.argv[1]]
digest = hashlib.sha256(sys.argv[1].encode())
for dep in spec["deps"]:
    path = Path(dep)
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        if "__pycache__" not in f.parts:
            digest.update(str(f).encode() + b"\0" + f.read_bytes())
params = yaml.safe_load(Path("params.yaml").read_text()) or {}
for key in spec["params"]:
    value = params
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    digest.update(key.encode() + json.dumps(value, sort_keys=True).encode())
text = json.dumps({"fake": digest.hexdigest()}) + "\n"
for out in spec["files"]:
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(text)
'''


def _output_files(stages: dict[str, StageInfo], info: StageInfo) -> list[str]:
    """Files to write for the stage: an out read below by a later stage is a directory."""
    all_deps = [d for s in stages.values() for d in s.deps]
    files = []
    for out in info.outs + info.uncached:
        inside = sorted({d for d in all_deps if d.startswith(out.rstrip("/") + "/")})
        if inside:
            files.extend(inside)
        elif Path(out).suffix and not out.endswith("/"):
            files.append(out)
        else:
            files.append(f"{out.rstrip('/')}/fake.txt")
    return files


def fake_heavy_stages(repo: Path, real: tuple[str, ...] = CHEAP_REAL_STAGES) -> list[str]:
    """Replace the cmd of every stage not in `real`; return the names of the faked stages."""
    stages = load_stages(repo)
    dvc_yaml = repo / "dvc.yaml"
    data = yaml.safe_load(dvc_yaml.read_text())
    spec = {name: {"deps": info.deps, "params": info.params,
                   "files": _output_files(stages, info)}
            for name, info in stages.items() if name not in real and name in data["stages"]}
    produced = [o.rstrip("/") for s in stages.values() for o in s.outs + s.uncached]
    for dep in (d for s in stages.values() for d in s.deps):
        if (repo / dep).exists() or any(dep == o or dep.startswith(o + "/") for o in produced):
            continue
        # an input no stage writes yet (its stage is still being built): a placeholder
        target = repo / dep if Path(dep).suffix else repo / dep / "placeholder.txt"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f"placeholder for {dep}\n")
    (repo / ".fake").mkdir(exist_ok=True)
    (repo / ".fake/spec.json").write_text(json.dumps(spec, indent=1))
    (repo / ".fake/fake_stage.py").write_text(FAKE_STAGE)
    for name in spec:
        data["stages"][name]["cmd"] = f"{sys.executable} .fake/fake_stage.py {name}"
    dvc_yaml.write_text(yaml.safe_dump(data, sort_keys=False))
    return sorted(spec)


def ran(output: str) -> set[str]:
    """The stages a `dvc repro` run executed, from its "Running stage 'x'" lines."""
    return set(RUNNING.findall(output))
