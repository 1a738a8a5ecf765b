"""Fixtures: the real SmolLM2-135M-Instruct base (built once into the shared cache by
cbt-train's base_model stage code) and small peft adapters made on the fly."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def base_dir() -> Path:
    try:
        from cbt_train.base_model import cached_base_model
    except ImportError:
        pytest.skip("cbt-train is not installed (it builds the base model)")
    return cached_base_model()


def make_adapter(model, out: Path, r: int = 4, seed: int = 0) -> Path:
    """Save a LoRA adapter with random (non-zero) B so it changes the model's output."""
    import torch
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(seed)
    config = LoraConfig(r=r, lora_alpha=2 * r, target_modules=["q_proj", "v_proj"],
                        init_lora_weights=False, task_type="CAUSAL_LM")
    peft_model = get_peft_model(model, config)
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_" in name:
                param.mul_(0.5)
    peft_model.save_pretrained(out)
    peft_model.unload()
    return out


@pytest.fixture(scope="session")
def adapter_dir(base_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(base_dir)
    return make_adapter(model, tmp_path_factory.mktemp("adapter") / "adapter")


@pytest.fixture(scope="session")
def foreign_adapter_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An adapter trained on a different (tiny, random) Llama: its shapes do not fit."""
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2)
    model = LlamaForCausalLM(config)
    model.name_or_path = "tiny-random-llama"
    return make_adapter(model, tmp_path_factory.mktemp("foreign") / "adapter")


SAFETY = Path(__file__).resolve().parents[3] / "safety"
# Written for the tests, in no list: the keyword screen misses each of them.
UNSEEN_CRISIS = [
    "Some nights I stand at the top of the multi-storey car park and count the floors.",
    "I keep thinking the world would be quieter without me in it.",
]


@pytest.fixture(scope="session")
def unseen_crisis() -> list[str]:
    return list(UNSEEN_CRISIS)


@pytest.fixture(scope="session")
def trained_probe(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A crisis probe trained like the crisis_probe stage (on safety/train, with the pinned
    local model) and measured on a two-text held-out set; built once for all test workers."""
    from cbt_infer.probe_cli import main

    try:
        from cbt_train.base_model import cached_base_model
    except ImportError:
        pytest.skip("cbt-train is not installed (it builds the local model)")
    from cbt_testing.shared import built_once

    base = cached_base_model()

    def build(out: Path) -> None:
        heldout = out / "mini"
        heldout.with_suffix(".crisis.txt").write_text("\n".join(UNSEEN_CRISIS) + "\n")
        heldout.with_suffix(".ordinary.txt").write_text(
            "My flatmate ate my leftovers again and I am fuming.\n")
        argv = ["--base", str(base), "--train", str(SAFETY / "train"),
                "--heldout", str(heldout), "--out", str(out / "probe.json"),
                "--metrics", str(out / "metrics.json")]
        assert main(argv) == 0

    out = built_once(tmp_path_factory, "crisis-probe", build)
    return {"probe": out / "probe.json", "metrics": out / "metrics.json", "base": base,
            "encoder": out / "crisis_encoder.gguf"}


@pytest.fixture(scope="session")
def assessor(base_dir: Path):
    """The base model with the keyword screen only (explicitly: crisis_probe=False)."""
    from cbt_infer import Assessor

    return Assessor.from_pretrained(base_dir, system_prompt="You are a helpful assistant.",
                                    crisis_probe=False)


@pytest.fixture(scope="session")
def tuned(base_dir: Path, adapter_dir: Path, assessor):
    from cbt_infer import Assessor

    return Assessor.from_pretrained(base_dir, adapter=adapter_dir,
                                    system_prompt=assessor.system_prompt, crisis_probe=False)


@pytest.fixture(scope="session")
def merged_dir(tuned, base_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The adapter merged into a copy of the base, saved as a plain model folder."""
    import copy

    from transformers import AutoTokenizer

    out = tmp_path_factory.mktemp("merged") / "merged"
    merged = copy.deepcopy(tuned.backend.model).merge_and_unload()
    merged.save_pretrained(out)
    AutoTokenizer.from_pretrained(base_dir).save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def exported(base_dir: Path, adapter_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`cbt-infer export` of the fixture adapter, its prompt given explicitly (the fixture
    adapter carries no task)."""
    from cbt_infer.export import export

    out = tmp_path_factory.mktemp("gguf")
    export(base_dir, adapter_dir, out, "q4_k_m", system_prompt="Be kind.")
    return out


# -- cbt-infer serve ------------------------------------------------------------------------
@pytest.fixture(scope="session")
def serve_student(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small real student for the server: the pinned SmolLM2 GGUF with the student's task in
    its metadata, as the export writes it; built once for all test workers."""
    import shutil

    try:
        from cbt_train.base_model import cached_base_model
    except ImportError:
        pytest.skip("cbt-train is not installed (it builds the base model)")
    from cbt_infer.gguf_tools import extra_missing

    if (missing := extra_missing()) is not None:
        pytest.skip(f"extra cbt-infer[export] not installed ({missing})")
    from cbt_infer.gguf_tools import write_task
    from cbt_schema.student import StudentTask
    from cbt_testing.shared import built_once

    def build(out: Path) -> None:
        gguf = out / "cbt-student.gguf"
        shutil.copy(next(cached_base_model().glob("*.gguf")), gguf)
        write_task(gguf, StudentTask(StudentTask.builtin().system_prompt))

    return built_once(tmp_path_factory, "serve-student", build) / "cbt-student.gguf"


@pytest.fixture(scope="session")
def serve_assessor(serve_student: Path):
    """The torch-free assessor the server answers with: llama.cpp, keywords-only screen (the
    learned probe is tested through the command), 8 new tokens so answers are quick."""
    from cbt_infer import Assessor
    from cbt_infer.backend_hf import Settings

    return Assessor.from_pretrained(gguf=serve_student, crisis_probe=False, n_ctx=1024,
                                    settings=Settings(max_new_tokens=8))


@pytest.fixture
def serve_on():
    """Start `cbt-infer serve`'s app on a free loopback port in a thread (uvicorn, the real
    server): `serve_on(assessor_or_loader, **ServeConfig fields)` returns an object with `url`,
    `engine` and `config`. Every server started is stopped after the test."""
    import socket
    import threading
    import time
    from types import SimpleNamespace

    pytest.importorskip("uvicorn", reason="extra cbt-infer[serve] not installed")
    import uvicorn

    from cbt_infer.serve.app import build_app
    from cbt_infer.serve.config import ServeConfig
    from cbt_infer.serve.engine import Engine

    running = []

    def start(load, **fields):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        config = ServeConfig(port=port, **fields)
        engine = Engine(load if callable(load) else (lambda: load), queue=config.queue)
        server = uvicorn.Server(uvicorn.Config(build_app(engine, config), host=config.host,
                                               port=port, log_level="warning",
                                               access_log=False, lifespan="on"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
            time.sleep(0.02)
        running.append((server, thread))
        return SimpleNamespace(url=f"http://127.0.0.1:{port}", engine=engine, config=config)

    yield start
    for server, thread in running:
        server.should_exit = True
        thread.join(30)
