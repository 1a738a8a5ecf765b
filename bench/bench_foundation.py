"""Foundation figures: seeds for N=100,000 and a no-op `dvc repro`.

  uv run python bench/bench_foundation.py
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from cbt_testing.bench import timed_subprocess, write_results

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    argparse.ArgumentParser(description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    bindir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        (tmp_path / "params.yaml").write_text("seeds:\n  n: 100000\n")
        seeds = timed_subprocess([str(bindir / "cbt-seeds"), "--out", "seeds.jsonl"], tmp_path)
        lines = len((tmp_path / "seeds.jsonl").read_text().splitlines())

        repo = tmp_path / "repo"
        repo.mkdir()
        for name in ["dvc.yaml", "params.yaml", "conf", "packages", "prompts", ".dvcignore"]:
            src = ROOT / name
            if src.is_dir():
                shutil.copytree(src, repo / name)
            elif src.exists():
                shutil.copy2(src, repo / name)
        for cmd in (["git", "init", "-q"], [str(bindir / "dvc"), "init", "-q"],
                    [str(bindir / "dvc"), "repro", "seeds"]):
            subprocess.run(cmd, cwd=repo, check=True, capture_output=True)
        noop = [timed_subprocess([str(bindir / "dvc"), "repro", "seeds"], repo)["wall_s"]
                for _ in range(3)]

    write_results("foundation", {
        "seeds_100k": {"records": lines, **seeds, "target_s": 2.0},
        "dvc_repro_up_to_date": {"wall_s_runs": noop, "wall_s_best": min(noop), "target_s": 2.0},
    })


if __name__ == "__main__":
    main()
