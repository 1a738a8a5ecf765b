import pytest

from cbt_schema import DISTORTIONS, Distortion, distortion_from_name


def test_ten_distortions_with_description_and_challenge() -> None:
    assert len(Distortion) == 10
    for d in Distortion:
        assert DISTORTIONS[d].description and DISTORTIONS[d].challenge
        assert distortion_from_name(d.title) is d
        assert distortion_from_name(d.value) is d


@pytest.mark.parametrize(("name", "expected"), [
    ("**Magnification (catastrophizing):**", Distortion.MAGNIFICATION),
    ("Magnification (catastrophizing) or minimization", Distortion.MAGNIFICATION),
    ("catastrophizing", Distortion.MAGNIFICATION),
    ("Mind reading", Distortion.JUMPING_TO_CONCLUSIONS),
    ("fortune-telling", Distortion.JUMPING_TO_CONCLUSIONS),
    ("Black-and-white thinking", Distortion.ALL_OR_NOTHING),
    ("ALL-OR-NOTHING THINKING", Distortion.ALL_OR_NOTHING),
    ("Disqualifying the positive", Distortion.DISCOUNTING_THE_POSITIVE),
    ("Personalization and blame", Distortion.PERSONALIZATION),
    ("blaming", Distortion.PERSONALIZATION),
    ("Labelling", Distortion.LABELING),
    ("should statements", Distortion.SHOULD_STATEMENTS),
])
def test_aliases(name: str, expected: Distortion) -> None:
    assert distortion_from_name(name) is expected


def test_unknown_name() -> None:
    assert distortion_from_name("wishful thinking") is None
