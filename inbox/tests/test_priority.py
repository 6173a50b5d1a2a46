"""Watch words raise an item's priority: case-insensitive, whole words, Unicode-aware."""

from __future__ import annotations

from inbox.models import Priority
from inbox.priority import WatchList, WatchWord, raised_priority

HIGH, URGENT = Priority.HIGH, Priority.URGENT


def words(text: str, *entries: WatchWord) -> list[str]:
    return [match.word for match in WatchList(entries).matches(text)]


def test_whole_words_match_in_any_case():
    assert words("FLOOD warning in the harbour", WatchWord("flood", HIGH)) == ["flood"]
    assert words("Floodlights are broken", WatchWord("flood", HIGH)) == []


def test_finnish_inflections_match_with_the_prefix_option():
    tulva = WatchWord("tulva", URGENT, prefix=True)
    assert words("Tulvan takia tie on poikki", tulva) == ["tulva"]
    assert words("Tietoa tulvasta?", tulva) == ["tulva"]
    # Without the option only the word itself matches.
    assert words("Tietoa tulvasta?", WatchWord("tulva", URGENT)) == []


def test_swedish_inflections_and_letters_outside_ascii():
    word = WatchWord("översvämning", HIGH, prefix=True)
    assert words("ÖVERSVÄMNINGEN vid ån", word) == ["översvämning"]
    # "ä" is a letter: "vattenä" must not end the word "vatten" in the middle.
    assert words("vattenälv", WatchWord("vatten", HIGH)) == []


def test_a_decomposed_letter_matches_the_composed_one():
    decomposed = "sa\u0308hko\u0308katko"  # "sähkökatko" typed with combining marks
    assert words(decomposed, WatchWord("sähkökatko", HIGH)) == ["sähkökatko"]


def test_hashtags_and_mentions_are_word_boundaries():
    assert words("#misinformaatio leviää", WatchWord("misinformaatio", HIGH)) == ["misinformaatio"]


def test_phrases_match_across_any_whitespace():
    assert words("Please  boil\nwater today", WatchWord("boil water", URGENT)) == ["boil water"]


def test_turkish_and_german_case_folding():
    assert words("SU KESİNTİSİ var", WatchWord("su kesintisi", HIGH)) == ["su kesintisi"]
    assert words("Die STRASSE ist gesperrt", WatchWord("straße", HIGH)) == ["straße"]


def test_priority_is_raised_to_the_highest_match_never_lowered():
    watch = WatchList([WatchWord("flood", HIGH), WatchWord("evacuation", URGENT)])
    matches = watch.matches("Flood and evacuation news")
    assert raised_priority(Priority.NORMAL, matches) == URGENT
    assert raised_priority(URGENT, watch.matches("flood")) == URGENT
    assert raised_priority(Priority.NORMAL, []) == Priority.NORMAL
