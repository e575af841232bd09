"""Which words were on the hot-search list near a moment: the tagger's B5 (热点借势) test and the
models' hot-topic regressor.

The crawled `hot_search` snapshots become, per day (China time), the words seen on the list
that day; a post uses a hot word when one of its tokens was on the list within `window_days`
days either side of the post's day. The words hot around a day are gathered once per day and
window and kept, so that each post's test is a set lookup per token. Pure Python; the store
reads the rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8))  # the hot-search list is China's; its days are China's
TOPIC_HOT_WINDOW_DAYS = 7  # a topic counts as hot if on the list within a week of the post
_NEAR_CACHE_MAX = 10_000  # (day, window) sets kept; years of post days fit many times over


def china_day(moment: str | datetime) -> int:
    """The day (as an ordinal) of an ISO time in China time."""
    when = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    # most times are written in China's offset already, and astimezone() is most of the cost
    if when.tzinfo != CHINA:
        when = when.astimezone(CHINA)
    return when.toordinal()


class HotWordIndex:
    """Days each word was on the hot-search list, from (word, observed_at) pairs."""

    def __init__(self, entries: Iterable[tuple[str, str]]) -> None:
        first: dict[str, int] = {}
        on_day: dict[int, set[str]] = {}
        for word, observed_at in entries:
            word = word.strip()
            if not word:
                continue
            day = china_day(observed_at)
            on_day.setdefault(day, set()).add(word)
            first[word] = min(day, first.get(word, day))
        self._first = first
        self._on_day = on_day
        self._near: dict[tuple[int, int], frozenset[str]] = {}

    @property
    def words(self) -> list[str]:
        """Every word ever seen on the list (for the tokenizer's user words)."""
        return sorted(self._first)

    def hot_around(self, day: int, window_days: int) -> frozenset[str]:
        """The words on the list on some China day within `window_days` of `day` (an ordinal,
        see `china_day`), either side."""
        key = (day, window_days)
        found = self._near.get(key)
        if found is None:
            on_day = self._on_day
            found = frozenset(
                word
                for near in range(day - window_days, day + window_days + 1)
                for word in on_day.get(near, ())
            )
            if len(self._near) >= _NEAR_CACHE_MAX:
                self._near.clear()
            self._near[key] = found
        return found

    def hot_near(self, tokens: Iterable[str], moment: str, window_days: int) -> list[str]:
        """The distinct tokens that were on the list within `window_days` of `moment`, in the
        order they first occur."""
        hot = self.hot_around(china_day(moment), window_days)
        return [token for token in dict.fromkeys(tokens) if token in hot]

    def first_seen(self, word: str) -> date | None:
        """The first day a word was on the list, if ever."""
        day = self._first.get(word)
        return None if day is None else date.fromordinal(day)
