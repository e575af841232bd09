"""Tests for coding.automaton: the words an Aho-Corasick pass finds, in any Python text."""

from __future__ import annotations

import random
import re

import pytest

from coding.automaton import WordFinder

WORDS = ["转发", "转发抽", "转发微博", "抽", "抽奖", "抽奖平台", "微博抽奖平台", "a+b", "a", "奖平"]
# texts from the words' characters, with emoji (outside the BMP) and lone surrogates among them
ALPHABET = [*sorted(set("".join(WORDS))), "😀", "\ud83d", "\ude00", " "]


def texts(count: int, seed: int = 5) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choices(ALPHABET, k=rng.randrange(0, 16))) for _ in range(count)]


def test_find_longest_is_the_longest_first_alternation():
    finder = WordFinder(WORDS, longest=True)
    alternation = re.compile("|".join(map(re.escape, sorted(WORDS, key=len, reverse=True))))
    for text in texts(5_000):
        expected = [(m.start(), m.end(), WORDS.index(m[0])) for m in alternation.finditer(text)]
        assert finder.find(text) == expected, ascii(text)


def test_find_overlapping_is_every_occurrence_of_every_word():
    finder = WordFinder(WORDS)
    for text in texts(5_000, seed=6):
        expected = {
            (begin, begin + len(word), index)
            for index, word in enumerate(WORDS)
            for begin in range(len(text))
            if text.startswith(word, begin)
        }
        found = finder.find_overlapping(text)
        assert len(found) == len(expected) and set(found) == expected, ascii(text)


def test_offsets_count_python_characters_around_surrogates():
    finder = WordFinder(WORDS, longest=True)
    text = "😀抽奖\ud83d转发微博\ude00a+b"
    assert [text[begin:end] for begin, end, _ in finder.find(text)] == ["抽奖", "转发微博", "a+b"]


@pytest.mark.parametrize("word", ["", "抽\ud83d"])
def test_words_it_cannot_search_for_are_refused(word: str):
    with pytest.raises(ValueError, match="cannot search for"):
        WordFinder(["抽奖", word])


def test_a_longest_finder_finds_no_overlapping_matches():
    with pytest.raises(ValueError, match="no overlapping matches"):
        WordFinder(WORDS, longest=True).find_overlapping("抽奖")
