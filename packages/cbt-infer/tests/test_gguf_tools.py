"""GGUF tools: the Ollama Modelfile's SYSTEM block carries the crisis instruction; a GGUF cut
to its first blocks (the crisis probe's encoder) loads on llama.cpp."""

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


def test_a_gguf_cut_to_its_first_blocks_loads_and_encodes(base_dir, tmp_path) -> None:
    """The crisis probe's encoder: the pinned GGUF with only its first blocks; llama.cpp loads
    it and its features differ from the whole model's (another depth)."""
    import pytest

    gguf = pytest.importorskip("gguf")
    pytest.importorskip("llama_cpp")
    from cbt_infer.crisis_probe import Encoder
    from cbt_infer.gguf_tools import truncate_layers

    source = next(base_dir.glob("*.gguf"))
    cut = tmp_path / "cut.gguf"
    truncate_layers(source, cut, 2)
    fields = gguf.GGUFReader(cut).fields
    arch = fields["general.architecture"].contents()
    names = {t.name for t in gguf.GGUFReader(cut).tensors}
    assert fields[f"{arch}.block_count"].contents() == 2
    assert "blk.1.attn_q.weight" in names and not any(n.startswith("blk.2.") for n in names)
    text = ["My manager moved my review without saying why."]
    shallow, whole = Encoder(cut)(text), Encoder(source)(text)
    assert shallow.shape == whole.shape == (1, 2 * 576)  # the mean and the last token
    assert abs(shallow - whole).max() > 0.1
    assert (Encoder(cut)(text) == shallow).all()  # the same numbers every time
