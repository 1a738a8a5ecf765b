"""Quote fidelity: a finding's quoted thought matched loosely against the person's own text."""

from __future__ import annotations

import pytest

from cbt_schema.quotes import fidelity, quote_found, quotes_found

TEXT = ("My best friend forgot to call me on my birthday. I guess I don't matter to anyone, "
        "and honestly I'll never have real friends. Everyone at work ignores me too.")


@pytest.mark.parametrize("quote", [
    "I guess I don't matter to anyone",                # exact
    "i GUESS, i dont matter to anyone!!",              # case, punctuation, apostrophe
    "I don’t matter to anyone.",                       # curly apostrophe, part of a sentence
    "  I'll never   have\nreal friends ",              # whitespace
    "I will never have real friends",                  # a contraction written out
    "I'll never have true friends",                    # one word changed
    "Everyone at work ignore me",                      # a typo-sized edit
    "My best friend forgot ... I don't matter to anyone",  # parts joined by an ellipsis
])
def test_the_persons_own_words_are_found(quote: str) -> None:
    assert quote_found(quote, TEXT)


@pytest.mark.parametrize("quote", [
    "It's the worst birthday ever!",                   # invented
    "Nobody cares about me",                           # a paraphrase in other words
    "I'm worthless",                                   # invented, short
    "I'm so lonely",
    "My best friend forgot ... it's the worst birthday ever",  # one part invented
    "",                                                # nothing quoted
    "...",
])
def test_words_the_person_never_wrote_are_not_found(quote: str) -> None:
    assert not quote_found(quote, TEXT)


def test_a_one_word_change_in_a_short_quote_is_a_different_thought() -> None:
    assert quote_found("I'm so stupid", "Honestly I'm so stupid sometimes.")
    assert not quote_found("I'm so useless", "Honestly I'm so stupid sometimes.")


def test_fidelity_is_the_share_found_and_none_without_quotes() -> None:
    found = quotes_found(["I'll never have real friends", "It's the worst birthday ever"], TEXT)
    assert found == [True, False]
    assert fidelity(found) == 0.5
    assert fidelity([]) is None
