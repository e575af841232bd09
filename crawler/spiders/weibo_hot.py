"""weibo_hot: Weibo's hot-search list (weibo.com ajax/side/hotSearch) into hot_search, once or
every N seconds for a while, to build the hot-word time series the effect models use."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy import Request
from scrapy.http import Response

from crawler.endpoints import WEIBO_HOT
from crawler.items import RejectItem
from crawler.parsers.weibo_hot import parse_hot_search
from crawler.spiders.base import WeiboSpider


class WeiboHotSpider(WeiboSpider):
    """Snapshots of the hot-search list: one, or one every `every` seconds for `duration`."""

    name = "weibo_hot"

    def __init__(self, every: str | float = 0, duration: str | float = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.every, self.duration = float(every), float(duration)
        if self.every < 0 or self.duration < 0 or bool(self.every) != bool(self.duration):
            raise ValueError("weibo_hot takes every= and duration= (seconds) together, or neither")
        self.crawl_args = {"every": self.every, "duration": self.duration}
        self.extra_counts = {"snapshots": 0}

    async def start(self) -> AsyncIterator[Request]:
        url = self.endpoint_url(WEIBO_HOT)
        headers = {"Referer": f"{self.settings.get('WEIBO_URL')}/", "Accept": "application/json"}
        ends = time.monotonic() + self.duration
        while True:
            # every snapshot is its own request: the same URL must not be filtered as a repeat
            yield Request(url, callback=self.parse, errback=self.request_failed,
                          headers=headers, dont_filter=True)  # fmt: skip
            if not self.every or time.monotonic() + self.every > ends:
                return
            await asyncio.sleep(self.every)

    def parse(self, response: Response) -> Iterator[Any]:
        items = yield from self._parsed(response, parse_hot_search, "hot search")
        if items is not None:
            self.extra_counts["snapshots"] += 1
            rejects = [item for item in items if isinstance(item, RejectItem)]
            self.all_rejected([item for item in items if not isinstance(item, RejectItem)], rejects)
            yield from items
