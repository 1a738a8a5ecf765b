from pathlib import Path

import pytest

from cbt_schema import Seed, UserError
from cbt_schema.jsonl import JsonlAppender, read_jsonl, read_jsonl_tolerant, write_jsonl

SEED = Seed(id="seed-1", sex="female", age=30, occupation="nurse",
            relationship_status="single", emotion="Worry")


def test_write_then_read(tmp_path: Path) -> None:
    path = tmp_path / "a" / "seeds.jsonl"
    assert write_jsonl(path, [SEED, SEED]) == 2
    assert read_jsonl(path, Seed) == [SEED, SEED]


def test_bad_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "seeds.jsonl"
    path.write_text(SEED.model_dump_json() + "\n{oops\n")
    with pytest.raises(UserError, match=r"seeds.jsonl:2: not valid JSON"):
        read_jsonl(path, Seed)
    path.write_text(SEED.model_dump_json() + "\n" + '{"id": "x"}\n')
    with pytest.raises(UserError, match=r"seeds.jsonl:2: sex: Field required \(\+4 more\)"):
        read_jsonl(path, Seed)


def test_appender_and_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    with JsonlAppender(path) as out:
        out.append(SEED)
    with path.open("a") as fh:
        fh.write('{"id": "seed-2", "sex": "fem')  # a crash mid-write
    records, bad = read_jsonl_tolerant(path, Seed)
    assert records == [SEED] and bad == [2]
