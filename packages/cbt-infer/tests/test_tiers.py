"""The tiered crisis screen as every entry point uses it: the tier rule, the possible tier's
answer (resources first, then the analysis), one policy for the API and the CLI, a missing or
corrupt probe as an error, and crisis lines by country."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cbt_infer import Assessor
from cbt_infer.crisis_resources import CrisisResources, country_lines
from cbt_infer.safety import POSSIBLE_LINE, CrisisScreen, tier_for
from cbt_schema.errors import UserError

PASSIVE = "Lately I feel like such a burden to my family."  # a passive signal only


@pytest.mark.parametrize(("signals", "p", "tier"), [
    (("kill myself",), None, "likely"),
    (("burden",), None, "possible"),
    ((), None, "none"),
    ((), 0.10, "none"),
    ((), 0.30, "possible"),
    ((), 0.80, "likely"),
    (("burden",), 0.10, "possible"),  # the probe never lowers a tier
    (("burden",), 0.90, "likely"),  # and may raise one
    (("kill myself",), 0.0, "likely"),
])
def test_tier_rule(signals: tuple[str, ...], p: float | None, tier: str) -> None:
    assert tier_for(signals, p, (0.3, 0.8) if p is not None else None) == tier


def test_possible_tier_gets_resources_first_then_the_analysis(assessor: Assessor) -> None:
    result = assessor.assess(PASSIVE, max_new_tokens=6)
    assert result.tier == "possible" and not result.crisis and result.tokens > 0
    assert result.crisis_resources.startswith(assessor.resources.message)
    assert result.crisis_resources.endswith(POSSIBLE_LINE) and "988" in result.crisis_resources
    assert result.display.startswith(result.crisis_resources)
    assert result.display.index(POSSIBLE_LINE) < result.display.index(result.raw)
    data = result.to_dict()
    assert data["tier"] == "possible" and data["screen"].startswith("keywords only")
    chunks = list(stream := assessor.stream(PASSIVE, max_new_tokens=6))
    assert chunks[0].startswith(assessor.resources.message) and POSSIBLE_LINE in chunks[0]
    assert stream.result is not None and stream.result.tier == "possible"
    assert stream.result.raw == result.raw
    plain = assessor.assess("My boss criticised my report.", max_new_tokens=4)
    assert plain.tier == "none" and plain.crisis_resources == ""
    likely = assessor.assess("I've been saving up my pills.")
    assert likely.tier == "likely" and likely.crisis and likely.tokens == 0
    off = assessor.assess(PASSIVE, max_new_tokens=4, screen_input=False)
    assert off.tier == "none" and off.screen == "off" and off.crisis_resources == ""


def test_batch_keeps_each_tier(assessor: Assessor) -> None:
    texts = [PASSIVE, "I want to die", "My boss criticised my report."]
    results = assessor.assess_many(texts, batch_size=2, max_new_tokens=4, progress=False)
    assert [r.tier for r in results] == ["possible", "likely", "none"]


def test_missing_probe_is_an_error_naming_the_file_and_the_fix(
        base_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CBT_CRISIS_PROBE", raising=False)
    with pytest.raises(UserError, match=r"models/crisis_probe.json: crisis probe file not "
                                        r"found.*dvc repro crisis_probe.*crisis_probe=False"):
        Assessor.from_pretrained(base_dir)
    monkeypatch.setenv("CBT_CRISIS_PROBE", str(tmp_path / "elsewhere.json"))
    with pytest.raises(UserError, match=r"elsewhere\.json: crisis probe file not found"):
        CrisisScreen.load()
    assert CrisisScreen.load(False).active.startswith("keywords only")


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "not valid JSON"),
    ('{"format": "cbt-crisis-probe/1"}', "not a crisis probe of this version"),
    ('{"format": "cbt-crisis-probe/2", "layers": [1]}', "not a crisis probe of this version"),
    ('{"format": "cbt-crisis-probe/3", "mean": [1]}', "incomplete crisis probe"),
])
def test_corrupt_probe_is_an_error_naming_the_fix(tmp_path: Path, content: str,
                                                  message: str) -> None:
    path = tmp_path / "probe.json"
    path.write_text(content)
    with pytest.raises(UserError, match=f"probe.json: {message}.*dvc repro crisis_probe"):
        CrisisScreen.load(path)


def test_api_finds_the_probe_from_the_environment(trained_probe: dict[str, Path],
                                                  base_dir: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # nothing here: the probe is found through $CBT_CRISIS_PROBE
    monkeypatch.setenv("CBT_CRISIS_PROBE", str(trained_probe["probe"]))
    assessor = Assessor.from_pretrained(base_dir, system_prompt="Be kind.")
    assert assessor.crisis_screen.probe is not None
    assert str(trained_probe["probe"]) in assessor.crisis_screen.active
    result = assessor.assess("My flatmate ate my leftovers again.", max_new_tokens=4)
    assert result.screen == assessor.crisis_screen.active
    assert result.tier == assessor.crisis_screen("My flatmate ate my leftovers again.").tier


@pytest.mark.slow
def test_api_screens_with_the_probe_by_default_and_the_cli_answers_as_the_api(
        trained_probe: dict[str, Path], base_dir: Path, unseen_crisis: list[str],
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No crisis_probe argument: the probe at models/crisis_probe.json screens. For every
    likely-risk text the CLI prints exactly the API's answer, without loading a student."""
    import shutil
    import subprocess
    import sys

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CBT_CRISIS_PROBE", raising=False)
    (tmp_path / "models").mkdir()
    shutil.copy(trained_probe["probe"], tmp_path / "models" / "crisis_probe.json")
    with pytest.raises(UserError, match="the crisis probe's encoder is missing"):
        Assessor.from_pretrained(base_dir, system_prompt="Be kind.", country="GB")
    shutil.copy(trained_probe["encoder"], tmp_path / "models" / "crisis_encoder.gguf")
    assessor = Assessor.from_pretrained(base_dir, system_prompt="Be kind.", country="GB")
    assert assessor.crisis_screen.probe is not None
    assert assessor.crisis_screen.active == ("keywords, then the learned probe "
                                             "(models/crisis_probe.json)")
    results = assessor.assess_many([*unseen_crisis, "I want to kill myself"], progress=False,
                                   max_new_tokens=4)
    assert all(r.tier in ("possible", "likely") for r in results)
    # the keywords miss these: the probe decided
    assert all(assessor.policy.verdict(t).probability is not None for t in unseen_crisis)
    cli = [sys.executable, "-c", "from cbt_infer.cli import main; main()"]
    for api in (r for r in results if r.crisis):
        proc = subprocess.run([*cli, "--json", "--country", "GB", "--base",
                               str(tmp_path / "no-student"), api.situation],
                              capture_output=True, text=True, timeout=600, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout) == api.to_dict()


def test_every_country_names_its_source_and_date() -> None:
    lines = country_lines()
    assert {"US", "GB", "IE", "CA", "AU", "IN", "DE", "FR"} <= set(lines)
    for code, entry in lines.items():
        assert entry["source"].startswith(("https://", "http://")), code
        assert entry["checked"] == "2026-11-30" and entry["emergency"], code
        assert 1 <= len(entry["resources"]) <= 3, code


@pytest.mark.parametrize(("country", "needles"), [
    ("IE", ["1800 247 247", "116 123", "112 or 999", "findahelpline.com"]),
    ("uk", ["116 123", "85258", "call 999"]),
    ("France", ["3114"]),
    ("AU", ["13 11 14", "call 000"]),
])
def test_resources_by_country(country: str, needles: list[str]) -> None:
    text = CrisisResources.for_country(country).render()
    for needle in needles:
        assert needle in text
    assert "988" not in text or country == "US"


def test_unknown_country_falls_back_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    fallback = CrisisResources.for_country("Atlantis")
    assert fallback.resources == CrisisResources.default().resources
    assert "No crisis lines are listed here for 'Atlantis'" in fallback.render()
    monkeypatch.setenv("CBT_COUNTRY", "CA")
    assert "9-8-8" in CrisisResources.for_country(None).render()
    monkeypatch.setenv("CBT_COUNTRY", "")
    assert CrisisResources.for_country(None) == CrisisResources.default()


def test_data_file_is_valid_json_with_the_documented_keys() -> None:
    path = Path(__file__).resolve().parents[1] / "src/cbt_infer/data/crisis_lines.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert set(data) == {"_about", "countries"}
