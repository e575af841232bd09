"""What a regular expression cannot match without: strings one of which every match contains.

Python's `re` tries a pattern that starts with a class such as `\\d` at every position of the
text, which made the codebook's price pattern the dearest rule of the tagger; and each rule
tried is a call. Most texts hold none of the strings a match needs (元, ¥, ￥ or 折 for that
pattern, # for a hashtag), and one scan for the strings of all rules (`Prefilter`) says which
rules are worth trying on a text.

The strings are read off the parsed pattern (`re._parser`, the parser `re.compile` uses), and
only where that is certain: a literal that must be matched, a class of a few literals, the
union over the branches of an alternation. Anything else (case-insensitive matching, ranges,
categories, optional parts, backreferences, lookarounds) says nothing, so the worst case is no
filter, never a missed match.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from coding.automaton import LONE_SURROGATE, WordFinder

try:  # Python 3.11 and later; these private modules have no type information
    sre: Any = importlib.import_module("re._constants")
    parser: Any = importlib.import_module("re._parser")
except ImportError:  # pragma: no cover - the layout of older and future versions
    sre = parser = None

T = TypeVar("T")
_Strings = frozenset[str] | None  # one of these is in every match; None: nothing known
_MOST_CHARACTERS = 8  # a class of more literals than this is too common to filter on
_CHOSEN_MAX = 4096  # combinations of rules remembered


def required_strings(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Strings one of which every match of `pattern` contains, or None if nothing can be said
    for certain."""
    items = _parsed(pattern)
    return None if items is None else _sequence(items)


class Prefilter(Generic[T]):
    """Which of many rules' patterns could match a text: one scan for all the strings their
    matches need (an Aho-Corasick automaton, `coding.automaton`), instead of a test per rule."""

    def __init__(self, rules: Sequence[tuple[re.Pattern[str], T]]) -> None:
        self._rules = [rule for _, rule in rules]
        self._always = 0  # a bit per rule whose pattern needs no string that can be named
        needs: dict[str, int] = {}  # string -> the rules whose matches may hold it, as bits
        for bit, (pattern, _) in enumerate(rules):
            strings = required_strings(pattern)
            # the automaton cannot hold a lone surrogate: such a rule is always tried
            if not strings or any(LONE_SURROGATE.search(string) for string in strings):
                self._always |= 1 << bit
                continue
            for string in strings:
                needs[string] = needs.get(string, 0) | 1 << bit
        self._bits = list(needs.values())
        self._finder = WordFinder(list(needs)) if needs else None
        self._chosen: dict[int, tuple[T, ...]] = {}  # by bits: texts share few combinations

    def candidates(self, text: str) -> tuple[T, ...]:
        """The rules whose pattern could match the text, in their order."""
        bits = self._always
        if self._finder is not None:
            for _, _, index in self._finder.find_overlapping(text):
                bits |= self._bits[index]
        chosen = self._chosen.get(bits)
        if chosen is None:
            chosen = tuple(rule for bit, rule in enumerate(self._rules) if bits >> bit & 1)
            if len(self._chosen) >= _CHOSEN_MAX:
                self._chosen.clear()
            self._chosen[bits] = chosen
        return chosen


def _parsed(pattern: re.Pattern[str]) -> list[tuple[Any, Any]] | None:
    """The pattern's top-level items as `re` parses them, or None where its strings cannot be
    read off (no parser, bytes, case-insensitive)."""
    if parser is None or not isinstance(pattern.pattern, str) or pattern.flags & re.IGNORECASE:
        return None
    try:
        return list(parser.parse(pattern.pattern, pattern.flags))
    except (re.error, RecursionError):  # pragma: no cover - the pattern compiled already
        return None


def _only_literals(members: list[tuple[Any, Any]]) -> bool:
    """Whether a class lists single characters only (no range, category or negation)."""
    return all(kind is sre.LITERAL for kind, _ in members)


def _sequence(items: list[tuple[Any, Any]]) -> _Strings:
    """The best-filtering strings of the items a sequence must match: the fewest, then the
    longest. Runs of literals count as one string."""
    candidates: list[frozenset[str]] = []
    run: list[str] = []
    for op, value in items:
        if op is sre.LITERAL:
            run.append(chr(value))
            continue
        if run:
            candidates.append(frozenset(["".join(run)]))
            run = []
        strings = _item(op, value)
        if strings:
            candidates.append(strings)
    if run:
        candidates.append(frozenset(["".join(run)]))
    if not candidates:
        return None
    return min(candidates, key=lambda s: (len(s), -min(map(len, s))))


def _item(op: Any, value: Any) -> _Strings:
    """What one parsed item needs, for the items that need something."""
    if op is sre.IN:
        if not _only_literals(value) or len(value) > _MOST_CHARACTERS:
            return None  # a negated class, a range or a category: too many characters
        return frozenset(chr(code) for _, code in value)
    if op is sre.BRANCH:
        branches = [_sequence(list(branch)) for branch in value[1]]
        if any(not strings for strings in branches):
            return None
        return frozenset().union(*branches)  # type: ignore[arg-type]
    if op is sre.SUBPATTERN:
        _group, add_flags, _del_flags, items = value
        return None if add_flags & re.IGNORECASE else _sequence(list(items))
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
        least, _most, items = value
        return _sequence(list(items)) if least >= 1 else None
    if op is sre.ATOMIC_GROUP:
        return _sequence(list(value))
    return None
