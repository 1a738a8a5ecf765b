#!/usr/bin/env python3
"""Bootstrap and run cbt with nothing but git, Python >= 3.11 and pip.

  python3 tasks.py repro [dvc repro args]   # run the pipeline on the embedded local profile
  python3 tasks.py test [pytest args]       # lint, then run the whole test suite
  python3 tasks.py test --quick [args]      # lint, then the tests not marked slow
  python3 tasks.py sync                     # only install (uv into .tools/, project into .venv/)

uv is installed into .tools/ with pip if it is not on PATH; the project's own dependencies come
from uv.lock. `repro` and `test` install the llama and export extras too, so the export stage
writes the GGUF files dvc.lock records and the GGUF tests run; `sync` installs without them.
Everything else a test needs (the S3 server, the teacher's stand-in) is started by the tests
themselves.

Installs compile bytecode: where PYTHONDONTWRITEBYTECODE is set (as in many containers), every
process would otherwise compile torch and transformers from source at each start. `test` runs
pytest on one worker per core (pytest-xdist, whole files per worker) unless the arguments name
-n or --numprocesses themselves; each worker then keeps torch to one thread.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
TOOLS = ROOT / ".tools"
# extras per command: the export stage and the GGUF tests need llama-cpp-python, which compiles
# once (~6 min on 2 cores, then cached by uv; build flags in pyproject.toml's
# extra-build-variables); `serve` (starlette, uvicorn) is for `cbt-infer serve` and its tests
EXTRAS = {"repro": ("llama", "export", "serve"), "test": ("llama", "export", "serve"),
          "sync": ()}


def uv() -> str:
    found = shutil.which("uv")
    if found:
        return found
    local = TOOLS / "bin" / "uv"
    if not local.exists():
        print("tasks.py: installing uv into .tools/", flush=True)
        venv.create(TOOLS, with_pip=True)
        subprocess.run([str(TOOLS / "bin" / "python"), "-m", "pip", "install", "-q", "uv>=0.5"],
                       check=True)
    return str(local)


def run(*cmd: str) -> None:
    code = subprocess.run(cmd, cwd=ROOT).returncode
    if code:
        sys.exit(code)


def sync(*extras: str) -> None:
    run(uv(), "sync", "--locked", "--all-packages", "--compile-bytecode",
        *(f"--extra={e}" for e in extras))


def pytest_args(rest: list[str]) -> list[str]:
    """The test command's pytest arguments: --quick deselects the slow tests, and the suite
    spreads over one worker per core unless the caller chose the workers."""
    args = [a for a in rest if a != "--quick"]
    if "--quick" in rest:
        args = ["-m", "not slow", *args]
    if not any(a == "-n" or a.startswith(("-n", "--numprocesses")) for a in args):
        args = ["-n", str(max(1, min(os.cpu_count() or 1, 4))), "--dist", "loadfile",
                "--no-loadscope-reorder", *args]
    return args


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in EXTRAS:
        sys.exit(__doc__)
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    bundle = Path("/etc/ssl/certs/ca-certificates.crt")  # uv ignores pip's `cert` setting
    if "SSL_CERT_FILE" not in os.environ and bundle.is_file():
        os.environ["SSL_CERT_FILE"] = str(bundle)
    command, rest = argv[0], argv[1:]
    sync(*EXTRAS[command])
    if command == "repro":
        run(uv(), "run", "--no-sync", "dvc", "repro", *rest)
    elif command == "test":
        run(uv(), "run", "--no-sync", "ruff", "check", ".")
        run(uv(), "run", "--no-sync", "pytest", *pytest_args(rest))


if __name__ == "__main__":
    main(sys.argv[1:])
