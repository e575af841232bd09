"""The store pipeline: every item a spider yields goes into the SQLite store, in batches.

It also records the crawl (start, end, status, why it stopped, counts) and keeps each response
body, so the crawl can be audited and rows rebuilt from what was fetched.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from contextlib import suppress
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.http import Request, Response
from scrapy.utils.defer import deferred_from_coro

from crawler.endpoints import match
from crawler.items import Checkpoint, Item
from crawler.middlewares import NO_RAW, fetched_at
from crawler.pseudonyms import Pseudonymizer
from crawler.spiders.base import SmcatSpider
from crawler.writer import ItemWriter
from smcat.store import FINISHED, FINISHED_WITH_REJECTS, Store, StoreFull

DISK_FULL = (
    "the disk holding the database is full: free space on it, then run the same command"
    " with --resume"
)
_STATUS_BY_REASON = {"finished": FINISHED, "shutdown": "interrupted", "cancelled": "interrupted"}


class StorePipeline:
    """Writes items to the store named by the SMCAT_DB setting, one crawl record per run."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.db_path = crawler.settings.get("SMCAT_DB")
        self.keep_raw = crawler.settings.getbool("SMCAT_KEEP_RAW", True)
        self.store: Store | None = None
        self.crawl_id: int | None = None
        self.writer: ItemWriter | None = None
        self.counts_before: dict[str, int] = {}  # of the runs of a crawl this one resumes
        self.full = False  # the disk is full: the crawl is stopping
        salt = crawler.settings.get("SMCAT_PSEUDONYM_SALT")
        self.pseudonymizer = (
            Pseudonymizer(salt) if crawler.settings.getbool("SMCAT_PSEUDONYMIZE") else None
        )

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        pipeline = cls(crawler)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(pipeline.response_received, signal=signals.response_received)
        return pipeline

    def open_spider(self) -> None:
        spider = _smcat_spider(self.crawler.spider)
        self.store = Store.open(self.db_path)
        if spider.resume_crawl_id is not None:
            resumed = self.store.crawl(spider.resume_crawl_id)
            self.counts_before = resumed.counts if resumed is not None else {}
            self.store.reopen_crawl(spider.resume_crawl_id)
            self.crawl_id = spider.resume_crawl_id
        else:
            self.crawl_id = self.store.start_crawl(spider.name, spider.crawl_args)
        self.writer = ItemWriter(self.store, self.crawl_id, self.pseudonymizer)
        spider.crawl_id = self.crawl_id

    def process_item(self, item: Item) -> Item:
        if self.writer is None or self.store is None or self.crawl_id is None:
            raise RuntimeError("the store pipeline is not open")
        if self.full:  # stopping: the item is fetched again on --resume
            return item
        try:
            stored = self.writer.add(item)
            if isinstance(item, Checkpoint):
                # a run killed outright never closes: its counts so far go with its
                # checkpoints, for the run that resumes it to add to
                self.store.save_counts(self.crawl_id, self._counts())
            return stored
        except StoreFull:
            self._stop_when_full()
            return item

    def _counts(self) -> dict[str, int]:
        """The crawl's counts so far: this run's, added to those of the runs it resumes."""
        if self.writer is None:
            raise RuntimeError("the store pipeline is not open")
        spider = _smcat_spider(self.crawler.spider)
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        counts = {
            "requests": stats.get("downloader/request_count", 0),
            "responses": stats.get("downloader/response_count", 0),
            "items": stats.get("item_scraped_count", 0),
            "stored": self.writer.written.stored,
            "rejected": self.writer.written.rejected,
            "duplicates": self.writer.duplicates,
            "errors": stats.get("log_count/ERROR", 0),
            **spider.extra_counts,
        }
        return added_up(self.counts_before, counts, spider.totals)

    def response_received(self, response: Response, request: Request, spider: Spider) -> None:
        if self.store is None or self.full:
            return
        fields = raw_response_fields(response, request, spider, keep_raw=self.keep_raw)
        if fields is None:
            return
        try:
            self.store.add_raw_response(**fields, crawl_id=self.crawl_id)
        except StoreFull:
            self._stop_when_full()

    def _stop_when_full(self) -> None:
        """Close the crawl at once: with the disk full, no later page could be stored."""
        if not self.full:
            self.full = True
            _smcat_spider(self.crawler.spider).stop_reason = DISK_FULL
            if self.crawler.engine is not None:
                deferred_from_coro(self.crawler.engine.close_spider_async(reason="disk_full"))

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.store is None or self.writer is None or self.crawl_id is None:
            return
        spider = _smcat_spider(spider)
        try:
            self.writer.flush()
        except StoreFull:
            spider.stop_reason = DISK_FULL
        # on a full disk the crawl stays "running", which --resume takes up as it does "stopped"
        with suppress(StoreFull):
            counts = self._counts()
            record_end(self.store, self.crawl_id, spider, reason, spider.stop_reason, counts)
        self.store.close()
        self.store = None


def raw_response_fields(
    response: Response, request: Request, spider: Spider, *, keep_raw: bool
) -> dict[str, Any] | None:
    """What raw_responses keeps of a response, as `Store.add_raw_response`'s arguments (less
    the crawl id); None where nothing is kept: raw bodies switched off (`keep_raw`, the
    SMCAT_KEEP_RAW setting), a pseudonymised crawl, a request whose meta says NO_RAW. The
    local pipeline and the cluster's workers both keep what this gives."""
    if not (keep_raw and _smcat_spider(spider).keep_raw) or request.meta.get(NO_RAW):
        return None
    content_type = (response.headers.get("Content-Type") or b"").decode("latin-1") or None
    return {
        "url": response.url,
        "status": response.status,
        "fetched_at": fetched_at(response).isoformat(),
        "body": response.body,
        "content_type": content_type,
        "parser_version": _parser_version(response.url),
    }


def record_end(
    store: Store,
    crawl_id: int,
    spider: SmcatSpider,
    reason: str,
    stop_reason: str | None,
    counts: Mapping[str, int],
) -> str:
    """Record how a crawl ended and return its status: `reason` is Scrapy's close reason
    ("finished", "shutdown", ...), `stop_reason` the first problem, if any. A crawl that
    finished with nothing rejected moves its accounts' crawled-up-to marks. The local pipeline
    and the cluster's ingester both end crawls through this."""
    status = _STATUS_BY_REASON.get(reason, "stopped")
    if status == FINISHED and stop_reason:
        status = "stopped"
    elif status == FINISHED and counts.get("rejected"):
        # what was rejected, in this run or those it resumes, is missing: this must not read
        # as a clean crawl (the counts say how many; `db info` shows them beside the status)
        status = FINISHED_WITH_REJECTS
    store.finish_crawl(crawl_id, status, stop_reason or reason, counts)
    if status == FINISHED:
        _advance_marks(store, crawl_id, spider)
    return status


def _advance_marks(store: Store, crawl_id: int, spider: SmcatSpider) -> None:
    """Accounts' crawled-up-to marks, after a crawl that finished with nothing rejected."""
    record = store.crawl(crawl_id)
    if record is None or not isinstance(spider, _MarksAccounts):
        return
    known = store.crawled_up_to(spider.platform, spider.uids)
    marks = spider.completed_marks(datetime.fromisoformat(record.started_at), known)
    store.advance_crawled_up_to(spider.platform, marks, crawl_id)


def added_up(
    before: Mapping[str, int], now: Mapping[str, int], totals: Collection[str]
) -> dict[str, int]:
    """A resumed crawl's counts: this run's tallies added to the earlier runs'; the counts
    named in `totals` hold the crawl's whole figure already and are taken as they are now."""
    summed = {key: value if key in totals else value + before.get(key, 0)
              for key, value in now.items()}  # fmt: skip
    return {**summed, **{key: value for key, value in before.items() if key not in now}}


@runtime_checkable
class _MarksAccounts(Protocol):
    """A spider that can say up to when its accounts' posts are stored (weibo_user)."""

    platform: str
    uids: list[str]

    def completed_marks(self, started_at: datetime, known: dict[str, str]) -> dict[str, str]: ...


def _smcat_spider(spider: Spider | None) -> SmcatSpider:
    """The spider, which this pipeline expects to be one of smcat's."""
    if not isinstance(spider, SmcatSpider):
        raise TypeError(f"the store pipeline records smcat's spiders, not {spider!r}")
    return spider


def _parser_version(url: str) -> str | None:
    """The version of the parser that reads a response from this URL (None: none reads it, as
    a login page Weibo redirected to)."""
    matched = match(url)
    return matched[0].parser_version if matched else None
