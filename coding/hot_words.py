"""Which words were on the hot-search list near a moment: the B5 (热点借势) test of the tagger.

The crawled `hot_search` snapshots become, per word, the sorted days (China time) it was seen
on the list; a post uses a hot word when one of its tokens was on the list within
`window_days` days either side of the post's time. Pure Python; the store reads the rows.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from datetime import date, datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8))  # the hot-search list is China's; its days are China's


def china_day(moment: str | datetime) -> int:
    """The day (as an ordinal) of an ISO time in China time."""
    when = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return when.astimezone(CHINA).date().toordinal()


class HotWordIndex:
    """Days each word was on the hot-search list, from (word, observed_at) pairs."""

    def __init__(self, entries: Iterable[tuple[str, str]]) -> None:
        days: dict[str, set[int]] = {}
        for word, observed_at in entries:
            days.setdefault(word.strip(), set()).add(china_day(observed_at))
        self._days = {word: sorted(found) for word, found in days.items() if word}

    @property
    def words(self) -> list[str]:
        """Every word ever seen on the list (for the tokenizer's user words)."""
        return sorted(self._days)

    def hot_near(self, tokens: Iterable[str], moment: str, window_days: int) -> list[str]:
        """The distinct tokens that were on the list within `window_days` of `moment`, in the
        order they first occur."""
        day = china_day(moment)
        found = []
        for token in dict.fromkeys(tokens):
            days = self._days.get(token)
            if days is None:
                continue
            i = bisect_left(days, day - window_days)
            if i < len(days) and days[i] <= day + window_days:
                found.append(token)
        return found

    def first_seen(self, word: str) -> date | None:
        """The first day a word was on the list, if ever."""
        days = self._days.get(word)
        return date.fromordinal(days[0]) if days else None
