"""Pieces of the GGUF export: finding llama.cpp's converters, a tokenizer they accept,
quantization through llama.cpp's C API, and the Ollama Modelfile."""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import json
import logging
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

from cbt_schema.atomic import atomic_dir
from cbt_schema.errors import UserError
from cbt_schema.student import StudentTask

log = logging.getLogger(__name__)

CONVERTERS = ("convert_hf_to_gguf.py", "convert_lora_to_gguf.py")
NEEDED = ("convert_hf_to_gguf.py", "convert_lora_to_gguf.py", "conversion/", "gguf-py/")


def extra_missing() -> str | None:
    """The first module of the `export` extra that is not importable, or None."""
    for module in ("llama_cpp", "gguf", "sentencepiece", "cbt_train"):
        if importlib.util.find_spec(module) is None:
            return module
    return None


def _has_converters(folder: Path) -> bool:
    return all((folder / name).is_file() for name in CONVERTERS)


def find_converters(explicit: Path | None = None) -> Path:
    """The llama.cpp folder holding the converter scripts matching the installed bindings."""
    from importlib.metadata import version

    ver = version("llama-cpp-python")
    env = os.environ.get("CBT_LLAMA_CPP_DIR")
    for folder in [explicit, Path(env) if env else None]:
        if folder is not None:
            if not _has_converters(folder):
                raise UserError(f"{folder}: no {CONVERTERS[0]} there (expected a llama.cpp "
                                "source folder)")
            return folder
    cache = Path(os.environ.get("CBT_CACHE_DIR", Path.home() / ".cache" / "cbt"))
    target = cache / f"llama.cpp-{ver}"
    if _has_converters(target):
        return target
    uv_cache = os.environ.get("UV_CACHE_DIR", str(Path.home() / ".cache" / "uv"))
    pattern = f"{uv_cache}/sdists-v*/pypi/llama-cpp-python/{ver}/*/src/vendor/llama.cpp"
    for found in sorted(glob.glob(pattern)):
        if _has_converters(Path(found)):
            return Path(found)
    return _fetch_converters(ver, target)


def _fetch_converters(ver: str, target: Path) -> Path:
    """Download llama-cpp-python's sdist once with pip and keep only the converters."""
    spec = f"llama-cpp-python=={ver}"
    download = target.parent / f".download-{ver}"
    pip = ([sys.executable, "-m", "pip"] if importlib.util.find_spec("pip")
           else [shutil.which("uv") or "uv", "run", "--no-project", "--with", "pip", "python",
                 "-m", "pip"])
    log.info("fetching llama.cpp's converters from the %s source distribution", spec)
    cmd = [*pip, "download", "--no-deps", "--no-binary", ":all:", spec, "-d", str(download)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    archives = sorted(download.glob("llama_cpp_python-*.tar.gz"))
    if proc.returncode or not archives:
        raise UserError(f"cannot fetch the converters ({spec} sdist): pass --llama-cpp-dir "
                        "or set CBT_LLAMA_CPP_DIR to a llama.cpp checkout")
    with atomic_dir(target) as tmp, tarfile.open(archives[0]) as tar:
        for member in tar.getmembers():
            rel = member.name.split("/vendor/llama.cpp/", 1)
            if len(rel) == 2 and rel[1].startswith(NEEDED) and (member.isfile()
                                                                 or member.isdir()):
                member.name = rel[1]
                tar.extract(member, tmp, filter="data")
    shutil.rmtree(download, ignore_errors=True)
    return target


def gguf_ready_tokenizer(base: Path, out: Path) -> Path:
    """A view of `base` (files linked) whose tokenizer llama.cpp's converter reads right.

    transformers' GGUF loader writes SmolLM2's byte-level BPE tokenizer with a
    byte-fallback decoder, which the converter mistakes for a sentencepiece vocabulary (the
    GGUF then crashes llama.cpp's tokenizer). Byte-level tokenizers get a plain ByteLevel
    decoder (token ids unchanged). The eos becomes the template's end-of-turn token so
    llama.cpp and Ollama stop where transformers stops."""
    from transformers import AutoTokenizer

    from cbt_infer.prompt import end_of_turn_text

    out.mkdir(parents=True)
    for item in base.iterdir():
        if item.is_file() and item.suffix != ".gguf":
            (out / item.name).symlink_to(item.resolve())
    tok_json = base / "tokenizer.json"
    if tok_json.is_file():
        data = json.loads(tok_json.read_text(encoding="utf-8"))
        if (data.get("pre_tokenizer") or {}).get("type") == "ByteLevel":
            data["model"]["byte_fallback"] = False
            data["decoder"] = {"type": "ByteLevel", "add_prefix_space": True,
                               "trim_offsets": True, "use_regex": True}
            (out / "tokenizer.json").unlink()
            (out / "tokenizer.json").write_text(json.dumps(data, ensure_ascii=False),
                                                encoding="utf-8")
    tokenizer = AutoTokenizer.from_pretrained(out)
    eot = end_of_turn_text(lambda m: tokenizer.apply_chat_template(
        m, tokenize=False, add_generation_prompt=False))
    config = out / "tokenizer_config.json"
    if eot and config.is_file():
        data = json.loads(config.read_text(encoding="utf-8"))
        data["eos_token"] = eot
        data.pop("eos_token_id", None)
        config.unlink()
        config.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return out


def quantize(src: Path, dst: Path, kind: str) -> None:
    """Quantize a GGUF with llama.cpp's own llama_model_quantize (no binary needed)."""
    import llama_cpp
    from llama_cpp._utils import suppress_stdout_stderr

    ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{kind.upper()}", None)
    if ftype is None:
        raise UserError(f"export.quantization: unknown llama.cpp type {kind!r} (e.g. q4_k_m, "
                        "q4_0, q5_k_m, q8_0)")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    params.nthread = os.cpu_count() or 1
    with suppress_stdout_stderr(disable=False):  # llama.cpp logs every tensor
        code = llama_cpp.llama_model_quantize(str(src).encode(), str(dst).encode(), params)
    if code != 0 or not dst.is_file():
        raise UserError(f"{src}: llama.cpp could not quantize it to {kind} (code {code})")


def write_task(path: Path, task: StudentTask) -> None:
    """Rewrite a GGUF with the student's task in its metadata: cbt.system_prompt,
    cbt.answer_format, and (where it has one) a chat template that inserts the trained system
    prompt when a chat has none, so llama.cpp's own chat handler asks as the student was
    trained. Replaces `path` only once the new file is complete."""
    import gguf
    from gguf.scripts.gguf_new_metadata import MetadataDetails, copy_with_new_metadata

    reader = gguf.GGUFReader(path, "r")
    string = gguf.GGUFValueType.STRING
    new = {key: MetadataDetails(string, value) for key, value in task.metadata().items()}
    template = reader.fields.get(gguf.Keys.Tokenizer.CHAT_TEMPLATE)
    if template is not None:
        new[gguf.Keys.Tokenizer.CHAT_TEMPLATE] = MetadataDetails(
            string, task.template_with_default_system(template.contents()))
    arch = reader.fields[gguf.Keys.General.ARCHITECTURE].contents()
    tmp = path.with_name(path.name + ".partial")
    writer = gguf.GGUFWriter(tmp, arch=arch, endianess=reader.endianess)
    if (alignment := reader.fields.get(gguf.Keys.General.ALIGNMENT)) is not None:
        writer.data_alignment = alignment.contents()
    with suppress_output():
        copy_with_new_metadata(reader, writer, new, [])
    del reader  # its memory map, before the file is replaced
    tmp.replace(path)


def truncate_layers(src: Path, dst: Path, layers: int) -> None:
    """Write `src` with only its first `layers` transformer blocks (and everything outside
    the blocks: embeddings, the final norm), so llama.cpp's output is that depth's hidden
    state, normalised. Replaces `dst` only once the new file is complete."""
    import gguf

    reader = gguf.GGUFReader(src, "r")
    arch = reader.fields[gguf.Keys.General.ARCHITECTURE].contents()
    tmp = dst.with_name(dst.name + ".partial")
    writer = gguf.GGUFWriter(tmp, arch=arch, endianess=reader.endianess)
    if (alignment := reader.fields.get(gguf.Keys.General.ALIGNMENT)) is not None:
        writer.data_alignment = alignment.contents()
    for field in reader.fields.values():
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
            continue
        kind = field.types[0]
        sub = field.types[-1] if kind == gguf.GGUFValueType.ARRAY else None
        value = layers if field.name == f"{arch}.block_count" else field.contents()
        writer.add_key_value(field.name, value, kind, sub_type=sub)
    kept = [t for t in reader.tensors
            if not t.name.startswith("blk.") or int(t.name.split(".")[1]) < layers]
    for t in kept:
        writer.add_tensor_info(t.name, t.data.shape, t.data.dtype, t.data.nbytes, t.tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for t in kept:
        writer.write_tensor_data(t.data, tensor_endianess=reader.endianess)
    writer.close()
    del reader
    tmp.replace(dst)


@contextlib.contextmanager
def suppress_output() -> Iterator[None]:
    """gguf-py's progress bar is for its own command line, not a stage log."""
    with open(os.devnull, "w") as sink, contextlib.redirect_stderr(sink):
        yield


CRISIS_INSTRUCTION = (
    "If the person's message mentions suicide, self-harm, wanting to die or not being safe, do "
    "not analyse their thoughts. Reply only with a short, caring message and these resources: "
    "in immediate danger, call your local emergency number; findahelpline.com lists free crisis "
    "lines in every country; in the US, call or text 988; in the UK and Ireland, call the "
    "Samaritans on 116 123."
)


def modelfile_system(system_prompt: str | None) -> str:
    """The Modelfile's system prompt: the student's own, then a blank line and the crisis
    instruction (Ollama and llama.cpp users get no crisis screen, so the prompt asks instead)."""
    prompt = (system_prompt or "").strip()
    return f"{prompt}\n\n{CRISIS_INSTRUCTION}" if prompt else CRISIS_INSTRUCTION


def modelfile(gguf_name: str, system_prompt: str | None) -> str:
    """An Ollama Modelfile for the exported student (ChatML, stops on <|im_end|>)."""
    system = modelfile_system(system_prompt).replace('"""', "'''")
    return f'''# Ollama: ollama create cbt-student -f Modelfile && ollama run cbt-student
# Ollama and llama.cpp do NOT run cbt-infer's crisis screen (use `cbt-infer --backend llama` for
# it). The crisis instruction at the end of SYSTEM below is a weaker substitute: the model may
# ignore it (measured in bench/results/modelfile_crisis.json).
# The adapter alone: FROM <the base model's GGUF> plus ADAPTER ./cbt-adapter-f16.gguf
FROM ./{gguf_name}
TEMPLATE """{{{{ if .System }}}}<|im_start|>system
{{{{ .System }}}}<|im_end|>
{{{{ end }}}}{{{{ if .Prompt }}}}<|im_start|>user
{{{{ .Prompt }}}}<|im_end|>
{{{{ end }}}}<|im_start|>assistant
"""
SYSTEM """{system}"""
PARAMETER stop "<|im_end|>"
PARAMETER stop "<|im_start|>"
PARAMETER temperature 0
'''
