"""Synthetic chat examples and a tiny model, for tests, benchmarks and GPU smoke checks.

Examples are built the way the dataset stage builds them (system prompt, the event as the
user turn, the rendered Assessment as the reply), so lengths and masking are realistic.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

from cbt_schema.distortions import Distortion
from cbt_schema.records import Assessment, ChatExample, ChatMessage, Finding
from cbt_schema.render import render_assessment

SYSTEM = "You spot thought distortions and challenge them kindly."
SITUATIONS = [
    ("My manager moved my review meeting without saying why.", "I am sure I will be fired."),
    ("A friend did not answer my message all day.", "Nobody ever wants to talk to me."),
    ("I burned dinner for my family.", "I ruin everything I touch."),
    ("My exam score was 78 out of 100.", "Anything below perfect means I am stupid."),
    ("My partner sighed while I was talking.", "They must be bored of me."),
    ("I forgot a colleague's name at lunch.", "Everyone thinks I am rude now."),
]
CHALLENGES = [
    "What evidence do you have for and against this?",
    "What would you say to a friend who thought this?",
    "Is there another way to read what happened?",
]


def make_examples(n: int, offset: int = 0, system: str = SYSTEM, findings: int = 1,
                  extra_words: int = 0) -> list[ChatExample]:
    """n chat examples; with findings > 1, each names up to that many distortions.

    extra_words lengthens each event (for long-sequence benchmarks such as seq 2048).
    """
    kinds = list(Distortion)
    out = []
    for i in range(offset, offset + n):
        situation, thought = SITUATIONS[i % len(SITUATIONS)]
        rng = random.Random(i)
        chosen = [kinds[i % len(kinds)], *rng.sample(kinds, findings - 1)]
        chosen = list(dict.fromkeys(chosen))
        answer = render_assessment(Assessment(
            validation="That sounds really hard, and it makes sense you feel upset.",
            findings=[Finding(distortion=d, thought=thought, challenge=CHALLENGES[j % 3])
                      for j, d in enumerate(chosen)],
            closing="You are doing well by noticing this thought.",
        ))
        story = " ".join(rng.choice(SITUATIONS)[0] for _ in range(extra_words // 9 + 1))
        event = f"{situation} {thought}" + (" " + " ".join(story.split()[:extra_words])
                                            if extra_words else "")
        out.append(ChatExample(id=f"ex-{i}", messages=[
            ChatMessage(role="system", content=system),
            ChatMessage(role="user", content=event),
            ChatMessage(role="assistant", content=answer),
        ], distortions=chosen))
    return out


def make_tiny_model(base: Path, out: Path) -> Path:
    """A 2-layer, 32-wide copy of `base`'s architecture with its tokenizer and templates."""
    from transformers import AutoConfig, AutoModelForCausalLM, set_seed

    out.mkdir(parents=True, exist_ok=True)
    config = AutoConfig.from_pretrained(base)
    config.update({"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
                   "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 16,
                   "max_position_embeddings": 1024})
    set_seed(0)
    AutoModelForCausalLM.from_config(config).save_pretrained(out)
    for item in Path(base).iterdir():
        if item.name.startswith(("tokenizer", "chat_template", "special_tokens", "generation")):
            shutil.copy2(item, out / item.name)
    return out


LLAMA3_SPECIAL = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>",
                  "<|end_header_id|>", "<|eot_id|>"]


def llama3_template() -> str:
    """Llama-3-Instruct's chat template, as trl ships it (and recognises for training)."""
    import trl

    return (Path(trl.__file__).parent / "chat_templates/llama3.jinja").read_text()


def make_llama3_model(tokenizer_source: Path, out: Path, *, hidden: int = 64, layers: int = 2,
                      weights: bool = True, seed: int = 0) -> Path:
    """A random-weight Llama-architecture model with Llama-3-Instruct's chat template and
    special tokens, for the paper profile's code paths where the real 8B cannot be fetched.

    The tokenizer is `tokenizer_source`'s (SmolLM2's BPE) plus Llama-3's special tokens; the
    model is LlamaForCausalLM with tiny dimensions. weights=False writes only the config and
    the tokenizer (what the base_model stage takes from the Hub)."""
    from transformers import (
        AutoTokenizer,
        GenerationConfig,
        LlamaConfig,
        LlamaForCausalLM,
        set_seed,
    )

    out.mkdir(parents=True, exist_ok=True)
    tok = AutoTokenizer.from_pretrained(tokenizer_source)
    tok.add_special_tokens({"additional_special_tokens": LLAMA3_SPECIAL})
    tok.bos_token, tok.eos_token, tok.pad_token = ("<|begin_of_text|>", "<|eot_id|>",
                                                   "<|end_of_text|>")
    tok.chat_template = llama3_template()
    ids = {t: tok.convert_tokens_to_ids(t) for t in LLAMA3_SPECIAL}
    config = LlamaConfig(vocab_size=len(tok), hidden_size=hidden, intermediate_size=hidden * 2,
                         num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=4096, tie_word_embeddings=False,
                         bos_token_id=ids["<|begin_of_text|>"],
                         eos_token_id=[ids["<|end_of_text|>"], ids["<|eot_id|>"]],
                         pad_token_id=ids["<|end_of_text|>"])
    tok.save_pretrained(out)
    if weights:
        set_seed(seed)
        model = LlamaForCausalLM(config)
        model.generation_config = GenerationConfig(
            bos_token_id=config.bos_token_id, eos_token_id=config.eos_token_id,
            pad_token_id=config.pad_token_id)
        model.save_pretrained(out)
    else:
        config.save_pretrained(out)
    return out


def write_hub_snapshot(hub_cache: Path, repo_id: str, folder: Path,
                       commit: str = "0123456789abcdef0123456789abcdef01234567") -> Path:
    """Put `folder`'s files into a Hugging Face hub cache as `repo_id` at `commit` (the layout
    huggingface_hub reads offline: models--org--name/{refs/main, snapshots/<commit>/})."""
    repo = hub_cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True, exist_ok=True)
    for item in folder.iterdir():
        if item.is_file():
            shutil.copy2(item, snapshot / item.name)
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs/main").write_text(commit)
    return snapshot
