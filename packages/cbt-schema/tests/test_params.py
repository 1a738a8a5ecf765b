from pathlib import Path

import pytest

from cbt_schema import UserError
from cbt_schema.params import PipelineParams, load_params


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(text)
    return path


def test_defaults_are_a_valid_local_profile(tmp_path: Path) -> None:
    params = load_params(_write(tmp_path, "seeds:\n  n: 5\n"))
    assert params.profile == "local" and params.seeds.n == 5
    assert params == PipelineParams(seeds={"n": 5})


def test_unknown_key_names_file_key_and_allowed(tmp_path: Path) -> None:
    with pytest.raises(UserError) as err:
        load_params(_write(tmp_path, "seeds:\n  count: 5\n"))
    msg = str(err.value)
    assert msg.startswith(f"{tmp_path}/params.yaml: seeds.count: unknown key (allowed: n, ")


def test_unknown_section(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"trian: unknown key \(allowed: profile, base, seeds"):
        load_params(_write(tmp_path, "trian: {}\n"))


def test_wrong_type_and_literal_name_allowed_values(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"seeds\.n: Input should be a valid integer.*'many'"):
        load_params(_write(tmp_path, "seeds:\n  n: many\n"))
    with pytest.raises(UserError, match=r"teacher\.provider: Input should be 'local', "
                                        r"'anthropic', 'anthropic-batch', 'openai-compatible' "
                                        r"or 'file'"):
        load_params(_write(tmp_path, "teacher:\n  provider: claude\n"))


def test_bad_yaml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"params.yaml:\d+: not valid YAML"):
        load_params(_write(tmp_path, "seeds:\n  n: [1\n"))
    with pytest.raises(UserError, match="params file not found"):
        load_params(tmp_path / "nope.yaml")
