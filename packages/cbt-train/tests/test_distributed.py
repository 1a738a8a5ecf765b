"""train.distributed: two CPU processes (gloo) against one, the launcher, rank-0 writes, the
world-size rules, and what cannot work, each in one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cbt_schema import UserError
from cbt_schema.jsonl import write_jsonl
from cbt_testing.training import make_examples
from cbt_train.checkpoints import prepare_checkpoints

CLI = Path(sys.executable).parent / "cbt-train"


def _params(folder: Path, base: Path, **train) -> Path:
    values = {"backend": "hf", "base_model": str(base), "max_length": 512, "batch_size": 2,
              "grad_accum": 1, "epochs": 2, "warmup_steps": 1, "learning_rate": 0.5,
              "optim": "sgd", "sampling": "sequential", "save_steps": 100,
              "lora": {"r": 4, "alpha": 8, "target_modules": ["q_proj", "v_proj"]}, **train}
    path = folder / f"params-{len(list(folder.glob('params-*')))}.yaml"
    path.write_text(yaml.safe_dump({"train": values}))
    return path


def _train(folder: Path, params: Path, name: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CLI), "train", "--params", str(params), "--train", str(folder / "train.jsonl"),
         "--test", str(folder / "test.jsonl"), "--out", str(folder / name / "adapter"),
         "--metrics", str(folder / name / "train.json"), "--live", str(folder / name / "live"),
         "--checkpoints", str(folder / name / "checkpoints"), *extra],
        capture_output=True, text=True, timeout=900, env={**os.environ, "OMP_NUM_THREADS": "1"})


@pytest.fixture
def data(tmp_path: Path) -> Path:
    write_jsonl(tmp_path / "train.jsonl", make_examples(16))
    write_jsonl(tmp_path / "test.jsonl", make_examples(4, offset=16))
    return tmp_path


def _curve(folder: Path) -> list[tuple[int, float]]:
    lines = (folder / "live/plots/metrics/train/loss.tsv").read_text().split("\n")[1:]
    return [(int(s), float(v)) for s, v in (ln.split("\t") for ln in lines if ln)]


@pytest.mark.slow
def test_two_processes_match_one_with_doubled_accumulation(data: Path, tiny_base: Path) -> None:
    one = _train(data, _params(data, tiny_base, grad_accum=2), "one")
    assert one.returncode == 0, one.stderr[-3000:]
    two = _train(data, _params(data, tiny_base, distributed="ddp", processes=2), "two")
    assert two.returncode == 0, two.stderr[-3000:]
    assert "train: ddp over 2 processes: -m torch.distributed.run --standalone " \
        "--nproc_per_node=2 -m cbt_train.cli train" in two.stderr
    # the same global batch of 4: the same steps, the same curve, the same adapter
    a, b = _curve(data / "one"), _curve(data / "two")
    assert [s for s, _ in a] == [s for s, _ in b] == list(range(1, 9))  # written once
    assert max(abs(x - y) for (_, x), (_, y) in zip(a, b, strict=True)) < 1e-5
    from safetensors.torch import load_file

    wa = load_file(data / "one/adapter/adapter_model.safetensors")
    wb = load_file(data / "two/adapter/adapter_model.safetensors")
    assert max(float((wa[k] - wb[k]).abs().max()) for k in wa) < 1e-6
    metrics = json.loads((data / "two/train.json").read_text())
    assert (metrics["processes"], metrics["global_batch"], metrics["steps"]) == (2, 4, 8)
    single = json.loads((data / "one/train.json").read_text())
    for kind in ("assistant", "all"):
        for key, value in single["losses"][kind].items():
            assert metrics["losses"][kind][key] == pytest.approx(value, abs=1e-5), (kind, key)
    assert two.stdout.count('"backend"') == 1  # only rank 0 reports
    assert not (data / "two/checkpoints").exists()


def test_data_that_does_not_divide_is_one_line_before_launch(data: Path,
                                                              tiny_base: Path) -> None:
    write_jsonl(data / "train.jsonl", make_examples(15))
    proc = _train(data, _params(data, tiny_base, distributed="ddp", processes=2), "odd")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "cbt-train: error: train.processes: the 15 training examples do not divide among 2 "
        "processes (the sampler would repeat 1 of them); use a process count that divides "
        "them, or change dataset.test_size"]


def test_fsdp_on_cpu_is_refused_with_the_alternative(data: Path, tiny_base: Path) -> None:
    proc = _train(data, _params(data, tiny_base, distributed="fsdp", processes=2), "fsdp")
    assert proc.returncode == 2
    assert "train.distributed: fsdp needs CUDA GPUs" in proc.stderr
    assert "use distributed: ddp for a CPU rehearsal" in proc.stderr
    assert proc.stderr.count("\n") == 1  # before any process or model starts


def test_a_changed_world_size_is_refused_unless_allowed(tmp_path: Path) -> None:
    folder = tmp_path / "checkpoints"
    assert prepare_checkpoints(folder, "key", resume=True, world=2) is None
    (folder / "checkpoint-4").mkdir()
    (folder / "checkpoint-4/trainer_state.json").write_text("{}")
    (folder / "checkpoint-6").mkdir()  # killed while saving: no trainer_state.json, not used
    with pytest.raises(UserError, match=r"written by 2 processes, this run has 1; resume with "
                                        r"the same train.processes, or pass "
                                        r"--allow-world-size-change"):
        prepare_checkpoints(folder, "key", resume=True, world=1)
    assert prepare_checkpoints(folder, "key", resume=True, world=2) == folder / "checkpoint-4"
    assert prepare_checkpoints(folder, "key", resume=True, world=1,
                               allow_world_change=True) == folder / "checkpoint-4"
    assert (folder / "world_size.txt").read_text() == "1"


@pytest.mark.parametrize("train,says", [
    ({"processes": 2}, "processes 2 needs distributed: ddp or fsdp"),
    ({"distributed": "ddp", "processes": 2, "backend": "unsloth"},
     "distributed ddp needs backend hf: unsloth's open release trains on one GPU"),
])
def test_settings_that_cannot_work_name_the_key(tmp_path: Path, train: dict, says: str) -> None:
    from cbt_schema.params import load_params

    (tmp_path / "p.yaml").write_text(yaml.safe_dump({"train": train}))
    with pytest.raises(UserError, match=says):
        load_params(tmp_path / "p.yaml")


@pytest.mark.gpu
def test_ddp_across_the_gpus_of_this_machine(data: Path, tiny_base: Path) -> None:
    torch = pytest.importorskip("torch")
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if count < 2:
        pytest.skip(f"needs 2 or more CUDA GPUs (found {count})")
    one = _train(data, _params(data, tiny_base, grad_accum=2), "gpu-one")
    two = _train(data, _params(data, tiny_base, distributed="ddp", processes=2), "gpu-two")
    assert one.returncode == two.returncode == 0, two.stderr[-3000:]
    a, b = _curve(data / "gpu-one"), _curve(data / "gpu-two")
    assert max(abs(x - y) for (_, x), (_, y) in zip(a, b, strict=True)) < 1e-2  # bf16


@pytest.mark.slow
def test_a_killed_two_process_run_resumes_on_two_and_refuses_one(data: Path,
                                                                  tiny_base: Path) -> None:
    import signal
    import time

    params = _params(data, tiny_base, distributed="ddp", processes=2, epochs=20, save_steps=2,
                     learning_rate=0.01)
    cmd = [str(CLI), "train", "--params", str(params), "--train", str(data / "train.jsonl"),
           "--test", str(data / "test.jsonl"), "--out", str(data / "run/adapter"),
           "--metrics", str(data / "run/train.json"), "--live", str(data / "run/live"),
           "--checkpoints", str(data / "run/checkpoints")]
    first = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    deadline = time.monotonic() + 600
    while not (data / "run/checkpoints/checkpoint-4/trainer_state.json").is_file():
        assert first.poll() is None and time.monotonic() < deadline, "no checkpoint written"
        time.sleep(0.2)
    import psutil

    tree = [psutil.Process(first.pid), *psutil.Process(first.pid).children(recursive=True)]
    assert len(tree) >= 4  # cbt-train, torchrun and the two training processes
    for proc in tree:  # all at once, mid-run, as a crash of the machine would
        proc.send_signal(signal.SIGKILL)
    psutil.wait_procs(tree, timeout=30)
    first.wait()
    assert not (data / "run/train.json").exists()

    one = _params(data, tiny_base, epochs=20, save_steps=2, learning_rate=0.01)  # 1 process
    refused = _train(data, one, "run")
    assert refused.returncode == 2
    assert "written by 2 processes, this run has 1" in refused.stderr

    again = _train(data, params, "run")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "train: resuming from" in again.stderr
    metrics = json.loads((data / "run/train.json").read_text())
    assert metrics["resumed_from_step"] >= 4 and metrics["steps"] == 80
    steps = [s for s, _ in _curve(data / "run")]
    assert steps == list(range(1, 81))  # trimmed to the checkpoint, then continued once
