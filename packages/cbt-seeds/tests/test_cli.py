import json
import subprocess
import sys
from pathlib import Path

from cbt_schema.jsonl import read_jsonl
from cbt_schema.records import Seed


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from cbt_seeds.cli import main; main()", *args],
                          cwd=cwd, capture_output=True, text=True)


def test_writes_seeds_and_stats(tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_text("seeds:\n  n: 50\n")
    proc = _cli("--out", "data/seeds.jsonl", "--stats", "m/seeds.json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert len(read_jsonl(tmp_path / "data/seeds.jsonl", Seed)) == 50
    assert json.loads((tmp_path / "m/seeds.json").read_text())["emotions"] == 45


def test_bad_params_exit_2_with_one_line_and_no_output(tmp_path: Path) -> None:
    cases = {
        "seeds:\n  n: 0\n": "params.yaml: seeds.n: Input should be greater than or equal to 1",
        "seeds:\n  nn: 3\n": "params.yaml: seeds.nn: unknown key (allowed: n, age_min",
        "seeds:\n  n: 99999999999\n": "params.yaml: seeds.n: 99,999,999,999 is more than the",
        "seeds:\n  emotions: []\n": "params.yaml: seeds.emotions: the pool is empty",
    }
    for text, expected in cases.items():
        (tmp_path / "params.yaml").write_text(text)
        proc = _cli("--out", "out.jsonl", cwd=tmp_path)
        assert proc.returncode == 2
        assert proc.stderr.startswith(f"cbt-seeds: error: {expected}"), proc.stderr
        assert proc.stderr.count("\n") == 1
        assert not (tmp_path / "out.jsonl").exists()
