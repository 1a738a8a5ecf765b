"""The pipeline's stages as DVC itself resolves them from dvc.yaml: deps, params, outs, order.

Used by check_repro.py, plan.py and preflight.py beside it (`from dvc_stages import ...`), and
by the tests and bench/ through cbt_testing.dvc_stages, so every one of them follows whatever
stages dvc.yaml holds instead of a hard-coded list. DVC is the workspace's own dependency.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class StageInfo:
    name: str
    cmd: str
    deps: list[str] = field(default_factory=list)     # file and directory deps
    params: list[str] = field(default_factory=list)   # params.yaml keys the stage reads
    outs: list[str] = field(default_factory=list)     # cached outputs (pushed to the remote)
    uncached: list[str] = field(default_factory=list)  # metrics/plots/outs with cache: false
    metrics: list[str] = field(default_factory=list)  # metrics files (cached or not)
    upstream: list[str] = field(default_factory=list)  # stages whose outputs it reads


def load_stages(repo: str | Path) -> dict[str, StageInfo]:
    """Every dvc.yaml stage of `repo`, in an order where each stage follows its upstream ones."""
    from dvc.dependency.param import ParamsDependency
    from dvc.repo import Repo

    with Repo(str(repo)) as dvc_repo:
        graph = dvc_repo.index.graph
        found: dict[str, StageInfo] = {}
        for stage in dvc_repo.index.stages:
            if not getattr(stage, "cmd", None):
                continue
            info = StageInfo(name=stage.name, cmd=str(stage.cmd))
            for dep in stage.deps:
                if isinstance(dep, ParamsDependency):
                    info.params.extend(dep.params or [])
                else:
                    info.deps.append(str(dep.def_path))
            for out in stage.outs:
                path = str(out.def_path)
                (info.outs if out.use_cache else info.uncached).append(path)
                if out.metric:
                    info.metrics.append(path)
            info.upstream = sorted(up.name for up in graph.successors(stage)
                                   if getattr(up, "cmd", None))
            found[info.name] = info
    return _topological(found)


def _topological(stages: dict[str, StageInfo]) -> dict[str, StageInfo]:
    ordered: dict[str, StageInfo] = {}

    def visit(name: str) -> None:
        if name in ordered:
            return
        for up in stages[name].upstream:
            visit(up)
        ordered[name] = stages[name]

    for name in sorted(stages):
        visit(name)
    return ordered


def downstream(stages: dict[str, StageInfo], *names: str) -> set[str]:
    """`names` plus every stage that reads, directly or not, what they write."""
    result = {n for n in names if n in stages}
    changed = True
    while changed:
        changed = False
        for info in stages.values():
            if info.name not in result and result.intersection(info.upstream):
                result.add(info.name)
                changed = True
    return result


def reads_param(info: StageInfo, key: str) -> bool:
    """Whether the stage lists `key` or a section containing it (e.g. `train` for train.lr)."""
    return any(key == p or key.startswith(p + ".") for p in info.params)
