"""The Markdown report and the DVC plot files of an evaluation."""

from __future__ import annotations

import csv
from pathlib import Path

from cbt_schema import DISTORTIONS, Distortion

ROWS = [("micro_f1", "micro F1"), ("macro_f1", "macro F1"), ("weighted_f1", "weighted F1"),
        ("binary_f1", "distorted-or-not F1"), ("exact_set_accuracy", "exact-set accuracy"),
        ("mean_kappa", "mean Cohen's kappa"), ("format_validity", "format validity"),
        ("mean_findings", "findings per answer"), ("test_loss", "test loss"),
        ("perplexity", "perplexity")]


def _fmt(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _cell(system: dict, key: str) -> str:
    ci = system.get("ci", {}).get(key)
    text = _fmt(system.get(key))
    return f"{text} [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else text


def _title(label: str) -> str:
    return DISTORTIONS[Distortion(label)].title


def markdown_report(results: dict, examples: list[dict], caveat: str = "") -> str:
    """results: {"student": {...}, "baseline": {...}, "n": int}; examples: worked examples."""
    systems = [name for name in ("student", "baseline") if name in results]
    lines = ["# Evaluation: distortion detection against the teacher's labels", ""]
    if caveat:
        lines += [f"> {caveat}", ""]
    lines += [f"Test examples: {results.get('n', '?')}. Square brackets: bootstrap 95% "
              "confidence interval.", "",
              "| metric | " + " | ".join(systems) + " |",
              "|---|" + "---|" * len(systems)]
    for key, name in ROWS:
        lines.append(f"| {name} | " + " | ".join(_cell(results[s], key) for s in systems) + " |")
    lines += ["", "## Per distortion (F1, support)", "",
              "| distortion | support | " + " | ".join(systems) + " |",
              "|---|---|" + "---|" * len(systems)]
    first = results[systems[0]]["per_class"]
    for label in first:
        support = first[label]["support"]
        cells = [f"{results[s]['per_class'][label]['f1']:.3f}" for s in systems]
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
        writer.writerow(["distortion", "system", "precision", "recall", "f1", "support"])
        for system in ("student", "baseline"):
            for label, c in results.get(system, {}).get("per_class", {}).items():
                writer.writerow([label, system, f"{c['precision']:.4f}", f"{c['recall']:.4f}",
                                 f"{c['f1']:.4f}", c["support"]])
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
