"""Canned answers through a real Assessor with a stand-in backend: parsing, scoring and the
guessers checked against figures computed by hand."""

from __future__ import annotations

import pytest

from cbt_eval.evaluate import LABELS
from cbt_eval.guessers import margin, reference_scores
from cbt_eval.metrics import score
from cbt_eval.predict import predict
from cbt_infer.assessor import Assessor
from cbt_infer.result import Generation
from cbt_schema import Assessment, Distortion, Finding, render_assessment
from cbt_schema.params import EvalParams

D = Distortion


def _answer(*found: Distortion) -> str:
    return render_assessment(Assessment(
        validation="That sounds hard.", closing="Be kind to yourself.",
        findings=[Finding(distortion=d, thought="I always fail.", challenge="Is that true?")
                  for d in found]))


class CannedBackend:
    """Answers each prompt with the next canned text, as a model would."""

    name = "canned"
    context_window = 4096

    def __init__(self, answers: list[str]) -> None:
        self.answers = list(answers)

    def count_tokens(self, messages: list[dict[str, str]]) -> int:
        return sum(len(m["content"].split()) for m in messages)

    def generate_batch(self, batch, settings) -> list[Generation]:
        return [Generation(text=self.answers.pop(0), tokens=10, finish_reason="stop")
                for _ in batch]


def test_canned_answers_score_as_computed_by_hand() -> None:
    answers = [_answer(D.OVERGENERALIZATION), _answer(D.JUMPING_TO_CONCLUSIONS, D.LABELING),
               "I'm not sure what to say.",  # does not parse: no findings
               _answer()]
    gold = [frozenset({D.OVERGENERALIZATION.value}), frozenset({D.JUMPING_TO_CONCLUSIONS.value}),
            frozenset({D.MAGNIFICATION.value}), frozenset()]
    assessor = Assessor(CannedBackend(answers), "Spot distortions.")
    preds = predict(assessor, ["a", "b", "c", "d"], EvalParams(batch_size=2), seed=0)
    assert preds.parsed == [True, True, False, True]
    assert preds.findings == [1, 2, 0, 0]
    result = score(gold, preds.labels, LABELS)
    # overgeneralization tp1; jumping to conclusions tp1; labeling fp1; magnification fn1
    assert result["micro_precision"] == pytest.approx(2 / 3)
    assert result["micro_recall"] == pytest.approx(2 / 3)
    assert result["macro_f1"] == pytest.approx((1 + 1 + 0 + 0) / 4)
    # binary: gold distorted [1, 1, 1, 0], answered distorted [1, 1, 0, 0]
    assert result["binary_precision"] == 1.0 and result["binary_recall"] == pytest.approx(2 / 3)
    assert result["exact_set_accuracy"] == pytest.approx(2 / 4)  # texts 1 and 4
    ref = reference_scores(gold, LABELS, resamples=0, seed=0)
    # all ten labels: three gold labels, each in 1 of 4 texts: precision 1/4, recall 1, F1 0.4;
    # the seven others F1 0
    assert ref["all_labels"]["macro_f1"] == pytest.approx(3 * 0.4 / 10)
    m = margin(gold, preds.labels, ref, LABELS, resamples=0, seed=0)
    best = max(("all_labels", "most_frequent_k", "prevalence"),
               key=lambda g: ref[g]["macro_f1"])
    assert m["over"] == best and m["macro_f1"] == pytest.approx(0.5 - ref[best]["macro_f1"])
    assert m["macro_f1"] > 0 and m["verdict"].startswith("beats")


def test_test_losses_score_the_answer_and_all_tokens_by_hand(tmp_path) -> None:
    """Both loss definitions against the model's own cross-entropy with explicit labels."""
    cbt_train = pytest.importorskip("cbt_train.base_model")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from cbt_eval.predict import test_losses
    from cbt_schema.records import ChatExample
    from cbt_testing.training import make_examples, make_tiny_model

    folder = make_tiny_model(cbt_train.cached_base_model(), tmp_path / "tiny")
    model = AutoModelForCausalLM.from_pretrained(folder).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    backend = type("B", (), {"model": model, "tokenizer": tokenizer})()
    examples = [ChatExample.model_validate(e) for e in make_examples(2)]
    got = test_losses(type("A", (), {"backend": backend})(), examples, folder)
    sums = {"assistant": [0.0, 0], "all": [0.0, 0]}
    for ex in examples:
        messages = [m.model_dump() for m in ex.messages]
        prompt = tokenizer.apply_chat_template(messages[:-1], tokenize=False,
                                               add_generation_prompt=True)
        full = tokenizer.apply_chat_template(messages, tokenize=False)
        ids = tokenizer(full, add_special_tokens=False, return_tensors="pt").input_ids
        cut = len(tokenizer(prompt, add_special_tokens=False).input_ids)
        answer = ids.clone()
        answer[:, :cut] = -100
        for kind, labels in (("assistant", answer), ("all", ids)):
            with torch.no_grad():
                loss = float(model(input_ids=ids, labels=labels).loss)
            n = int((labels[:, 1:] != -100).sum())
            sums[kind][0] += loss * n
            sums[kind][1] += n
    for kind, (total, n) in sums.items():
        assert got[kind] == pytest.approx(total / n, rel=1e-5)
    assert got["assistant"] != pytest.approx(got["all"])
    assert test_losses(type("A", (), {"backend": object()})(), examples, folder) == {
        "assistant": None, "all": None}


def test_evaluation_scores_the_answers_as_inference_read_them(monkeypatch) -> None:
    """Each answer is parsed once, by inference (StudentTask.parse in from_generation), and
    evaluation scores that reading: every finding it read, also from an answer cut off before
    its closing (no Assessment, yet its distortions count)."""
    from cbt_schema import parse_assessment
    from cbt_schema.student import StudentTask

    whole = _answer(D.LABELING, D.MAGNIFICATION)
    cut = whole.replace("Be kind to yourself.", "")
    answers = [whole, cut, "I'm not sure what to say."]
    read: list[str] = []
    monkeypatch.setattr(StudentTask, "parse",
                        staticmethod(lambda text: read.append(text) or parse_assessment(text)))
    results = Assessor(CannedBackend(answers), "Spot distortions.").assess_many(
        ["I always fail."] * 3, screen_input=False, progress=False)
    assert read == answers
    preds = predict(Assessor(CannedBackend(answers), "Spot distortions."), ["I always fail."] * 3,
                    EvalParams(batch_size=2), seed=0)
    assert read == answers * 2  # once per answer, never again by evaluation
    assert results[1].assessment is None and len(results[1].findings) == 2
    assert preds.labels == [frozenset(f.distortion.value for f in r.findings) for r in results]
    assert preds.labels == [frozenset(d.value for d in parse_assessment(a).distortions)
                            for a in answers]
    assert preds.findings == [2, 2, 0] and preds.parsed == [True, False, False]
    assert preds.quotes == [[True, True], [True, True], []]


def test_test_loss_is_trainings_loss_on_the_same_example(tmp_path) -> None:
    """One example: evaluation's losses are cbt_train.losses' over the tokens training finds
    (cbt_train.chat_template.encode). With Llama 3's template, where nothing follows the
    reply's end-of-turn token, both figures are training's own; with SmolLM2's, `all` is, and
    `assistant` covers training's assistant tokens plus the newline the template writes after
    the reply."""
    cbt_train = pytest.importorskip("cbt_train.base_model")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from cbt_eval.predict import test_losses
    from cbt_schema.records import ChatExample
    from cbt_testing.training import make_examples, make_llama3_model, make_tiny_model
    from cbt_train.chat_template import encode, training_template
    from cbt_train.losses import split_losses

    base = cbt_train.cached_base_model()
    example = [ChatExample.model_validate(e) for e in make_examples(1)]
    rows = [{"messages": [m.model_dump() for m in ex.messages]} for ex in example]
    for folder in (make_tiny_model(base, tmp_path / "smollm2"),
                   make_llama3_model(base, tmp_path / "llama3")):
        model = AutoModelForCausalLM.from_pretrained(folder).eval()
        tokenizer = AutoTokenizer.from_pretrained(folder)
        backend = type("B", (), {"model": model, "tokenizer": tokenizer})()
        evaluated = test_losses(type("A", (), {"backend": backend})(), example, folder)
        (trained,) = encode(rows, tokenizer, training_template(tokenizer, folder), None)
        training = split_losses(model, [trained], batch_size=1)
        assert evaluated["all"] == training["all"]
        # one past training's last assistant token: what follows is the template's own
        last = len(trained.ids) - trained.assistant[::-1].index(1)
        assert trained.reply_to_end().assistant == (trained.assistant[:last]
                                                    + [1] * (len(trained.ids) - last))
        trailing = tokenizer.decode(trained.ids[last:])
        if folder.name == "llama3":
            assert trailing == "" and evaluated["assistant"] == training["assistant"]
        else:
            assert trailing == "\n" and evaluated["assistant"] == split_losses(
                model, [trained.reply_to_end()], batch_size=1)["assistant"]
            assert evaluated["assistant"] != training["assistant"]


def test_quote_fidelity_per_system_and_zero_for_the_guessers(tmp_path, monkeypatch) -> None:
    """The student's findings quote the situation or invent; the baseline's answers do not
    parse (no findings: no figure); the guessers quote nothing."""
    from cbt_eval import evaluate
    from cbt_eval.report import markdown_report
    from cbt_schema import ChatExample, ChatMessage
    from cbt_schema.jsonl import write_jsonl

    situations = ["My friend forgot to call me on my birthday. I don't matter to anyone.",
                  "I got 80% on my exam. Anything below perfect means I'm stupid."]
    quoted = [[(D.OVERGENERALIZATION, "I don't matter to anyone")],
              [(D.ALL_OR_NOTHING, "anything below perfect means i'm stupid!"),
               (D.LABELING, "I'm the worst student ever"),  # never written
               (D.MAGNIFICATION, "My life is ruined")]]  # never written
    student = [render_assessment(Assessment(
        validation="That sounds hard.", closing="Be kind to yourself.",
        findings=[Finding(distortion=d, thought=t, challenge="Is that fair?") for d, t in q]))
        for q in quoted]
    write_jsonl(tmp_path / "test.jsonl", [ChatExample(
        id=f"t{i}", distortions=[q[0][0]], messages=[
            ChatMessage(role="system", content="Spot distortions."),
            ChatMessage(role="user", content=text),
            ChatMessage(role="assistant", content=student[i])])
        for i, (text, q) in enumerate(zip(situations, quoted, strict=True))])
    monkeypatch.setattr(evaluate, "load_assessor", lambda base, adapter, *a: Assessor(
        CannedBackend(student if adapter else ["I hear you."] * 2), "Spot distortions."))
    results, _, _ = evaluate.run_evaluation(tmp_path / "test.jsonl", tmp_path, tmp_path / "a",
                                            EvalParams(bootstrap=0), seed=0)
    metrics = evaluate.headline(results)
    assert metrics["student"]["quote_fidelity"] == pytest.approx(2 / 4)
    assert "quote_fidelity" not in metrics["baseline"]  # no findings: not measurable
    for guesser in ("all_labels", "most_frequent_k", "prevalence"):
        assert metrics["reference"][guesser]["quote_fidelity"] == 0.0
    report = markdown_report(results, [])
    assert "| quote fidelity | 0.500 | – | 0.000 | 0.000 | 0.000 |" in report
