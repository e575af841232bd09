"""Which words were on the hot-search list near a moment: the tagger's B5 (热点借势) test and the
models' hot-topic and hot-word regressors.

The crawled `hot_search` snapshots become, per day (China time), the words seen on the list
that day; a post uses a hot word when one of its tokens was on the list within `window_days`
days either side of the post's day. The words hot around a day are gathered once per day and
window and kept, so that each post's test is a set lookup per token. Pure Python; the store
reads the rows.

The models ask a stricter question (`HotWindow`): was the word on the list within a window of
times relative to the post, by default the week before it, so that a word trending because
the post went viral is not counted as a cause of its engagement.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8))  # the hot-search list is China's; its days are China's
TOPIC_HOT_WINDOW_DAYS = 7  # a topic counts as hot if on the list within a week of the post
_NEAR_CACHE_MAX = 10_000  # (day, window) sets kept; years of post days fit many times over
_BOUND = re.compile(r"([+-]?\d+(?:\.\d+)?)([dh]?)")
DAY_SECONDS = 86_400.0


@dataclass(frozen=True)
class HotWindow:
    """When, relative to a post's time, a word must have been on the hot-search list to count
    as hot for the models: from `start_days` to `end_days` (days after the post; negative is
    before)."""

    start_days: float = -7.0
    end_days: float = 0.0

    @classmethod
    def parse(cls, text: str) -> HotWindow:
        """A window written START..END, each a number of days or hours with a sign: -7d..0,
        -36h..0, -7d..7d. Raises ValueError naming the form."""
        parts = text.strip().split("..")
        bounds = [_BOUND.fullmatch(part.strip()) for part in parts]
        if len(parts) != 2 or not all(bounds):
            raise ValueError(f"{text!r} is no window: write it as -7d..0 (days or hours, signed)")
        start, end = (float(m[1]) / (24 if m[2] == "h" else 1) for m in bounds if m is not None)
        if start > end:
            raise ValueError(f"{text!r} starts after it ends: write the earlier bound first")
        return cls(start, end)

    def describe(self) -> str:
        """The window in words, for reports: "from 7 days before the post to the post"."""
        return f"from {_relative(self.start_days)} to {_relative(self.end_days)}"


BEFORE_THE_POST = HotWindow()  # the models' default: the week before the post, to the post


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
        times: dict[str, list[float]] = {}
        for word, observed_at in entries:
            word = word.strip()
            if not word:
                continue
            day = china_day(observed_at)
            on_day.setdefault(day, set()).add(word)
            first[word] = min(day, first.get(word, day))
            times.setdefault(word, []).append(_seconds(observed_at))
        self._first = first
        self._on_day = on_day
        self._times = {word: sorted(seen) for word, seen in times.items()}
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

    def listed_within(self, word: str, moment: str, window: HotWindow) -> bool:
        """Whether `word` was on the list at some time within `window` of `moment` (an ISO
        time), to the second: the models' test, which keeps later trends out."""
        seen = self._times.get(word.strip())
        if not seen:
            return False
        at = _seconds(moment)
        first = bisect_left(seen, at + window.start_days * DAY_SECONDS)
        return first < len(seen) and seen[first] <= at + window.end_days * DAY_SECONDS

    def first_seen(self, word: str) -> date | None:
        """The first day a word was on the list, if ever."""
        day = self._first.get(word)
        return None if day is None else date.fromordinal(day)


def _seconds(moment: str) -> float:
    """Seconds since the epoch of an ISO time; one without an offset is China time."""
    when = datetime.fromisoformat(moment)
    return (when if when.tzinfo else when.replace(tzinfo=CHINA)).timestamp()


def _relative(days: float) -> str:
    if days == 0:
        return "the post"
    amount = f"{abs(days):g} days" if abs(days) >= 1 else f"{abs(days) * 24:g} hours"
    return f"{amount} {'before' if days < 0 else 'after'} the post"
