"""A one-page PNG summary of the dataset (the paper's Figure 1, and more)."""

from __future__ import annotations

from pathlib import Path

from cbt_dataset.report import Report
from cbt_schema import Distortion

TOP_OCCUPATIONS = 15


def _bars(ax, rows: list[dict], label: str, value: str, title: str, *, sort: bool = True,
          limit: int | None = None, color: str = "#4c72b0") -> None:
    rows = sorted(rows, key=lambda r: r[value], reverse=True) if sort else list(rows)
    hidden = len(rows) - limit if limit and len(rows) > limit else 0
    rows = rows[:limit] if limit else rows
    names = [str(r[label]) for r in rows][::-1]
    ax.barh(names, [r[value] for r in rows][::-1], color=color)
    ax.set_title(title + (f" (top {limit}; {hidden} more)" if hidden else ""), fontsize=10)
    ax.tick_params(axis="y", labelsize=7 if len(rows) > 20 else 8)
    ax.tick_params(axis="x", labelsize=8)
    ax.margins(y=0.01)


def _emotions(ax, rows: list[dict]) -> None:
    rows = sorted(rows, key=lambda r: (r["count"], r["emotion"]))
    names = [r["emotion"] for r in rows]
    train = [r["train"] for r in rows]
    ax.barh(names, train, color="#4c72b0", label="train")
    ax.barh(names, [r["test"] for r in rows], left=train, color="#c44e52", label="test")
    ax.set_title("Emotion (train + test)", fontsize=10)
    ax.tick_params(axis="y", labelsize=7 if len(rows) > 20 else 8)
    ax.tick_params(axis="x", labelsize=8)
    ax.legend(fontsize=8, loc="lower right")
    ax.margins(y=0.01)


def _heatmap(ax, report: Report) -> None:
    import numpy as np

    names = list(Distortion)
    index = {d.title: k for k, d in enumerate(names)}
    grid = np.zeros((len(names), len(names)), dtype=int)
    for row in report.tables["distortion"]:
        k = index[row["distortion"]]
        grid[k, k] = row["assessments"]
    for row in report.tables["cooccurrence"]:
        a, b = row["pair"].split(" + ")
        grid[index[a], index[b]] = grid[index[b], index[a]] = row["assessments"]
    image = ax.imshow(grid, cmap="Blues")
    short = [d.title.replace(" thinking", "").replace("Discounting the", "Discounting")
             for d in names]
    ax.set_xticks(range(len(names)), short, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(names)), short, fontsize=7)
    for (i, j), v in np.ndenumerate(grid):
        if v:
            ax.text(j, i, str(v), ha="center", va="center", fontsize=6,
                    color="white" if v > grid.max() / 2 else "black")
    ax.set_title("Distortion co-occurrence (diagonal: assessments with it)", fontsize=10)
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)


def render_figure(report: Report, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(20, 15), dpi=80, layout="constrained")
    grid = fig.add_gridspec(3, 4)
    t = report.tables
    _emotions(fig.add_subplot(grid[:, 0]), t["emotion"])
    _bars(fig.add_subplot(grid[0, 1]), t["sex"], "sex", "count", "Sex")
    _bars(fig.add_subplot(grid[0, 2]), t["age_band"], "age_band", "count", "Age band",
          sort=False)
    _bars(fig.add_subplot(grid[0, 3]), t["relationship_status"], "relationship_status",
          "count", "Relationship status")
    _bars(fig.add_subplot(grid[1, 1]), t["occupation"], "occupation", "count", "Occupation",
          limit=TOP_OCCUPATIONS)
    _bars(fig.add_subplot(grid[1, 2]), t["distortion"], "distortion", "assessments",
          "Distortions (assessments naming each)", color="#dd8452")
    _heatmap(fig.add_subplot(grid[1, 3]), report)
    ax = fig.add_subplot(grid[2, 1])
    rows = t["findings_per_assessment"]
    ax.bar([r["findings"] for r in rows], [r["assessments"] for r in rows], color="#55a868")
    ax.set_title("Findings per assessment", fontsize=10)
    ax.set_xlabel("findings", fontsize=8)
    for col, key, value, name in ((2, "event_words", "events", "Event length (words)"),
                                  (3, "assessment_words", "assessments",
                                   "Assessment length (words)")):
        ax = fig.add_subplot(grid[2, col])
        rows = t[key]
        ax.bar(range(len(rows)), [r[value] for r in rows], color="#8172b3")
        step = max(1, len(rows) // 8)
        ax.set_xticks(range(0, len(rows), step), [r["words"] for r in rows][::step],
                      rotation=30, fontsize=7)
        ax.set_title(name, fontsize=10)
    fig.suptitle(title, fontsize=13)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
