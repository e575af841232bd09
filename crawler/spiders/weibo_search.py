"""weibo_search: every post s.weibo.com finds for a keyword or #topic# in a date range.

Weibo shows at most about 50 result pages of a query and drops the rest without saying so.
So a window whose page list reaches the cap (SMCAT_WEIBO_SEARCH_SPLIT_AT pages) is not read but
split, into days and then into hours, and each part is searched on its own; posts found in two
windows (or twice as pages shift) are kept once, by the writer (counted under "duplicates"). An
hour that still reaches the cap cannot be split further: it is read as far as Weibo goes and
counted under "capped_hours". What a page needs from those before it (the pages its window
lists) travels with its request, so the spider runs in a cluster too: each window is split
once, by whichever worker reads its first page.

A window's checkpoint ("split"; the pages it lists and those of them stored so far; "done" once
all its pages are stored) lets --resume skip what an earlier run finished, down to the page.
Search needs a signed-in Weibo cookie (SMCAT_WEIBO_COOKIE).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider
from scrapy.http import Response

from crawler.endpoints import WEIBO_SEARCH
from crawler.items import Checkpoint
from crawler.parsers.common import day_window
from crawler.parsers.weibo_posts import window_sides
from crawler.parsers.weibo_search import PAGE_CAP, parse_search_page, search_timescope
from crawler.spiders.base import WeiboSpider, checked_text, decoded, iso_day
from smcat.errors import SmcatError

_DAY, _HOUR = timedelta(days=1), timedelta(hours=1)


@dataclass(frozen=True)
class Window:
    """A search time window of whole hours, [start, end)."""

    start: datetime
    end: datetime

    @property
    def timescope(self) -> str:
        return search_timescope(self.start, self.end)

    def parts(self) -> list[Window]:
        """The days of a longer window, the hours of a day; none for an hour."""
        span = self.end - self.start
        if span <= _HOUR:
            return []
        step = _DAY if span > _DAY else _HOUR
        count = -(-span // step)  # ceiling division of timedeltas
        return [Window(self.start + i * step, min(self.start + (i + 1) * step, self.end))
                for i in range(count)]  # fmt: skip


class WeiboSearchSpider(WeiboSpider):
    """Posts matching keywords within whole days, through s.weibo.com's result pages."""

    name = "weibo_search"

    def __init__(
        self,
        keywords: str | Sequence[str] = "",
        since: str | date | None = None,
        until: str | date | None = None,
        resume_crawl_id: str | int | None = None,
        resume_from: str | Mapping[str, Any] = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if isinstance(keywords, str):
            # several keywords arrive as a JSON list (a keyword may hold commas or spaces)
            keywords = json.loads(keywords) if keywords.startswith("[") else [keywords]
        self.keywords = [k for k in keywords if k.strip()]
        first, last = iso_day(since), iso_day(until)
        if not self.keywords or not first or not last:
            raise ValueError(
                "weibo_search needs keywords='[\"KEYWORD\", ...]', since=YYYY-MM-DD and "
                "until=YYYY-MM-DD"
            )
        start, end = day_window(first, last)
        if start is None or end is None or start > end:
            raise ValueError(f"weibo_search: since {first} is after until {last}")
        self.since, self.until = start, end
        self.days = (first, last)
        self.top = Window(start, start + _DAY * ((end - start).days + 1))
        self.resume_crawl_id = int(resume_crawl_id) if resume_crawl_id else None
        self.checkpoints: dict[str, Any] = decoded(resume_from)
        self.page_counts: dict[str, int] = {}  # window -> the pages it lists
        self.stored_pages: dict[str, set[int]] = {}  # window -> its pages stored
        self.split_at = PAGE_CAP
        self.cookie = ""
        self.extra_counts = {
            "windows": 0,
            "split": 0,
            "pages": 0,
            "outside_window": 0,
            "capped_hours": 0,
        }

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.split_at = checked_split_at(
            crawler.settings.getint("SMCAT_WEIBO_SEARCH_SPLIT_AT", PAGE_CAP)
        )
        spider.crawl_args = cls.describe(spider.keywords, *spider.days, spider.split_at)
        return spider

    @staticmethod
    def describe(
        keywords: Sequence[str], since: str | None, until: str | None, split_at: int
    ) -> dict[str, Any]:
        """The arguments a crawl is recorded with (and found again by, for --resume)."""
        return {"keywords": list(keywords), "since": since, "until": until, "split_at": split_at}

    async def start(self) -> AsyncIterator[Request]:
        self.cookie = self.settings.get("SMCAT_WEIBO_COOKIE") or ""
        if not self.cookie:
            raise CloseSpider(
                "Weibo's search needs a signed-in cookie: set SMCAT_WEIBO_COOKIE or "
                "weibo_cookie_file"
            )
        for keyword in self.keywords:
            for request in self._window_requests(keyword, self.top):
                yield request

    def _window_requests(self, keyword: str, window: Window) -> Iterator[Request]:
        """The first page of a window, or of its parts where an earlier run split it, or the
        pages an earlier run did not store; nothing for what an earlier run finished."""
        part = _part(keyword, window)
        state = self.checkpoints.get(part)
        if state == "done":
            return
        if state == "split":
            for smaller in window.parts():
                yield from self._window_requests(keyword, smaller)
            return
        if isinstance(state, Mapping):  # {"pages": listed, "stored": [page, ...]}
            self.page_counts[part] = int(state["pages"])
            self.stored_pages[part] = {int(number) for number in state["stored"]}
            if 1 in self.stored_pages[part]:  # the first page is not read again
                yield from self._pages_after_the_first(keyword, window)
                return
        yield self._page_request(keyword, window, 1)

    def _pages_after_the_first(self, keyword: str, window: Window) -> Iterator[Request]:
        """The pages of a window after its first that are not stored yet."""
        part = _part(keyword, window)
        stored = self.stored_pages.setdefault(part, set())
        listed = self.page_counts[part]
        for following in range(2, listed + 1):
            if following not in stored:
                yield self._page_request(keyword, window, following, listed)

    def _page_request(
        self, keyword: str, window: Window, page: int, listed: int | None = None
    ) -> Request:
        """A result page of a window; after the first, with the pages the window lists."""
        query: dict[str, object] = {
            "q": keyword, "typeall": 1, "suball": 1, "timescope": window.timescope,
        }  # fmt: skip
        if page > 1:
            query["page"] = page
        referer = f"{self.settings.get(WEIBO_SEARCH.site).rstrip('/')}/"
        return Request(
            self.endpoint_url(WEIBO_SEARCH, **query),
            callback=self.parse_page,
            errback=self.request_failed,
            meta={"keyword": keyword, "window": window, "page": page, "listed": listed},
            headers={"Cookie": self.cookie, "Referer": referer},
        )

    def parse_page(self, response: Response) -> Iterator[Any]:
        keyword, window, number = (response.meta[k] for k in ("keyword", "window", "page"))
        name = f"search {keyword!r} {window.timescope} page {number}"
        page = yield from self._parsed(response, parse_search_page, name, checked_text)
        if page is None:
            return
        self.extra_counts["pages"] += 1
        part = _part(keyword, window)
        if number == 1:
            self.extra_counts["windows"] += 1
            capped = page.page_count >= self.split_at
            if capped and window.parts():
                self.extra_counts["split"] += 1
                yield Checkpoint(part, "split")
                for smaller in window.parts():
                    yield from self._window_requests(keyword, smaller)
                return
            if capped:
                self.extra_counts["capped_hours"] += 1
                self.logger.warning(
                    "%s lists %d pages even for one hour: Weibo may hold more than it shows",
                    name,
                    page.page_count,
                )
            self.page_counts[part] = max(page.page_count, 1)
            yield from self._pages_after_the_first(keyword, window)
        unread = self.all_rejected(page.posts, page.rejects)
        yield from page.rejects
        for post, side in window_sides(page.posts, self.since, self.until):
            # a post found again (on two pages, in two windows, inside a repost) is kept once
            # by the writer, which prefers the post's own card: the spider cannot tell, as
            # its pages may be read by several workers
            if side:
                self.extra_counts["outside_window"] += not post.via_repost
            else:
                yield post
        if not unread:  # else the window is never "done": --resume searches it again
            listed = self.page_counts[part] if number == 1 else response.meta["listed"]
            yield from self._page_done(part, number, listed)

    def _page_done(self, part: str, number: int, listed: int) -> Iterator[Checkpoint]:
        """The window's checkpoint once a page of it is stored: "done" with its last page
        (of the `listed`)."""
        stored = self.stored_pages.setdefault(part, set())
        stored.add(number)
        if len(stored) >= listed:
            yield Checkpoint(part, "done")
        else:
            yield Checkpoint(part, {"pages": listed, "stored": sorted(stored)})


def checked_split_at(pages: int) -> int:
    """The number of listed pages at which a window is split, if it is one Weibo can list."""
    if not 2 <= pages <= PAGE_CAP:
        raise SmcatError(f"weibo_search_split_at must be 2 to {PAGE_CAP} (pages listed)")
    return pages


def _part(keyword: str, window: Window) -> str:
    """A window's checkpoint name."""
    return f"{window.timescope} {keyword}"
