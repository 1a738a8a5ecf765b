"""`cbt-infer export`: the student as GGUF files for llama.cpp and Ollama.

  cbt-infer export --params params.yaml --base models/base --adapter models/adapter \\
      --out models/gguf

Writes cbt-student-f16.gguf (base + adapter merged), cbt-student-<quant>.gguf, the adapter
alone as cbt-adapter-f16.gguf (a LoRA GGUF for the base model's GGUF), a Modelfile for Ollama
and export.json. Needs the extra `cbt-infer[export]`; without it (or with export.enabled false)
it writes only EXPORT_SKIPPED.txt saying how to enable it, so the pipeline still completes.

The converters are llama.cpp's convert_hf_to_gguf.py and convert_lora_to_gguf.py, which ship
in llama-cpp-python's source distribution: found via --llama-cpp-dir, $CBT_LLAMA_CPP_DIR,
uv's cache, or fetched once with pip into ~/.cache/cbt/llama.cpp-<version>/.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import tempfile
from pathlib import Path

from cbt_infer.gguf_tools import (
    extra_missing,
    find_converters,
    gguf_ready_tokenizer,
    modelfile,
    quantize,
    write_task,
)
from cbt_schema import logs, paths
from cbt_schema.errors import UserError
from cbt_schema.student import StudentTask

log = logging.getLogger(__name__)

SKIP_NOTE = "EXPORT_SKIPPED.txt"


def _convert(script: Path, args: list[str]) -> None:
    proc = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True)
    if proc.returncode:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["(no output)"]
        raise UserError(f"{script.name} failed: {tail[0]}")


def export(base: Path, adapter: Path | None, out: Path, quantization: str = "q4_k_m",
           llama_cpp_dir: Path | None = None, system_prompt: str | None = None) -> dict:
    """Write the GGUF export into `out` (replacing what was there); return the manifest.

    Every GGUF carries the student's task (cbt_schema.student) in its metadata: the one the
    adapter was trained with, or `system_prompt` when given (said when it differs)."""
    from cbt_infer.loading import resolve
    from cbt_infer.prompt import task_for

    spec = resolve(base, adapter)
    task = task_for(system_prompt, StudentTask.from_folder(spec.adapter)
                    or StudentTask.from_folder(base))
    converters = find_converters(llama_cpp_dir)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():
        if old.is_file():
            old.unlink()
    files: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="cbt-export-") as tmp:
        # the tokenizer and config come from the base folder (for a hub student, the config and
        # tokenizer the base_model stage wrote); the weights from spec.base
        folder = Path(base) if Path(base).is_dir() else Path(spec.base)
        staged_base = gguf_ready_tokenizer(folder, Path(tmp) / "base")
        merged = Path(tmp) / "merged"
        log.info("merging the adapter into the base model")
        _merge(staged_base, spec, merged)
        f16 = out / "cbt-student-f16.gguf"
        log.info("converting to %s", f16)
        _convert(converters / "convert_hf_to_gguf.py",
                 [str(merged), "--outtype", "f16", "--outfile", str(f16)])
        write_task(f16, task)
        files["f16"] = f16.name
        quant = out / f"cbt-student-{quantization}.gguf"
        log.info("quantizing to %s", quant)
        quantize(f16, quant, quantization)
        files[quantization] = quant.name
        if spec.adapter is not None:
            lora = out / "cbt-adapter-f16.gguf"
            log.info("converting the adapter alone to %s", lora)
            _convert(converters / "convert_lora_to_gguf.py",
                     ["--base", str(staged_base), "--outtype", "f16", "--outfile", str(lora),
                      str(spec.adapter)])
            write_task(lora, task)
            files["lora_f16"] = lora.name
    (out / "Modelfile").write_text(modelfile(quant.name, task.system_prompt), encoding="utf-8")
    task.write(out)
    manifest = {"base": spec.base, "adapter": str(spec.adapter) if spec.adapter else None,
                "quantization": quantization, "files": files,
                "sizes_mb": {k: round((out / v).stat().st_size / 2**20, 1)
                             for k, v in files.items()},
                "modelfile": "Modelfile", "task": {"answer_format": task.answer_format,
                                                   "source": task.source}}
    (out / "export.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def _merge(base: Path, spec, out: Path) -> None:
    """Merge spec.adapter into the base with cbt-train's merge (the tokenizer from the staged
    base, GGUF-ready); the weights come from the hub id when the student is a hub model."""
    from cbt_infer.loading import check_adapter_fits

    try:
        from cbt_train.merge import merge_adapter
    except ImportError:
        raise UserError("export merges with cbt-train: install the extra cbt-infer[export] "
                        "(it brings cbt-train)") from None
    weights = spec.base if not Path(spec.base).is_dir() else str(base)
    merge_adapter(spec.adapter, out, weights, tokenizer=base,
                  check=lambda model: check_adapter_fits(model, spec))


def skip(out: Path, reason: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    text = (f"GGUF export skipped: {reason}\n\nTo enable it:\n"
            "  uv pip install 'cbt-infer[export]'   # compiles llama-cpp-python, several minutes\n"
            "  set export.enabled: true in conf/profile/local.yaml, then\n"
            "  uv run python scripts/compose_params.py && uv run dvc repro export\n")
    (out / SKIP_NOTE).write_text(text, encoding="utf-8")
    log.warning("cbt-infer export: skipped (%s); wrote %s", reason, out / SKIP_NOTE)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="cbt-infer export", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--params", help="params file (its export section); optional")
    p.add_argument("--base", type=Path, default=paths.BASE_MODEL)
    p.add_argument("--adapter", type=Path, help="peft adapter folder (default models/adapter "
                   "if present)")
    p.add_argument("--out", type=Path, default=paths.GGUF)
    p.add_argument("--quantization", help="llama.cpp type, e.g. q4_k_m (default from params)")
    p.add_argument("--llama-cpp-dir", type=Path, help="folder holding convert_hf_to_gguf.py")
    p.add_argument("--system-prompt", type=Path, help="a system prompt file to write into the "
                   "GGUFs instead of the one the adapter was trained with (said when it "
                   "differs)")
    logs.add_verbosity(p)
    args = p.parse_args(argv)
    logs.configure(args)
    enabled, quantization = True, args.quantization
    if args.params:
        from cbt_schema.params import load_params

        section = load_params(args.params).export
        enabled, quantization = section.enabled, quantization or section.quantization
    quantization = quantization or "q4_k_m"
    if not enabled:
        skip(args.out, "export.enabled is false in the params")
        return 0
    missing = extra_missing()
    if missing:
        skip(args.out, f"the optional extra cbt-infer[export] is not installed ({missing})")
        return 0
    adapter = args.adapter
    if adapter is None and Path(paths.ADAPTER).is_dir():
        adapter = Path(paths.ADAPTER)
    manifest = export(args.base, adapter, args.out, quantization, args.llama_cpp_dir,
                      args.system_prompt)
    print(json.dumps(manifest, indent=2))
    return 0
