"""The crisis screen: recall 1.0 on the training crisis lists, false alarms measured on ordinary
distress. The lists live in the repo's safety/train/ (the crisis_probe stage trains on them too);
held-out lists in safety/ are measured by that stage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cbt_infer.probe_cli import read_phrases
from cbt_infer.safety import CrisisResources, screen
from cbt_schema.errors import UserError

DATA = Path(__file__).resolve().parents[3] / "safety" / "train"


def load_lines(pattern: str) -> list[str]:
    files = sorted(DATA.glob(pattern))
    assert files, f"no {pattern} in {DATA}"
    return [text for f in files for text in read_phrases(f)]


CRISIS = load_lines("crisis_phrases*.txt")
ORDINARY = load_lines("ordinary_situations*.txt")


def test_lists_are_big_enough() -> None:
    assert len(CRISIS) >= 150 and len(ORDINARY) >= 150
    assert not set(CRISIS) & set(ORDINARY)


def test_recall_is_one_on_the_crisis_list() -> None:
    missed = [text for text in CRISIS if not screen(text).shows_resources]
    assert missed == []


def test_false_positive_rate_on_ordinary_situations() -> None:
    flagged = [text for text in ORDINARY if screen(text).shows_resources]
    # Conservative by design, but ordinary distress must mostly reach an assessment.
    assert len(flagged) / len(ORDINARY) <= 0.05, flagged


@pytest.mark.parametrize("text", [
    "I feel like dying of embarrassment after that meeting.",
    "This commute is killing me.",
    "I'm dead tired.",
    "I'd kill for a coffee.",
    "This project will be the death of me.",
])
def test_idioms_are_not_crises(text: str) -> None:
    assert not screen(text).crisis


@pytest.mark.parametrize("text", [
    "I want to die, not of embarrassment, I mean it.",   # the idiom mask is exact
    "I could die of shame, I really want to kill myself.",
    "I would never kill myself, but I think about it.",  # negation is not discounted
    "My friend told me she wants to die.",              # third person still screened
    "I WANT TO DIE",
    "I don\u2019t want to live anymore",                  # curly apostrophe
])
def test_conservative_cases_trigger(text: str) -> None:
    assert screen(text).shows_resources


def test_signals_name_what_fired() -> None:
    assert "pills" in screen("I've been saving up my pills.").signals


def test_default_resources_cover_the_basics() -> None:
    text = CrisisResources.default().render()
    for needle in ("988", "116 123", "findahelpline.com", "emergency"):
        assert needle in text


def test_resources_are_configurable(tmp_path: Path) -> None:
    path = tmp_path / "res.json"
    path.write_text(json.dumps({"message": "Please talk to someone.",
                                "resources": [{"name": "Local line", "contact": "0800 000"}]}))
    text = CrisisResources.load(path).render()
    assert text.startswith("Please talk to someone.") and "- Local line: 0800 000" in text


def test_bad_resources_file_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "res.json"
    path.write_text(json.dumps({"message": "hi", "resources": []}))
    with pytest.raises(UserError, match=r"res.json: resources: .*expected keys"):
        CrisisResources.load(path)
    with pytest.raises(UserError, match="not found"):
        CrisisResources.load(tmp_path / "missing.json")
