"""douyin_live: a Douyin live room's state (live.douyin.com/webcast/room/web/enter/) into
live_rooms and live_observations, once or every N seconds: the session as a time series of
viewers and likes, ending cleanly when the room goes off the air. With `browser=1` each
observation opens the room's page (live.douyin.com/<web_rid>) in Chromium and reads the
room/web/enter answer the page's scripts receive."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from scrapy import Request
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.browser import Answer
from crawler.endpoints import DOUYIN_LIVE, live_room
from crawler.parsers.douyin_live import LIVE, parse_enter
from crawler.spiders.douyin_base import LIVE_QUERY, DouyinSpider


class DouyinLiveSpider(DouyinSpider):
    """Observations of one live room: one, or one every `every` seconds until the room goes
    off the air (or `duration` seconds have passed, if given)."""

    name = "douyin_live"

    def __init__(
        self, web_rid: str = "", every: str | float = 0, duration: str | float = 0, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.web_rid = str(web_rid).strip()
        if not self.web_rid.isdigit():
            raise ValueError("douyin_live needs web_rid=N (the number in live.douyin.com/<N>)")
        self.every, self.duration = float(every), float(duration)
        if self.every < 0 or self.duration < 0 or (self.duration and not self.every):
            raise ValueError("douyin_live takes every= (seconds), and duration= only with it")
        self.crawl_args = {"web_rid": self.web_rid, "every": self.every, "duration": self.duration}
        self.extra_counts = {"observations": 0, "off_air": 0}
        self.on_air = True
        self.polls_due = 0  # room requests sent and not answered yet (retries included)

    async def start(self) -> AsyncIterator[Request]:
        referer = f"{self.settings.get(DOUYIN_LIVE.site).rstrip('/')}/{self.web_rid}"
        query = {**LIVE_QUERY, "web_rid": self.web_rid}
        ends = time.monotonic() + (self.duration or math.inf)
        while True:
            if self.browser:
                yield self.page_request(referer, self.read_room, {}, (DOUYIN_LIVE.path,))
            else:
                self.polls_due += 1
                yield self.douyin_request(
                    DOUYIN_LIVE, query, self.answered, {}, referer, errback=self.poll_failed
                )
            if not self.every or time.monotonic() + self.every > ends:
                return
            await asyncio.sleep(self.every)
            # an answer slower than `every` (a page loading, a request retried, a busy machine)
            # decides whether to look again, and two polls in flight could be stamped out of
            # order: one poll at a time, the last one's page read or its answer in
            while self.pages_open or self.polls_due:
                await asyncio.sleep(0.05)
            if not self.on_air:
                return

    def read_room(self, response: Response) -> AsyncIterator[Any]:
        """The room's page in the browser: the room's state from the first answer it gets."""
        read = False

        def observe(answer: Answer) -> Iterator[Any]:
            nonlocal read
            if dict(parse_qsl(urlsplit(answer.url).query)).get("web_rid") == self.web_rid:
                read = True
                yield from self.parse(self.answer_response(answer, {}))

        return self.read_page(response, observe, lambda: read)

    def answered(self, response: Response) -> Iterator[Any]:
        """The answer to a poll of the room's API."""
        self.polls_due -= 1
        yield from self.parse(response)

    def poll_failed(self, failure: Failure) -> Iterator[Any]:
        """A poll of the room's API that failed for good."""
        self.polls_due -= 1
        yield from self.request_failed(failure)

    def parse(self, response: Response) -> Iterator[Any]:
        room = yield from self._parsed(response, parse_enter, f"live room {self.web_rid}")
        if room is None:
            return
        self.extra_counts["observations"] += 1
        yield live_room(room, self.web_rid)
        if room.status != LIVE:
            self.on_air = False
            self.extra_counts["off_air"] = 1
