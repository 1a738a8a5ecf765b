"""The Ollama Modelfile: its SYSTEM block carries the crisis instruction (no extra needed)."""

from __future__ import annotations

import re

from cbt_infer.gguf_tools import CRISIS_INSTRUCTION, modelfile, modelfile_system


def test_modelfile_system_block_holds_the_prompt_then_the_crisis_instruction() -> None:
    text = modelfile("cbt-student-q4_k_m.gguf", 'Be kind. Say """hi""".')
    system = re.search(r'^SYSTEM """(.*?)"""$', text, re.S | re.M).group(1)
    assert system == "Be kind. Say '''hi'''.\n\n" + CRISIS_INSTRUCTION
    for needed in ("988", "116 123", "findahelpline.com", "emergency number", "Samaritans"):
        assert needed in CRISIS_INSTRUCTION
    assert "do NOT run cbt-infer's crisis screen" in text and "weaker substitute" in text
    assert modelfile_system(None) == CRISIS_INSTRUCTION
