"""The store pipeline: every item a spider yields goes into the SQLite store, in batches.

It also records the crawl (start, end, status, why it stopped, counts) and keeps each response
body, so the crawl can be audited and rows rebuilt from what was fetched.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.http import Request, Response

from crawler.items import AccountItem, CommentItem, HotSearchItem, PostItem, RejectItem
from crawler.middlewares import fetched_at
from crawler.pseudonyms import Pseudonymizer
from smcat.store import Store, WriteResult

log = logging.getLogger(__name__)
BATCH = 500
_STATUS_BY_REASON = {"finished": "finished", "shutdown": "interrupted", "cancelled": "interrupted"}


class StorePipeline:
    """Writes items to the store named by the SMCAT_DB setting, one crawl record per run."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.db_path = crawler.settings.get("SMCAT_DB")
        self.keep_raw = crawler.settings.getbool("SMCAT_KEEP_RAW", True)
        self.store: Store | None = None
        self.crawl_id: int | None = None
        self.posts: list[dict[str, Any]] = []
        self.accounts: list[AccountItem] = []
        self.comments: list[dict[str, Any]] = []
        self.hot_search: list[HotSearchItem] = []
        self.seen: set[tuple[str, ...]] = set()
        salt = crawler.settings.get("SMCAT_PSEUDONYM_SALT")
        self.pseudonymizer = (
            Pseudonymizer(salt) if crawler.settings.getbool("SMCAT_PSEUDONYMIZE") else None
        )
        self.written = WriteResult()
        self.duplicates = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        pipeline = cls(crawler)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(pipeline.response_received, signal=signals.response_received)
        return pipeline

    def open_spider(self) -> None:
        spider = self.crawler.spider
        self.store = Store.open(self.db_path)
        self.crawl_id = self.store.start_crawl(spider.name, getattr(spider, "crawl_args", {}))
        spider.crawl_id = self.crawl_id

    def process_item(self, item: Any) -> Any:
        if isinstance(item, PostItem | CommentItem):
            # met twice in one crawl (paging shifted under us): observed once
            key = (
                type(item).__name__,
                item.platform,
                getattr(item, "post_id", ""),
                getattr(item, "comment_id", ""),
            )
            if key in self.seen:
                self.duplicates += 1
                return item
            self.seen.add(key)
            if isinstance(item, PostItem):
                self.posts.append(asdict(item))
            else:
                self.comments.append(self._comment_row(item))
        elif isinstance(item, HotSearchItem):
            self.hot_search.append(item)
        elif isinstance(item, AccountItem):
            self.accounts.append(item)
        elif isinstance(item, RejectItem):
            self._store.reject(item.kind, item.reason, item.payload, crawl_id=self.crawl_id)
            self.written.rejected += 1
        else:
            raise TypeError(f"the store pipeline does not know {type(item).__name__}")
        if len(self.posts) + len(self.accounts) + len(self.comments) >= BATCH:
            self.flush()
        return item

    def _comment_row(self, item: CommentItem) -> dict[str, Any]:
        row = asdict(item)
        if self.pseudonymizer is not None:
            row["author_id"] = self.pseudonymizer.pseudonym(item.author_id)
            row["author_name"] = None
        return row

    def flush(self) -> None:
        """Write what is buffered."""
        store, crawl_id = self._store, self.crawl_id
        if self.accounts:
            accounts = [asdict(a) for a in self.accounts]
            self.written.add(store.upsert_accounts(accounts, crawl_id=crawl_id))
            self.accounts.clear()
        if self.posts:
            self.written.add(store.upsert_posts(self.posts, crawl_id=crawl_id))
            self.posts.clear()
        if self.comments:
            self.written.add(store.upsert_comments(self.comments, crawl_id=crawl_id))
            self.comments.clear()
        if self.hot_search:
            rows = [asdict(entry) for entry in self.hot_search]
            self.written.add(store.add_hot_search(rows, crawl_id=crawl_id))
            self.hot_search.clear()

    def response_received(self, response: Response, request: Request, spider: Spider) -> None:
        if not self.keep_raw or self.store is None:
            return
        self.store.add_raw_response(
            url=response.url,
            status=response.status,
            fetched_at=fetched_at(response).isoformat(),
            body=response.body,
            content_type=response.headers.get("Content-Type", b"").decode("latin-1") or None,
            parser_version=getattr(spider, "parser_version", None),
            crawl_id=self.crawl_id,
        )

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.store is None:
            return
        self.flush()
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        counts = {
            "requests": stats.get("downloader/request_count", 0),
            "responses": stats.get("downloader/response_count", 0),
            "items": stats.get("item_scraped_count", 0),
            "stored": self.written.stored,
            "rejected": self.written.rejected,
            "duplicates": self.duplicates,
            "errors": stats.get("log_count/ERROR", 0),
            **getattr(spider, "extra_counts", {}),
        }
        stop_reason = getattr(spider, "stop_reason", None)
        status = _STATUS_BY_REASON.get(reason, "stopped")
        if status == "finished" and stop_reason:
            status = "stopped"
        self.store.finish_crawl(self.crawl_id, status, stop_reason or reason, counts)
        self.store.close()
        self.store = None

    @property
    def _store(self) -> Store:
        if self.store is None:
            raise RuntimeError("the store pipeline is not open")
        return self.store
