"""The loss curves in dvclive's own layout, with or without dvclive installed, and never a
timestamp column."""

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

import dvclive
from cbt_train.callbacks import DvcLiveLogger, _PlainLive


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


def test_curves_have_no_timestamp_column_even_where_dvclive_would_add_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The logger asks for rows without timestamps, whatever dvclive's own default."""
    class TimestampingLive(dvclive.Live):  # a dvclive that stamps rows unless told not to
        def log_metric(self, name, val, timestamp=True, **kwargs):
            return super().log_metric(name, val, timestamp=timestamp, **kwargs)

    monkeypatch.setattr(dvclive, "Live", TimestampingLive)
    logger = DvcLiveLogger(tmp_path / "live", resume=False)
    for step, logs in ((0, {"eval_loss": 3.0}), (1, {"loss": 2.5, "learning_rate": 1e-3}),
                       (2, {"loss": 2.0, "learning_rate": 5e-4}), (2, {"eval_loss": 2.4})):
        logger.on_log(None, SimpleNamespace(global_step=step), None, logs=logs)
    logger.close({"final_test_loss": 2.4, "steps": 2})
    curves = tmp_path / "live/plots/metrics"
    assert (curves / "train/loss.tsv").read_text() == "step\tloss\n1\t2.5\n2\t2.0\n"
    assert (curves / "eval/loss.tsv").read_text() == "step\tloss\n0\t3.0\n2\t2.4\n"
    assert (curves / "train/learning_rate.tsv").read_text().splitlines()[0] == \
        "step\tlearning_rate"
    summary = json.loads((tmp_path / "live/metrics.json").read_text())
    assert "timestamp" not in json.dumps(summary) and summary["final_test_loss"] == 2.4
