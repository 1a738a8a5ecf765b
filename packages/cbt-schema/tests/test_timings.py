"""Stage timings: one JSON file per stage under timings/, or under $CBT_TIMINGS_DIR."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cbt_schema.timings import TIMINGS_DIR_ENV, read_timings, timings_path, write_timings


def test_written_under_timings_of_the_root_and_read_back(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TIMINGS_DIR_ENV, raising=False)
    assert read_timings("train", root=tmp_path) == {}
    path = write_timings("train", {"s_per_step": 4.7, "wall_s": 269.3}, root=tmp_path)
    assert path == tmp_path / "timings/train.json"
    saved = json.loads(path.read_text())
    assert saved["s_per_step"] == 4.7 and saved["wall_s"] == 269.3
    assert len(saved["load_average"]) == 3  # what the machine was doing meanwhile
    assert read_timings("train", root=tmp_path) == saved
    assert [p.name for p in path.parent.iterdir()] == ["train.json"]  # atomic: no temp left


def test_the_current_directory_by_default(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TIMINGS_DIR_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    write_timings("evaluate", {"student": {"seconds_per_example": 4.1}})
    assert read_timings("evaluate")["student"] == {"seconds_per_example": 4.1}
    assert (tmp_path / "timings/evaluate.json").is_file()


def test_the_environment_names_another_folder(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TIMINGS_DIR_ENV, str(tmp_path / "elsewhere"))
    assert timings_path("events", root=tmp_path / "repo") == tmp_path / "elsewhere/events.json"
    monkeypatch.setenv(TIMINGS_DIR_ENV, "relative")
    assert timings_path("events", root=tmp_path) == tmp_path / "relative/events.json"
