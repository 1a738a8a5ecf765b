"""Results change only when a result changes: no committed metrics file and no model card holds
a wall time, a speed, memory, a load average or a timestamp (those go to timings/, git-ignored).
"""

from __future__ import annotations

import json
import re

from cbt_schema.params import TrainParams
from cbt_testing import ROOT

# a key (its last part) or card text that names a timing rather than a result
TIMING_KEY = re.compile(r"s_per_step|tokens_per_s|per_second|wall|seconds|rss|load_av|"
                        r"timestamp|(^|_)time(_|$)|_s$|_ms$|peak_gpu", re.I)
TIMING_TEXT = re.compile(r"s/step|tokens/s|train time|seconds|\bwall\b|\brss\b|load average|"
                         r"timestamp|peak (gpu|memory)", re.I)
TRACKED = [*sorted((ROOT / "metrics").glob("*.json")), ROOT / "dvclive/train/metrics.json"]


def _keys(value: object, prefix: str = "") -> list[str]:
    if isinstance(value, dict):
        return [k for key, sub in value.items() for k in _keys(sub, f"{prefix}{key}.")]
    return [prefix.rstrip(".")]


def test_committed_metrics_hold_no_timing() -> None:
    assert len(TRACKED) > 2
    for path in TRACKED:
        keys = _keys(json.loads(path.read_text(encoding="utf-8")))
        timing = [k for k in keys if TIMING_KEY.search(k.rsplit(".", 1)[-1])]
        assert not timing, f"{path.relative_to(ROOT)}: timings among the results: {timing}"


def test_the_model_card_shows_no_timing_even_when_given_one() -> None:
    from cbt_train.card import model_card

    metrics = json.loads((ROOT / "metrics/train.json").read_text(encoding="utf-8"))
    metrics |= {"tokens_per_s": 139.4, "s_per_step": 4.702, "train_s": 169.3, "wall_s": 269.3,
                "peak_rss_mb": 4115.5, "peak_gpu_mb": 1024.0}
    card = model_card(TrainParams(), 42, {"train": "a" * 64, "test": "b" * 64}, metrics)
    assert "| test loss (before -> after) |" in card
    found = sorted({m.group(0) for m in TIMING_TEXT.finditer(card)})
    assert not found, f"the model card names timings: {found}"


def test_the_patterns_catch_what_the_stages_used_to_write() -> None:
    for key in ("s_per_step", "tokens_per_s", "train_s", "wall_s", "peak_rss_mb", "peak_gpu_mb",
                "requests_per_second", "seconds_per_example", "load_average_1min", "timestamp"):
        assert TIMING_KEY.search(key), key
    for key in ("final_test_loss", "steps", "tokens", "requested", "thresholds", "cost_usd"):
        assert not TIMING_KEY.search(key), key
