"""The Markdown report and the DVC plot files of an evaluation."""

from __future__ import annotations

import csv
from pathlib import Path

from cbt_schema import DISTORTIONS, Distortion

ROWS = [("mean_kappa", "mean Cohen's kappa"), ("macro_f1", "macro F1"),
        ("micro_f1", "micro F1"), ("weighted_f1", "weighted F1"),
        ("binary_f1", "distorted-or-not F1"), ("exact_set_accuracy", "exact-set accuracy"),
        ("quote_fidelity", "quote fidelity"),
        ("format_validity", "format validity"), ("mean_findings", "findings per answer"),
        ("test_loss", "test loss (answer tokens)"),
        ("test_loss_all_tokens", "test loss (all tokens)"), ("perplexity", "perplexity")]
GUESSERS = [("all_labels", "all ten labels"), ("most_frequent_k", "most frequent k"),
            ("prevalence", "prevalence draws")]
# figures shown with fewer than 3 decimals: perplexity is exp(loss), so a loss that moves
# within train.loss_tolerance (0.001) moves a perplexity of 13.5 by about 0.01
DIGITS = {"perplexity": 1}


def _fmt(value: object, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{round(value, digits) + 0.0:.{digits}f}"  # no "-0.000"
    return str(value)


def _cell(system: dict, key: str) -> str:
    ci = system.get("ci", {}).get(key)
    text = _fmt(system.get(key), DIGITS.get(key, 3))
    return f"{text} [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else text


def _title(label: str) -> str:
    return DISTORTIONS[Distortion(label)].title


def _margin(system: dict) -> str:
    m = system["margin"]
    ci = f" [{m['ci95'][0]:+.2f}, {m['ci95'][1]:+.2f}]" if m.get("ci95") else ""
    return f"{m['macro_f1']:+.3f}{ci}"


def headline_lines(results: dict, systems: list[str]) -> list[str]:
    """The chance-corrected figures first, each model's verdict in plain words."""
    over = results[systems[0]]["margin"]["over"]
    lines = ["## Against trivial guessers", "",
             f"A guesser that never reads the text, built from these gold labels, is the bar to "
             f"clear (the best one here by macro F1: {dict(GUESSERS)[over]}).", "",
             "| | " + " | ".join(systems) + " |", "|---|" + "---|" * len(systems),
             "| mean Cohen's kappa | " + " | ".join(_cell(results[s], "mean_kappa")
                                                   for s in systems) + " |",
             "| macro F1 | " + " | ".join(_cell(results[s], "macro_f1") for s in systems) + " |",
             "| macro F1 margin over the best guesser | " + " | ".join(
                 _margin(results[s]) for s in systems) + " |", ""]
    for s in systems:
        lines.append(f"- The {s} **{results[s]['margin']['verdict']}** (macro F1 margin "
                     f"{_margin(results[s])}).")
    return [*lines, ""]


def markdown_report(results: dict, examples: list[dict], caveat: str = "") -> str:
    """results: {"student": {...}, "baseline": {...}, "reference": {...}, "n": int};
    examples: worked examples."""
    systems = [name for name in ("student", "baseline") if name in results]
    reference = results.get("reference", {})
    guessers = [(k, name) for k, name in GUESSERS if k in reference]
    lines = ["# Evaluation: distortion detection against the teacher's labels", ""]
    if caveat:
        lines += [f"> {caveat}", ""]
    lines += [f"Test examples: {results.get('n', '?')}. Square brackets: bootstrap 95% "
              "confidence interval.", ""]
    if reference:
        lines += headline_lines(results, systems)
    names = systems + [name for _, name in guessers]
    lines += ["## All figures, beside the guessers", "",
              "| metric | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for key, name in ROWS:
        cells = [_cell(results[s], key) for s in systems]
        cells += [_cell(reference[k], key) if key in reference[k] else "–" for k, _ in guessers]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "Quote fidelity: the share of a model's findings whose quoted thought is in the "
                  "person's own words (matched loosely: case, punctuation, a small edit); the "
                  "guessers quote nothing, so theirs is 0."]
    if reference:
        always = reference["always_distorted"]
        lines += ["", f"Calling every text distorted scores distorted-or-not F1 "
                      f"{_fmt(always.get('binary_f1'))}"
                      f"{' (' + always['note'] + ')' if 'note' in always else ''}; the most "
                      f"frequent k guesser names k = {reference.get('k')} labels."]
    lines += ["", "## Per distortion (F1 and Cohen's kappa, support)", "",
              "| distortion | support | " + " | ".join(f"{s} F1 | {s} kappa" for s in systems)
              + " |", "|---|---|" + "---|---|" * len(systems)]
    first = results[systems[0]]["per_class"]
    for label in first:
        support = first[label]["support"]
        cells = [f"{_fmt(results[s]['per_class'][label]['f1'])} | "
                 f"{_fmt(results[s]['per_class'][label]['kappa'])}" for s in systems]
        lines.append(f"| {_title(label)} | {support} | " + " | ".join(cells) + " |")
    lines += ["", "## Worked examples", ""]
    for i, ex in enumerate(examples, 1):
        lines += [f"### Example {i}", "", f"**Situation.** {ex['situation']}", ""]
        for who in ("teacher", "student", "baseline"):
            if who in ex:
                found = ", ".join(_title(x) for x in sorted(ex[who])) or "none"
                lines.append(f"- **{who.capitalize()} findings:** {found}")
        lines.append("")
    return "\n".join(lines)


def write_plots(out_dir: Path, results: dict, cooccurrence: dict[str, dict]) -> None:
    """per_class.csv (for a bar plot) and confusion.csv (gold vs predicted label pairs)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / "per_class.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["distortion", "system", "precision", "recall", "f1", "kappa",
                         "support"])
        for system in ("student", "baseline"):
            for label, c in results.get(system, {}).get("per_class", {}).items():
                writer.writerow([label, system, f"{c['precision']:.4f}", f"{c['recall']:.4f}",
                                 f"{c['f1']:.4f}", f"{c['kappa'] + 0.0:.4f}", c["support"]])
    with (out_dir / "confusion.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["system", "actual", "predicted"])
        for system, pairs in cooccurrence.items():
            for actual, predicted in pairs:
                writer.writerow([system, actual, predicted])


def label_pairs(gold: list[frozenset[str]], pred: list[frozenset[str]]) -> list[tuple[str, str]]:
    """Gold/predicted pairs for a confusion plot; "none" stands for a missed or extra label."""
    pairs = []
    for g, p in zip(gold, pred, strict=True):
        for label in g & p:
            pairs.append((label, label))
        missed, extra = sorted(g - p), sorted(p - g)
        for i in range(max(len(missed), len(extra))):
            pairs.append((missed[i] if i < len(missed) else "none",
                          extra[i] if i < len(extra) else "none"))
        if not g and not p:
            pairs.append(("none", "none"))
    return pairs
