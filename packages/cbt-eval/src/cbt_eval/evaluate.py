"""The `evaluate` stage: student vs untuned base on the test split, scored on the teacher's
labels, with bootstrap intervals, a Markdown report and DVC plots."""

from __future__ import annotations

from pathlib import Path

from cbt_eval.guessers import MULTI, margin, reference_scores
from cbt_eval.metrics import HEADLINE, bootstrap_ci, score
from cbt_eval.predict import load_assessor, perplexity, predict, release, test_losses
from cbt_eval.report import label_pairs, markdown_report, write_plots
from cbt_schema import ChatExample, Distortion, UserError
from cbt_schema.jsonl import read_jsonl, write_json
from cbt_schema.params import EvalParams, PipelineParams
from cbt_schema.timings import write_timings

LABELS = [d.value for d in Distortion]


def caveat_for(params: PipelineParams) -> str:
    """What a reader must know about these figures, from the profile that produced them."""
    teacher = f"{params.teacher.model} ({params.teacher.provider})"
    student = (params.base_model.name if params.base_model.source == "hub"
               else "SmolLM2-135M-Instruct")
    if params.teacher.provider == "file":
        return (f"{params.profile.capitalize()} profile: student {student}, trained on imported "
                "assessments and scored against the distortions the parser read from them, "
                "not a clinician's labels: these figures measure agreement with that data.")
    if params.teacher.provider == "local":
        return (f"{params.profile.capitalize()} profile: the teacher is {teacher} and the "
                f"student {student}, so these figures show the machinery working, not "
                "clinical quality.")
    return (f"{params.profile.capitalize()} profile: student {student}, scored against the "
            f"labels of the teacher {teacher}, not a clinician's: these figures measure "
            "agreement with the teacher.")


def load_test(path: Path, limit: int | None) -> list[ChatExample]:
    examples = read_jsonl(path, ChatExample)
    if not examples:
        raise UserError(f"{path}: the test split is empty; nothing to evaluate")
    for ex in examples:
        roles = [m.role for m in ex.messages]
        if roles[-2:] != ["user", "assistant"]:
            raise UserError(f"{path}: example {ex.id}: expected the last two messages to be "
                            f"user and assistant, got {roles}")
    return examples[:limit] if limit else examples


def system_scores(gold: list[frozenset[str]], preds, losses: dict[str, float | None],
                  params: EvalParams, seed: int, reference: dict) -> dict:
    result = score(gold, preds.labels, LABELS)
    result["ci"] = bootstrap_ci(gold, preds.labels, LABELS, resamples=params.bootstrap, seed=seed)
    result["margin"] = margin(gold, preds.labels, reference, LABELS, resamples=params.bootstrap,
                              seed=seed)
    result.update(format_validity=preds.format_validity, mean_findings=preds.mean_findings,
                  quote_fidelity=preds.quote_fidelity,
                  seconds_per_example=preds.seconds_per_example, test_loss=losses["assistant"],
                  test_loss_all_tokens=losses["all"], perplexity=perplexity(losses["assistant"]))
    return result


def run_evaluation(test: Path, base: Path, adapter: Path | None, params: EvalParams, seed: int,
                   systems: tuple[str, ...] = ("student", "baseline"),
                   gguf: Path | None = None) -> tuple[dict, list[dict], dict]:
    """Score each system; return (results, worked examples, gold/predicted label pairs)."""
    examples = load_test(test, params.limit)
    situations = [ex.messages[-2].content for ex in examples]
    gold = [frozenset(d.value for d in ex.distortions) for ex in examples]
    results: dict = {"n": len(examples),
                     "reference": reference_scores(gold, LABELS, resamples=params.bootstrap,
                                                   seed=seed)}
    answers: dict[str, list[frozenset[str]]] = {}
    asked: str | None = None  # the student's own prompt (it carries it); the baseline's too
    for name in systems:
        assessor = load_assessor(base, adapter if name == "student" else None, params,
                                 asked, gguf if name == "student" else None)
        asked = asked or assessor.system_prompt
        preds = predict(assessor, situations, params, seed)
        results[name] = system_scores(gold, preds, test_losses(assessor, examples, base),
                                      params, seed, results["reference"])
        answers[name] = preds.labels
        release(assessor)
    worked = [{"situation": situations[i], "teacher": gold[i],
               **{name: answers[name][i] for name in systems}}
              for i in range(min(5, len(examples)))]
    pairs = {name: label_pairs(gold, answers[name]) for name in systems}
    return results, worked, pairs


def headline(results: dict) -> dict:
    """The metrics file: headline figures and intervals per system and per reference guesser
    (per-class figures are in the plots), each model's margin over the best guesser. Seconds
    per example are not a result: write_outputs puts them in timings/evaluate.json."""
    keep = (*HEADLINE, "mean_kappa", "quote_fidelity", "format_validity", "mean_findings",
            "test_loss", "test_loss_all_tokens", "perplexity", "micro_precision",
            "micro_recall")
    out: dict = {"n": results["n"]}
    for name in ("student", "baseline"):
        if name in results:
            system = results[name]
            out[name] = {k: system[k] for k in keep if system.get(k) is not None}
            out[name]["ci95"] = {k: v for k, v in system["ci"].items()}
            out[name]["margin_over_best_guesser"] = system["margin"]
    reference = results["reference"]
    out["reference"] = {name: {**{k: reference[name][k]
                                  for k in (*HEADLINE, "mean_kappa", "quote_fidelity")
                                  if reference[name].get(k) is not None},
                               "ci95": reference[name]["ci"]} for name in MULTI}
    out["reference"]["always_distorted"] = reference["always_distorted"]
    out["reference"]["most_frequent_k"]["k"] = reference["k"]
    return out


def write_outputs(results: dict, worked: list[dict], pairs: dict, metrics: Path, report: Path,
                  plots: Path, caveat: str = "") -> None:
    write_json(metrics, headline(results))
    write_timings("evaluate", {name: {"seconds_per_example": results[name]["seconds_per_example"]}
                               for name in ("student", "baseline") if name in results})
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(markdown_report(results, worked, caveat) + "\n", encoding="utf-8")
    write_plots(plots, results, pairs)
