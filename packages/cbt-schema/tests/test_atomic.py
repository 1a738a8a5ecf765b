"""Atomic writes: a crash mid-write leaves the old file or folder as it was, and no temp file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from cbt_schema.atomic import atomic_dir, atomic_path, write_atomic
from cbt_schema.jsonl import write_json, write_jsonl


class Crash(Exception):
    pass


def test_text_and_bytes_replace_the_file(tmp_path: Path) -> None:
    path = tmp_path / "new" / "notes.txt"
    write_atomic(path, "première\n")
    assert path.read_text(encoding="utf-8") == "première\n"
    write_atomic(path, b"\x00\x01")
    assert path.read_bytes() == b"\x00\x01"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # not mkstemp's 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["notes.txt"]


def test_a_crash_mid_write_leaves_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "metrics.json"
    path.write_text("old\n")
    with pytest.raises(Crash), atomic_path(path) as tmp:
        assert tmp.parent == path.parent and tmp.name.startswith(".metrics.json.")
        with tmp.open("w") as fh:
            fh.write("half of the new")
        raise Crash
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_a_crash_while_streaming_records_leaves_the_old_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    write_jsonl(path, [{"n": 1}])

    def records():
        yield {"n": 2}
        raise Crash

    with pytest.raises(Crash):
        write_jsonl(path, records())
    assert path.read_text() == '{"n": 1}\n'
    write_json(tmp_path / "m.json", {"b": 1, "a": 2})
    assert (tmp_path / "m.json").read_text() == '{\n  "a": 2,\n  "b": 1\n}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "rows.jsonl"]


def test_a_tool_may_write_the_temp_path_itself(tmp_path: Path) -> None:
    path = tmp_path / "model.gguf"
    with atomic_path(path) as tmp:
        tmp.unlink()  # a tool that refuses to overwrite, or writes a new file by rename
        tmp.write_bytes(b"GGUF")
    assert path.read_bytes() == b"GGUF" and len(list(tmp_path.iterdir())) == 1


def test_folder_replaced_whole_or_left_as_it_was(tmp_path: Path) -> None:
    out = tmp_path / "adapter"
    with atomic_dir(out) as tmp:
        (tmp / "a.txt").write_text("1")
    assert [p.name for p in out.iterdir()] == ["a.txt"]
    with pytest.raises(Crash), atomic_dir(out) as tmp:
        (tmp / "b.txt").write_text("half")
        raise Crash
    assert [p.name for p in out.iterdir()] == ["a.txt"]
    with atomic_dir(out) as tmp:
        (tmp / "c.txt").write_text("3")
    assert [p.name for p in out.iterdir()] == ["c.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["adapter"]  # no temp or old folder left
