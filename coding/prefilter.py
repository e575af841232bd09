"""What a regular expression cannot match without: strings one of which every match contains.

Python's `re` tries a pattern that starts with a class such as `\\d` at every position of the
text, which made the codebook's price pattern the dearest rule of the tagger. Most texts hold
none of the strings a match needs (元, ¥, ￥ or 折 for that pattern), and looking for those is
a fast scan: a text without any of them is skipped before the pattern is tried.

The strings are read off the parsed pattern (`re._parser`, the parser `re.compile` uses), and
only where that is certain: a literal that must be matched, a class of a few literals, the
union over the branches of an alternation. Anything else (case-insensitive matching, ranges,
categories, optional parts, backreferences, lookarounds) says nothing, so the worst case is no
filter, never a missed match.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

try:
    from re import _constants as sre  # Python 3.11 and later
    from re import _parser as parser
except ImportError:  # pragma: no cover - the layout of older and future versions
    sre = parser = None  # type: ignore[assignment]

_Strings = frozenset[str] | None  # one of these is in every match; None: nothing known
_MOST_CHARACTERS = 8  # a class of more literals than this is too common to filter on


def required_strings(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Strings one of which every match of `pattern` contains, or None if nothing can be said
    for certain."""
    items = _parsed(pattern)
    return None if items is None else _sequence(items)


def prefilter(pattern: re.Pattern[str]) -> Callable[[str], Any] | None:
    """A test that is false only for texts `pattern` cannot match (a search for the strings one
    of which every match contains), or None if there is no such test."""
    items = _parsed(pattern)
    if items is None or _starts_plainly(items):
        return None
    strings = _sequence(items)
    if not strings:
        return None
    longest_first = sorted(strings, key=lambda s: (-len(s), s))
    return re.compile("|".join(map(re.escape, longest_first))).search


def _parsed(pattern: re.Pattern[str]) -> list[tuple[Any, Any]] | None:
    """The pattern's top-level items as `re` parses them, or None where its strings cannot be
    read off (no parser, bytes, case-insensitive)."""
    if parser is None or not isinstance(pattern.pattern, str) or pattern.flags & re.IGNORECASE:
        return None
    try:
        return list(parser.parse(pattern.pattern, pattern.flags))
    except (re.error, RecursionError):  # pragma: no cover - the pattern compiled already
        return None


def _starts_plainly(items: list[tuple[Any, Any]]) -> bool:
    """Whether the pattern starts with a literal or a class of literals: `re` then scans for
    those itself, as fast as a filter would."""
    return bool(items) and (
        items[0][0] is sre.LITERAL or (items[0][0] is sre.IN and _only_literals(items[0][1]))
    )


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
