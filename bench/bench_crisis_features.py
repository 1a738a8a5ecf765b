"""How the crisis probe's features were chosen: depth and pooling of the pinned SmolLM2 GGUF on
llama.cpp, and the logistic regression's L2, by 5-fold cross-validation on safety/train only
(the held-out sets are not read here).

  uv run python bench/bench_crisis_features.py [--base models/local]

For each depth (the GGUF cut to its first N blocks), pooling (the mean over the tokens, the
last token, both) and L2: the out-of-fold AUC, and the share of ordinary training texts shown
resources when the thresholds are chosen as the crisis_probe stage chooses them (97% recall of
"resources shown", at most 5% of ordinary texts to resources only). The rule: the lowest such
share, then the higher AUC, then the shallower (cheaper) encoder. Writes
bench/results/crisis_features.json.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from cbt_testing.bench import write_results

ROOT = Path(__file__).resolve().parents[1]
DEPTHS = (10, 20, 30)
POOLINGS = {"mean": slice(0, 1), "last": slice(1, 2), "mean+last": slice(0, 2)}
L2S = (0.01, 0.03, 0.1)


def features(base: Path, texts: list[str]) -> dict[int, tuple[object, float]]:
    """Per depth: the [mean, last] features of every text, and the seconds per text."""
    from cbt_infer.crisis_probe import Encoder
    from cbt_infer.gguf_tools import truncate_layers
    from cbt_infer.probe_cli import pinned_gguf

    source, _ = pinned_gguf(base)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for depth in DEPTHS:
            gguf = source if depth == 30 else Path(tmp) / f"l{depth}.gguf"
            if depth != 30:
                truncate_layers(source, gguf, depth)
            encoder = Encoder(gguf)
            start = time.perf_counter()
            out[depth] = (encoder(texts, progress=f"depth {depth}"),
                          (time.perf_counter() - start) / len(texts))
    return out


def auc(probs: list[float], labels: list[int]) -> float:
    pos = [p for p, y in zip(probs, labels, strict=True) if y]
    neg = [p for p, y in zip(probs, labels, strict=True) if not y]
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base", type=Path, default=ROOT / "models/local")
    args = p.parse_args()
    import numpy as np

    from cbt_infer import crisis_probe
    from cbt_infer.probe_cli import (
        _labelled,
        cross_validated,
        measure,
        read_phrases,
        thresholds_for,
    )

    train = ROOT / "safety/train"
    crisis = [t for f in sorted(train.glob("crisis*.txt")) for t in read_phrases(f)]
    ordinary = [t for f in sorted(train.glob("ordinary*.txt")) for t in read_phrases(f)]
    texts, labels = _labelled(crisis, ordinary)
    width = None
    rows = []
    for depth, (feats, seconds) in features(args.base, texts).items():
        width = width or feats.shape[1] // 2
        for pooling, part in POOLINGS.items():
            x = np.hstack([feats[:, k * width:(k + 1) * width]
                           for k in range(part.start, part.stop)])
            for l2 in L2S:
                oof = cross_validated(x, labels, seed=0, l2=l2)
                thresholds = thresholds_for(texts, labels, oof, 0.97, 0.05)
                shown = measure(texts, labels, oof, thresholds)["resources_shown"]
                rows.append({"depth": depth, "pooling": pooling, "l2": l2,
                             "auc": round(auc(oof, labels), 4),
                             "ordinary_shown": shown["false_positive_rate"],
                             "recall_shown": shown["recall"],
                             "ms_per_text": round(1000 * seconds, 1)})
    chosen = min(rows, key=lambda r: (r["ordinary_shown"], -r["auc"], r["depth"]))
    write_results("crisis_features", {
        "on": "safety/train, 5-fold cross-validated (held-out sets not read)",
        "texts": {"crisis": len(crisis), "ordinary": len(ordinary)},
        "rule": "the lowest ordinary_shown, then the highest auc, then the shallower",
        "chosen": chosen,
        "in_use": {"depth": crisis_probe.ENCODER_LAYERS,
                   "pooling": "+".join(crisis_probe.POOLING), "l2": crisis_probe.L2},
        "candidates": rows})


if __name__ == "__main__":
    main()
