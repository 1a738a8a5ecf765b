"""Check that a fresh clone reproduces the committed dvc.lock, stage by stage.

  uv run python scripts/check_repro.py                  # every stage in the committed dvc.lock
  uv run python scripts/check_repro.py --stages seeds   # those stages (and what they need)
  uv run python scripts/check_repro.py --json out.json  # also write per-stage results and timings

Clones --source (default: this repo, its committed HEAD) into a temp folder, runs each stage
there from scratch in pipeline order (`dvc repro --single-item --force --no-run-cache`, with the
clone's own package sources first on PYTHONPATH), then compares the new dvc.lock with the
committed one. Data stages must match bit for bit: every cached output's md5, and every uncached
metrics file key by key, timing-like keys (seconds, memory, throughput) left out as a guard (the
stages write their timings to timings/, not to metrics). The training stage passes when each
numeric key with "loss" in its name in its metrics file (metrics/train.json) is within
`train.loss_tolerance` of the committed value, as an absolute difference: params.yaml's value,
0.001 by default (TrainParams) and in the local profile; training on another CPU differs in the
last float digits, far less. Stages downstream of training are reported but not required. Exit
0 when every required stage matched, 1 when one did not, 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from dvc_stages import StageInfo, downstream, load_stages  # beside this script (sys.path[0])

from cbt_schema import logs, paths

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
APPROX_ROOTS = ("train",)  # stages reproduced within a tolerance, not bit for bit
VOLATILE = re.compile(r"(time|seconds|duration|elapsed|wall|rss|memory|_s$|_ms$|per_s|"
                      r"throughput|speed|date|timestamp|host|machine|version)", re.I)
LOSS = re.compile(r"loss", re.I)
PEAK_WRAPPER = ("import json,os,resource,subprocess,sys\n"
                "rc = subprocess.call(sys.argv[1:])\n"
                "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
                "open(os.environ['CBT_PEAK_FILE'], 'w').write(json.dumps(peak))\n"
                "sys.exit(rc)\n")


def _env(clone: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    srcs = sorted(str(p) for p in (clone / "packages").glob("*/src") if p.is_dir())
    env["PYTHONPATH"] = os.pathsep.join([*srcs, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["DVC_NO_ANALYTICS"] = "1"
    return env


def fresh_clone(source: Path, dest: Path) -> Path:
    proc = subprocess.run(["git", "clone", "-q", str(source), str(dest)],
                          capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"check_repro: error: {source}: git clone failed: {proc.stderr.strip()}")
    return dest


def _locked(lock: dict) -> dict[str, dict[str, str]]:
    """stage -> {output path: md5} from a dvc.lock mapping."""
    return {name: {o["path"]: o.get("md5") or o.get("etag") or "" for o in st.get("outs", [])}
            for name, st in (lock.get("stages") or {}).items()}


def _stale_inputs(old: dict, new: dict) -> list[str]:
    """Deps and params of a stage whose locked value changed: the committed lock is stale."""
    def inputs(stage: dict) -> dict[str, object]:
        found: dict[str, object] = {d["path"]: d.get("md5") for d in stage.get("deps", [])}
        for file, values in (stage.get("params") or {}).items():
            found.update({f"{file}:{k}": v for k, v in (values or {}).items()})
        return found

    before, after = inputs(old), inputs(new)
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def _flatten(value: object, prefix: str = "") -> dict[str, object]:
    if isinstance(value, dict):
        out: dict[str, object] = {}
        for key, sub in value.items():
            out.update(_flatten(sub, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): value}


def _read_metrics(path: Path) -> dict[str, object] | None:
    try:
        return _flatten(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return None


def _metric_diffs(old: dict[str, object], new: dict[str, object]) -> list[str]:
    keys = {k for k in old.keys() | new.keys() if not VOLATILE.search(k.rsplit(".", 1)[-1])}
    return sorted(k for k in keys if old.get(k) != new.get(k))


def run_stage(clone: Path, name: str) -> dict:
    """Run one stage from scratch; wall seconds and the biggest process's peak RSS in MB."""
    with tempfile.NamedTemporaryFile(suffix=".json") as peak_file:
        env = {**_env(clone), "CBT_PEAK_FILE": peak_file.name}
        cmd = [sys.executable, "-c", PEAK_WRAPPER, "dvc", "repro", "--single-item", "--force",
               "--no-run-cache", name]
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=clone, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - start
        peak_kb = json.loads(Path(peak_file.name).read_text() or "0")
    return {"wall_s": round(wall, 2), "peak_rss_mb": round(peak_kb / 1024, 1),
            "returncode": proc.returncode, "log": (proc.stdout + proc.stderr)[-3000:]}


def compare_stage(info: StageInfo, committed: dict[str, str], new: dict[str, str],
                  old_metrics: dict[str, dict | None], clone: Path, approx: bool,
                  tolerance: float) -> tuple[str, bool]:
    """(verdict, passed) for one stage."""
    differing = []
    for path, md5 in committed.items():
        if new.get(path) == md5:
            continue
        note = ""
        if path in info.uncached and not approx:
            now = _read_metrics(clone / path)
            if old_metrics.get(path) is None:
                note = " (not committed to git, so only its md5 could be compared)"
            elif now is not None:
                keys = _metric_diffs(old_metrics[path] or {}, now)
                if not keys:
                    continue  # only timing keys differ
                note = f" (keys {', '.join(keys[:5])})"
        differing.append(path + note)
    if not differing:
        return f"match ({', '.join(committed)})", True
    if not approx:
        return f"MISMATCH: {', '.join(differing)}", False
    losses = []
    for path in info.metrics:
        old, now = old_metrics.get(path) or {}, _read_metrics(clone / path) or {}
        for key in sorted(k for k in old if LOSS.search(k) and isinstance(old[k], int | float)):
            value = now.get(key)
            if not isinstance(value, int | float):
                return f"MISMATCH: {path}: {key} missing after repro", False
            losses.append((f"{path}:{key}", float(old[key]), float(value)))
    if not losses:
        return f"MISMATCH: {', '.join(differing)} (and no loss metric to compare)", False
    worst = max(losses, key=lambda t: abs(t[1] - t[2]))
    ok = all(abs(a - b) <= tolerance for _, a, b in losses)
    label = "within tolerance" if ok else "LOSS MISMATCH"
    return (f"{label}: {worst[0]} {worst[1]:.6g} vs {worst[2]:.6g} "
            f"(|diff| {abs(worst[1] - worst[2]):.2g}, tolerance {tolerance:g})"), ok


def check(clone: Path, wanted: list[str] | None) -> dict:
    lock_path = clone / "dvc.lock"
    if not lock_path.is_file():
        sys.exit(f"check_repro: error: {lock_path.name}: no committed dvc.lock in the source")
    committed_lock = yaml.safe_load(lock_path.read_text()) or {}
    committed = _locked(committed_lock)
    stages = load_stages(clone)
    if wanted:
        unknown = [s for s in wanted if s not in committed]
        if unknown:
            sys.exit(f"check_repro: error: dvc.lock: no committed stage {', '.join(unknown)} "
                     f"(locked: {', '.join(committed) or 'none'})")
    targets = wanted or [s for s in stages if s in committed]
    if not targets:
        sys.exit("check_repro: error: dvc.lock: no stage of dvc.yaml is locked; run dvc repro "
                 "and commit dvc.lock first")
    needed = set(targets)
    for name in targets:  # a stage needs its upstream stages run first
        needed |= {s for s in stages if name in downstream(stages, s)}
    order = [s for s in stages if s in needed]
    approx = downstream(stages, *APPROX_ROOTS)
    params = yaml.safe_load((clone / paths.PARAMS).read_text()) or {}
    tolerance = float((params.get("train") or {}).get("loss_tolerance", 0.0))
    old_metrics = {p: _read_metrics(clone / p) for s in stages.values() for p in s.uncached}
    results: dict[str, dict] = {}
    for name in order:
        log.info("check_repro: running %s ...", name)
        run = run_stage(clone, name)
        results[name] = {k: v for k, v in run.items() if k != "log"}
        if run["returncode"]:
            results[name].update(verdict=f"FAILED to run (exit {run['returncode']})",
                                 passed=False, required=True, log=run["log"])
            break
    new_lock = yaml.safe_load(lock_path.read_text()) or {}
    new = _locked(new_lock)
    for name in targets:
        if name not in results or "verdict" in results[name]:
            continue
        is_approx = name in approx
        verdict, passed = compare_stage(stages[name], committed[name], new.get(name, {}),
                                        old_metrics, clone, is_approx, tolerance)
        required = not is_approx or name in APPROX_ROOTS
        stale = _stale_inputs(committed_lock["stages"][name],
                              (new_lock.get("stages") or {}).get(name, {}))
        if stale and not passed:
            verdict += (f" [the committed dvc.lock is stale: {', '.join(stale)} changed since "
                        f"it was locked; run `dvc repro` and commit dvc.lock]")
        if is_approx and name not in APPROX_ROOTS and not passed:
            verdict = f"differs, not required (built on the trained model): {verdict}"
        results[name].update(verdict=verdict, passed=passed, required=required)
    unlocked = [s for s in stages if s not in committed]
    return {"stages": results, "not_locked": unlocked, "tolerance": tolerance,
            "ok": all(r.get("passed") or not r.get("required", False) for r in results.values())
            and all(t in results for t in targets)}


def report(summary: dict) -> None:
    rows = summary["stages"]
    width = max([len(n) for n in rows] + [5])
    print(f"{'stage':<{width}}  {'time':>7}  result")
    for name, row in rows.items():
        verdict = row.get("verdict", "(upstream only, not compared)")
        print(f"{name:<{width}}  {row['wall_s']:>6.1f}s  {verdict}")
        if row.get("log"):
            log.error("%s", row["log"])
    if summary["not_locked"]:
        print(f"not in the committed dvc.lock (not checked): {', '.join(summary['not_locked'])}")
    required = [r for r in rows.values() if "verdict" in r and r.get("required")]
    good = sum(1 for r in required if r["passed"])
    print(f"{good} of {len(required)} required stages reproduced: "
          f"{'OK' if summary['ok'] else 'FAILED'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=ROOT, help="git repo to clone")
    parser.add_argument("--stages", nargs="+", help="stages to check (default: all locked)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--keep", action="store_true", help="keep the temp clone")
    logs.add_verbosity(parser)
    args = parser.parse_args(argv)
    logs.configure(args)
    tmp = Path(tempfile.mkdtemp(prefix="cbt-repro-"))
    try:
        clone = fresh_clone(args.source.resolve(), tmp / "clone")
        summary = check(clone, args.stages)
    finally:
        if args.keep:
            log.info("clone kept at %s", tmp / "clone")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    report(summary)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
