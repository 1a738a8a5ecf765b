"""docs/teacher.md's teacher-audit block, rendered from bench/results/teacher_audit.json."""

from __future__ import annotations

import json

from render_measured import RESULTS, _source  # beside this script (sys.path[0])


def _f(value: float | None, ci: list[float] | None = None) -> str:
    if value is None:
        return "n/m"
    return f"{value:.2f}" + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else "")


def _rows(by_k: dict) -> list[str]:
    return [f"| {k} | {r['texts']} | {r['requests']} | {_f(r['micro_f1'], r['ci']['micro_f1'])} "
            f"| {_f(r['macro_f1'], r['ci']['macro_f1'])} | {_f(r['binary_f1'])} "
            f"| {_f(r['mean_kappa'])} | {_f(r['fleiss_kappa'])} | ${r['usd_per_text']:.5f} |"
            for k, r in by_k.items()]


def teacher_audit() -> str:
    path = RESULTS / "teacher_audit.json"
    if not path.is_file():
        return ("Not measured in a committed file: run `uv run python "
                "bench/bench_teacher_audit.py` and commit `bench/results/teacher_audit.json`.")
    data = json.loads(path.read_text())
    head = ["| k | texts | requests | micro F1 | macro F1 | binary F1 | mean Cohen's κ vs gold "
            "| Fleiss κ of the k samples | $ / text |", "|---|---|---|---|---|---|---|---|---|"]
    s = data["stand_in"]
    lines = [f"`bench/bench_teacher_audit.py` ({_source('teacher_audit', data)}); side by side "
             "in `reports/teachers.md`. Brackets: bootstrap 95% intervals.", "",
             f"**Stand-in, SIMULATED** (the loopback Claude at Haiku 5.5's table prices; its "
             f"token counts are the stand-in's): {s['texts']} synthetic texts whose gold labels "
             f"it knows, each of the ten labels flipped with chance {s['flip']} in every sample. "
             "This measures the merge, not a model:", "", *head, *_rows(s["by_k"])]
    if "local" in data:
        lines += ["", "**Local teacher** (SmolLM2-135M on 2 cores, a machinery check, not a "
                  f"judge of quality) on {data['local']['texts']}:", "", *head,
                  *_rows(data["local"]["by_k"])]
    return "\n".join(lines)


if __name__ == "__main__":
    print(teacher_audit())
