"""Teachers side by side: audit JSONs (cbt-eval teacher) -> reports/teachers.md + a DVC plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cbt_schema import UserError

COLUMNS = ("teacher", "data", "texts", "micro F1", "macro F1", "weighted F1", "binary F1",
           "mean κ", "macro F1 over best guesser", "Fleiss κ", "$ / text", "requests/s",
           "repaired", "quarantined")
PLOTTED = ("micro_f1", "macro_f1", "weighted_f1", "binary_f1", "mean_kappa")


def load_audits(paths: list[Path]) -> list[dict[str, Any]]:
    audits = []
    for path in paths:
        try:
            report = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UserError(f"{path}: cannot read an audit report ({exc})") from None
        if not isinstance(report, dict) or "metrics" not in report or "teacher" not in report:
            raise UserError(f"{path}: not a `cbt-eval teacher` report")
        audits.append({**report, "source": _shown(path)})
    return audits


def _shown(path: Path) -> str:
    """The path relative to the working directory when it lies under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _value(metrics: dict[str, Any], key: str) -> str:
    value, ci = metrics.get(key), metrics.get("ci", {}).get(key)
    if value is None:
        return "n/m"
    return f"{value:.3f}" + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else "")


def row(audit: dict[str, Any]) -> list[str]:
    m, cost, rep = audit["metrics"], audit["cost"], audit["replies"]
    kappa = (audit.get("consensus") or {}).get("fleiss_kappa")
    margin = m["margin"]
    return [audit.get("label") or f"{audit['teacher']['provider']}:{audit['teacher']['model']}",
            Path(audit["data"].get("file", "")).name, str(audit["texts"]["scored"]),
            _value(m, "micro_f1"), _value(m, "macro_f1"), _value(m, "weighted_f1"),
            _value(m, "binary_f1"), f"{m['mean_kappa']:.3f}",
            f"{margin['macro_f1']:+.3f} ({margin['over']})",
            "–" if kappa is None and not audit.get("consensus") else
            ("n/m" if kappa is None else f"{kappa:.3f}"),
            f"{cost['usd_per_text']:.5f}", str(cost["requests_per_second"]),
            f"{rep['repaired_share']:.0%}", f"{rep['quarantined_share']:.0%}"]


def markdown(audits: list[dict[str, Any]]) -> str:
    lines = ["# Teachers side by side", "",
             "Written by `cbt-eval teachers-report` from the audit reports listed below "
             "(`cbt-eval teacher`). Brackets: 95% bootstrap intervals. n/m: not measurable "
             "(binary F1 needs texts without a distortion in the gold set). Fleiss κ: "
             "agreement of the k samples (teacher.samples > 1). A label that says simulated "
             "is the wire-level stand-in, not a real model: its figures test the machinery.",
             "", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(row(a)) + " |" for a in audits]
    lines += ["", "Sources:", ""]
    for a in audits:
        stop = f"; stopped early: {a['stopped']}" if a.get("stopped") else ""
        lines.append(f"- `{a['source']}`: {a['teacher']['provider']} {a['teacher']['model']}, "
                     f"k={a['teacher']['samples']}, prompt {a['teacher']['prompt']} "
                     f"(sha256 {a['teacher']['prompt_sha256'][:12]}){stop}")
    return "\n".join(lines) + "\n"


def plot_rows(audits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (metric, teacher), for `dvc plots` (a horizontal bar each: y `row`)."""
    rows = []
    for key in PLOTTED:
        for a in audits:
            if a["metrics"].get(key) is not None:
                teacher = a.get("label") or a["teacher"]["model"]
                rows.append({"row": f"{key} · {teacher}", "metric": key, "teacher": teacher,
                             "value": round(a["metrics"][key], 4)})
    return rows


def write_report(paths: list[Path], out: Path, plot: Path) -> None:
    from cbt_schema.jsonl import write_json

    audits = load_audits(paths)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(markdown(audits), encoding="utf-8")
    write_json(plot, plot_rows(audits))
