"""Helpers shared by the benchmark scripts: timing, peak memory, writing results."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from pathlib import Path

from cbt_testing import ROOT

RESULTS = ROOT / "bench" / "results"


def machine() -> dict:
    """Where and when: python, cores, architecture, the date, the commit and the load."""
    import datetime
    import os

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=ROOT).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True, cwd=ROOT).stdout
    return {"python": platform.python_version(), "cpus": os.cpu_count(),
            "machine": platform.machine(),
            "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "commit": commit + ("+changes" if dirty.strip() else ""),
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()]}


# Runs the command in a process of its own, so the peak RSS is that command's alone (a
# parent's RUSAGE_CHILDREN keeps the largest child it ever had).
_MEASURE = ("import json, resource, subprocess, sys, time\n"
            "start = time.perf_counter()\n"
            "code = subprocess.run(sys.argv[1:]).returncode\n"
            "wall = time.perf_counter() - start\n"
            "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
            "print(json.dumps({'code': code, 'wall': wall, 'peak_kb': peak}), file=sys.stderr)")


def timed_subprocess(cmd: list[str], cwd: Path | None = None) -> dict:
    """Run cmd; return its wall seconds and its own peak RSS in MB."""
    proc = subprocess.run([sys.executable, "-c", _MEASURE, *cmd], cwd=cwd, capture_output=True,
                          text=True)
    lines = proc.stderr.rstrip().splitlines()
    result = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {"code": -1}
    if result["code"]:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")
    return {"wall_s": round(result["wall"], 3), "peak_rss_mb": round(result["peak_kb"] / 1024, 1)}


def write_results(name: str, results: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **results}, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    print(f"wrote {path}")
    return path


def student_ggufs(base: str | Path, adapter: str | Path | None) -> tuple[Path, Path, str]:
    """(f16, q4_k_m, where from): models/gguf when the export stage has run, else an export
    into $TMPDIR/cbt-bench-gguf (made once, reused by later runs)."""
    import os

    folder, source = ROOT / "models" / "gguf", "models/gguf (the export stage)"
    if not (folder / "export.json").is_file():
        folder = Path(os.environ.get("TMPDIR", "/tmp")) / "cbt-bench-gguf"
        source = f"cbt-infer export into {folder}"
        if not (folder / "export.json").is_file():
            from cbt_infer.export import export

            export(Path(base), Path(adapter) if adapter else None, folder, "q4_k_m")
    files = json.loads((folder / "export.json").read_text())["files"]
    return folder / files["f16"], folder / files["q4_k_m"], source


def first_output(cmd: list[str], cwd: Path | None = None) -> dict:
    """Run cmd; seconds from its start to the first byte on its stdout and to its exit, and
    its own peak RSS in MB (os.wait4 reads that child's usage alone)."""
    import os
    import time

    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    first = os.read(proc.stdout.fileno(), 1)
    first_s = time.perf_counter() - start
    rest = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{err.decode(errors='replace')[-2000:]}")
    return {"first_output_s": round(first_s, 3), "wall_s": round(wall, 3),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "output": (first + rest).decode(errors="replace")}
