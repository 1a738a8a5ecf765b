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
