"""Many words found in one pass over a text: daachorse's Aho-Corasick automaton, for any text.

daachorse runs in Rust, whose strings are UTF-8 and cannot hold a lone surrogate (half of a
UTF-16 pair, as a truncated emoji in a JSON payload leaves one). A text with lone surrogates
is searched piece by piece between them, with the offsets moved back to the whole text: no
word holds a lone surrogate (`WordFinder` refuses such words), so no match spans one, and the
matches are those of the whole text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import daachorse

LONE_SURROGATE = re.compile(r"([\ud800-\udfff])")  # a group: split() keeps the surrogates

Match = tuple[int, int, int]  # begin, end (character offsets), the word's index


class WordFinder:
    """Finds the given words in texts; matches are (begin, end, index into `words`)."""

    def __init__(self, words: Sequence[str], *, longest: bool = False) -> None:
        """`longest`: `find` gives the leftmost-longest matches (what an alternation of the
        words, longest first, finds); else the leftmost-shortest, and `find_overlapping`
        gives every occurrence."""
        for word in words:
            if not word or LONE_SURROGATE.search(word):
                raise ValueError(f"cannot search for {word!r}: empty, or a lone surrogate")
        kind = daachorse.MATCH_KIND_LEFTMOST_LONGEST if longest else daachorse.MATCH_KIND_STANDARD
        self._automaton = daachorse.CharwiseDoubleArrayAhoCorasick(list(words), match_kind=kind)
        self._longest = longest

    def find(self, text: str) -> list[Match]:
        """The matches that do not overlap, from the left."""
        try:
            return self._automaton.find(text)
        except UnicodeEncodeError:
            return _by_pieces(self._automaton.find, text)

    def find_overlapping(self, text: str) -> list[Match]:
        """Every occurrence of every word, overlapping or not."""
        if self._longest:
            raise ValueError("a leftmost-longest WordFinder finds no overlapping matches")
        try:
            return self._automaton.find_overlapping(text)
        except UnicodeEncodeError:
            return _by_pieces(self._automaton.find_overlapping, text)


def _by_pieces(find: Callable[[str], list[Match]], text: str) -> list[Match]:
    """`find` on the pieces of a text between its lone surrogates, offsets into the text."""
    found: list[Match] = []
    at = 0
    for piece in LONE_SURROGATE.split(text):
        if piece and not LONE_SURROGATE.fullmatch(piece):
            found.extend((begin + at, end + at, index) for begin, end, index in find(piece))
        at += len(piece)
    return found
