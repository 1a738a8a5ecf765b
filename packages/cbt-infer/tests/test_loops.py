"""Answers that repeat themselves: the detector on looping and on well-formed answers, and both
backends stopping such an answer early with finish_reason "loop"."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cbt_infer.backend_hf import Settings
from cbt_infer.loops import LoopStop, LoopWatch, is_looping
from cbt_schema import Assessment, Distortion, Finding, render_assessment

EXAMPLES = Path(__file__).resolve().parents[3] / "prompts" / "assessment_examples.jsonl"
D = Distortion


def _realistic() -> list[Assessment]:
    """The teacher's few-shot assessments, and terse ones that reuse a short challenge."""
    found = [Assessment.model_validate(json.loads(line)["assessment"])
             for line in EXAMPLES.read_text().splitlines() if line.strip()]
    terse = Assessment(
        validation="That sounds hard.", closing="Be kind to yourself.",
        findings=[Finding(distortion=d, thought=t, challenge="Is that true?")
                  for d, t in ((D.LABELING, "I'm useless"), (D.OVERGENERALIZATION, "I always fail"),
                               (D.MAGNIFICATION, "This ruins everything"),
                               (D.JUMPING_TO_CONCLUSIONS, "They think I'm useless"))])
    none = Assessment(validation="That sounds like a calm day.", findings=[],
                      closing="Enjoy the rest of it.")
    return [*found, terse, none]


def _chunks(text: str) -> list[str]:
    """Word-sized pieces, as a backend streams them."""
    return [*re.findall(r"\s*\S+", text), "\n"]


def _fires_at(text: str) -> int | None:
    """The index of the chunk at which a LoopWatch first sees a loop, or None."""
    watch = LoopWatch()
    return next((i for i, chunk in enumerate(_chunks(text)) if watch.feed(chunk)), None)


@pytest.mark.parametrize("assessment", _realistic(), ids=lambda a: a.validation[:24])
def test_well_formed_answers_never_look_like_loops(assessment: Assessment) -> None:
    text = render_assessment(assessment)
    assert len(assessment.findings) != 1  # several findings: the "Challenge:" prefix repeats
    assert not is_looping(text)
    assert _fires_at(text) is None  # nor at any point while it streams


FINDING = ('- Labeling: "I am a complete failure at everything I try"\n'
           "  Challenge: What would you say to a friend who failed one test?\n")
LOOPS = {
    "one word": "It feels very " + "very " * 40,
    "one sentence": "That sounds hard. " + "I am so sorry you are going through this. " * 6,
    "a whole finding": "That sounds hard.\n\nPossible thought distortions:\n\n" + FINDING * 4,
    "a counted list": "".join(f"{i}. I always fail at everything.\n" for i in range(1, 12)),
    "one line among others": "".join(
        f'- Labeling: "I am a complete failure at everything I try"\n  Challenge: {c}\n'
        for c in ("Is that fair?", "Who says so?", "What went well?", "What else is true?")),
}


@pytest.mark.parametrize("text", LOOPS.values(), ids=LOOPS.keys())
def test_looping_answers_are_seen_early(text: str) -> None:
    assert is_looping(text)
    at = _fires_at(text)
    assert at is not None and at < len(_chunks(text)) - 2  # seen before the text ends


def test_a_loop_after_a_well_formed_start_is_seen() -> None:
    text = render_assessment(_realistic()[0]) + "\n" + "Take care of yourself. " * 8
    assert not is_looping(render_assessment(_realistic()[0]))
    assert is_looping(text)


class WordTokenizer:
    """Ids are indexes into a list of words; decode joins them with spaces."""

    def __init__(self, words: list[str]) -> None:
        self.words = words

    def decode(self, ids: list[int], skip_special_tokens: bool = False) -> str:
        return " ".join(self.words[i] for i in ids)


def test_loop_stop_ends_only_the_looping_row_and_remembers_where() -> None:
    import torch

    sentence = ("the quick brown fox jumps over a lazy dog while my friend reads her book near "
                "an open window on this cold grey morning before work begins")
    words = ["<p>", "so", "very", *sentence.split(" ")]
    prompt = [0, 0]
    looping = prompt + [1] + [2] * 24
    normal = prompt + list(range(3, 28))
    stop = LoopStop(WordTokenizer(words), prompt_width=2)
    seen = []
    for step in range(3, len(looping) + 1):
        ids = torch.tensor([looping[:step], normal[:step]])
        seen.append(stop(ids, None).tolist())
    assert seen[-1] == [True, False] and [True, False] in seen[:-1]
    first = seen.index([True, False])
    assert stop.looped == {0: first + 1}  # tokens generated when the loop was seen:
    assert stop.looped[0] == 21  # "so", then MIN_LOOP_WORDS (20) times "very"


class FakeLlama:
    n_tokens = 0


def test_llama_backend_stops_a_looping_completion() -> None:
    from cbt_infer.backend_llama import LlamaBackend

    backend = object.__new__(LlamaBackend)
    backend.llm = FakeLlama()
    closed = []

    def chunks():
        try:
            for i in range(300):
                backend.llm.n_tokens = 10 + i  # the prompt, then one token a chunk
                yield {"choices": [{"text": " I feel so alone", "finish_reason": None}]}
            yield {"choices": [{"text": "", "finish_reason": "length"}]}
        finally:
            closed.append(True)

    backend._run = lambda messages, settings: (chunks(), 10)
    stream = backend.stream([], Settings())
    pieces = []
    try:
        while True:
            pieces.append(next(stream))
    except StopIteration as stop:
        gen = stop.value
    assert gen.finish_reason == "loop" and closed == [True]
    assert len(pieces) < 12 and gen.tokens == len(pieces)
    assert gen.text == "".join(pieces).strip()


@pytest.fixture(scope="module")
def tiny(base_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """A tiny random model with the real tokenizer (the logits are forced in each test)."""
    testing = pytest.importorskip("cbt_testing.training")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = testing.make_tiny_model(base_dir, tmp_path_factory.mktemp("tiny") / "tiny")
    model = AutoModelForCausalLM.from_pretrained(folder).eval()
    return model, AutoTokenizer.from_pretrained(folder)


def _forced_backend(tiny, scripts: list[list[int]]):
    """A TransformersBackend whose model writes `scripts[row]` token by token."""
    import torch
    from transformers import LogitsProcessorList

    from cbt_infer.backend_hf import TransformersBackend

    class Script:
        start: int | None = None

        def __call__(self, input_ids, scores):
            self.start = self.start or input_ids.shape[1]
            step = input_ids.shape[1] - self.start
            forced = torch.full_like(scores, -float("inf"))
            for row, script in enumerate(scripts):
                forced[row, script[min(step, len(script) - 1)]] = 0.0
            return forced

    class Forced(TransformersBackend):
        def _kwargs(self, settings: Settings) -> dict:
            return {**super()._kwargs(settings),
                    "logits_processor": LogitsProcessorList([Script()])}

    return Forced(*tiny, "tiny")


@pytest.mark.slow
def test_transformers_backend_stops_a_looping_row_and_finishes_the_other(tiny) -> None:
    tokenizer = tiny[1]
    answer = render_assessment(_realistic()[-2])  # four findings, one short challenge
    eot = tokenizer.convert_tokens_to_ids("<|im_end|>")
    looping = tokenizer("I hear you. " + "I am so sorry. " * 100,
                        add_special_tokens=False).input_ids
    normal = [*tokenizer(answer, add_special_tokens=False).input_ids, eot]
    assert len(normal) < 120
    messages = [{"role": "user", "content": "My friend forgot my birthday."}]
    settings = Settings(max_new_tokens=120)
    gens = _forced_backend(tiny, [looping, normal]).generate_batch([messages] * 2, settings)
    assert gens[0].finish_reason == "loop" and gens[0].tokens < 60
    assert gens[0].text.startswith("I hear you. I am so sorry.")
    assert gens[1].finish_reason == "stop" and gens[1].text == answer
    stream = _forced_backend(tiny, [looping]).stream(messages, settings)
    chunks = []
    try:
        while True:
            chunks.append(next(stream))
    except StopIteration as stop:
        streamed = stop.value
    assert streamed.finish_reason == "loop" and streamed.text == gens[0].text
    assert streamed.tokens == gens[0].tokens
