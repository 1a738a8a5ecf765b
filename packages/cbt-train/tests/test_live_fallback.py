"""Without dvclive installed, the loss curves are written in dvclive's own layout."""

import json
from pathlib import Path

from cbt_train.callbacks import _PlainLive


def _log(live, steps: list[tuple[int, float, float]]) -> None:
    for step, loss, eval_loss in steps:
        live.step = step
        live.log_metric("train/loss", loss)
        live.log_metric("eval/loss", eval_loss)
    live.summary["final"] = 1.0
    live.make_summary()
    live.end()


def test_plain_writer_matches_dvclive_files(tmp_path: Path) -> None:
    from dvclive import Live

    steps = [(1, 2.5, 2.6), (2, 2.0, 2.2)]
    real = Live(str(tmp_path / "real"), dvcyaml=None, save_dvc_exp=False, report=None,
                monitor_system=False)
    _log(real, steps)
    _log(_PlainLive(str(tmp_path / "plain"), resume=False), steps)
    for name in ("train/loss.tsv", "eval/loss.tsv"):
        real_tsv = (tmp_path / "real/plots/metrics" / name).read_text()
        assert (tmp_path / "plain/plots/metrics" / name).read_text() == real_tsv
    summaries = [json.loads((tmp_path / k / "metrics.json").read_text())
                 for k in ("plain", "real")]
    assert summaries[0] == summaries[1]
