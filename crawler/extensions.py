"""Progress of a crawl on stderr: pages fetched and items stored, shown only on a terminal."""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.status import Status
from scrapy import Spider, signals
from scrapy.crawler import Crawler


class Progress:
    """A one-line live status while a spider runs; nothing at all when stderr is not a TTY."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.pages = 0
        self.items = 0
        self.status: Status | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        extension = cls(crawler)
        if sys.stderr.isatty():
            crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
            crawler.signals.connect(extension.response_received, signal=signals.response_received)
            crawler.signals.connect(extension.item_scraped, signal=signals.item_scraped)
            crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        self.status = Status(self._line(spider), console=Console(stderr=True))
        self.status.start()

    def response_received(self, spider: Spider, **_: Any) -> None:
        self.pages += 1
        self._update(spider)

    def item_scraped(self, spider: Spider, **_: Any) -> None:
        self.items += 1
        self._update(spider)

    def spider_closed(self, spider: Spider) -> None:
        if self.status is not None:
            self.status.stop()

    def _update(self, spider: Spider) -> None:
        if self.status is not None:
            self.status.update(self._line(spider))

    def _line(self, spider: Spider) -> str:
        return f"{spider.name}: {self.pages} pages fetched, {self.items} items"
